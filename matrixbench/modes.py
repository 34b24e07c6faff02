"""Modes: how a cell's method is called, a cell axis beside backend, dtype and device.

- ``forward`` (the default, and absent from keys): the method as written.
- ``compile``: ``torch.compile(fn)`` (inductor), compiled afresh for the cell
  (``torch._dynamo.reset()`` first: past its cache limit dynamo falls back to eager
  without a word, which would time the wrong thing). The first call, compilation
  included, is timed apart and kept as ``compile.seconds``; the samples time the
  compiled function. A method that cannot be compiled is ``skipped`` with the reason.
- ``cuda_graph``: the call captured once into a CUDA graph (after warm-up calls on a side
  stream, as PyTorch's documentation prescribes) and replayed; CUDA only.
- ``backward``: the forward and the backward of the scalar loss ``<C, f(A)>`` with a
  fixed random cotangent ``C`` (symmetric for a symmetric output, seed 0), timed
  together; the gradient is scored against the task's float64 reference gradient
  (``Task.gradient``), as ``grad_rel_error``. Through autograd, or the method's own
  backward where it defines one (a ``torch.autograd.Function``).

A key names the mode after the device when it is not ``forward``:
``.../newton_schulz(iters=10)/torch/float64/cpu/backward``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

MODES = ("forward", "backward", "compile", "cuda_graph")
DEFAULT = "forward"
#: the backward mode's one metric (a suite may gate it, as ``gates: {grad_rel_error: ...}``)
GRAD_METRIC = "grad_rel_error"


def mode_gates(gates: Mapping[str, float], mode: str) -> dict[str, float]:
    """The gates that apply in ``mode``: the backward mode scores the gradient only, the
    other modes score the output (an entry with both gates runs both kinds of cells)."""
    if mode == "backward":
        return {k: v for k, v in gates.items() if k == GRAD_METRIC}
    return {k: v for k, v in gates.items() if k != GRAD_METRIC}


def key_suffix(mode: str) -> str:
    return "" if mode == DEFAULT else f"/{mode}"


def not_applicable(cell: Any) -> str | None:
    """Why the cell's mode cannot run this method, or None."""
    mode = getattr(cell, "mode", DEFAULT)
    if mode == DEFAULT:
        return None
    if cell.backend != "torch":
        return f"mode {mode!r} needs a torch method; this cell is {cell.backend}"
    if mode == "cuda_graph" and cell.device != "cuda":
        return "mode 'cuda_graph' runs on cuda only"
    if mode == "backward":
        from . import registry

        task = registry.TASKS[cell.problem.task]
        if task.gradient is None:
            return f"task {task.name!r} has no reference gradient (Task.gradient)"
        if cell.dtype not in ("float32", "float64"):
            return "mode 'backward' is scored in float32 and float64 only"
    return None


def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` through ``torch.compile``, with dynamo's caches cleared first."""
    import torch

    torch._dynamo.reset()
    return torch.compile(fn, dynamic=False)


def cuda_graph(call: Callable[[], Any]) -> Callable[[], Any]:
    """A replay of ``call`` captured into a CUDA graph (its output tensors are reused
    by every replay). Not verified on a GPU in this repository's CI."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):  # warm-up outside the capture: allocator, cuBLAS handles
            call()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = call()

    def replay() -> Any:
        graph.replay()
        torch.cuda.synchronize()
        return out

    return replay


def cotangent(shape: tuple[int, ...], symmetric: bool) -> np.ndarray:
    """The fixed float64 cotangent ``C`` of the backward mode (seed 0)."""
    C = np.random.default_rng(0).standard_normal(shape)
    if symmetric and len(shape) >= 2 and shape[-1] == shape[-2]:
        C = (C + np.swapaxes(C, -1, -2)) / 2
    return C


def backward_call(fn: Callable[..., Any], inputs: dict[str, Any], params: dict[str, Any], wrt: tuple[str, ...],
                  C: Any, sync: Callable[[], None]) -> Callable[[], Any]:
    """``call()``: forward, ``<C, output>``, backward; returns the gradients ``{name: dL/dname}``."""
    from .backends import split_info

    leaves = {name: inputs[name].detach().clone().requires_grad_(True) for name in wrt}

    def call() -> dict[str, Any]:
        for leaf in leaves.values():
            leaf.grad = None
        value, _ = split_info(fn(**{**inputs, **leaves}, **params))
        (value * C).sum().backward()
        sync()
        return {name: leaf.grad.detach() for name, leaf in leaves.items()}

    return call


def gradient_error(grads: dict[str, Any], reference: dict[str, np.ndarray]) -> float:
    """``max over inputs of ||g - g_ref||_F / ||g_ref||_F`` (float64)."""
    from .backends import to_float64

    worst = 0.0
    for name, ref in reference.items():
        g = to_float64(grads[name])
        worst = max(worst, float(np.linalg.norm(g - ref) / max(np.linalg.norm(ref), np.finfo(float).tiny)))
    return worst
