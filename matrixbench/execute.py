"""What happens to one cell inside the worker process.

generate the input (seeded, float64) -> the reference output (float64, cached on disk)
-> cast the inputs to the cell's backend, dtype and device -> time the call -> measure
its peak memory (one more call, whose output is scored) -> bring the output back to
float64 -> the task's metrics -> gates -> status.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import time
import traceback
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import registry
from .backends import all_finite, as_float64, has_sparse, nbytes, split_info, synchronizer, to_backend, to_float64
from .memory import cpu_peak, cuda_peak
from .plan import Cell, Problem
from .registry import WithInfo
from .timing import CpuTimer, CudaTimer, measure

_INPUTS: dict[str, dict[str, Any]] = {}
_REFERENCES: dict[str, Any] = {}


def problem_inputs(problem: Problem) -> dict[str, Any]:
    """The task's float64 inputs for ``problem``, generated once per worker."""
    if problem.key not in _INPUTS:
        gen = registry.GENERATORS[problem.generator]
        task = registry.TASKS[problem.task]
        matrix = gen.fn(np.random.default_rng(problem.seed), **dict(problem.params))
        _INPUTS.clear()  # cells come grouped by problem: keep one instance in memory
        _INPUTS[problem.key] = task.make_inputs(as_float64(matrix), **dict(problem.task_params))
    return _INPUTS[problem.key]


def reference_path(problem: Problem, cache_dir: Path) -> Path:
    """Cache file of the reference output: keyed by the problem and the code versions."""
    task = registry.TASKS[problem.task]
    ref = registry.METHODS[(problem.task, task.reference)]
    ident = json.dumps([problem.to_dict(), registry.GENERATORS[problem.generator].version, ref.version], sort_keys=True, default=str)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
    return cache_dir / "references" / problem.task / f"{digest}.pkl"


def ensure_reference(problem: Problem, cache_dir: Path) -> tuple[str, float]:
    """Compute the reference once (float64, CPU) unless cached; return (path, seconds)."""
    path = reference_path(problem, cache_dir)
    if path.exists():
        return str(path), 0.0
    task = registry.TASKS[problem.task]
    ref = registry.METHODS[(problem.task, task.reference)]
    inputs = to_backend(problem_inputs(problem), ref.backend, "float64", "cpu")
    start = time.perf_counter()
    output, _ = split_info(ref.fn(**inputs))
    seconds = time.perf_counter() - start
    output = to_float64(output)
    if not all_finite(output):
        raise FloatingPointError("the reference output has NaN or Inf")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        pickle.dump(output, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
    return str(path), seconds


def load_reference(problem: Problem, cache_dir: Path) -> Any:
    path = reference_path(problem, cache_dir)
    if str(path) not in _REFERENCES:
        _REFERENCES.clear()
        with open(path, "rb") as f:
            _REFERENCES[str(path)] = pickle.load(f)  # noqa: S301 - our own cache file
    return _REFERENCES[str(path)]


def _error_reason(exc: BaseException) -> tuple[str, str]:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}", "".join(traceback.format_exception(exc))[-4000:]


def gate_failures(metrics: dict[str, float], gates: dict[str, float], task: registry.Task) -> list[str]:
    """Human-readable list of the gates that ``metrics`` miss."""
    failures = []
    for name, limit in gates.items():
        value = metrics.get(name)
        direction = task.metric(name).direction if task.metric(name) else "lower"
        if value is None:
            failures.append(f"{name} missing (gate {limit:.3g})")
        elif direction == "lower" and not value <= limit:
            failures.append(f"{name} {value:.3g} > gate {limit:.3g}")
        elif direction == "higher" and not value >= limit:
            failures.append(f"{name} {value:.3g} < gate {limit:.3g}")
    return failures


def set_threads(threads: int) -> dict[str, Any]:
    """Set torch and BLAS thread counts; return what is in force."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(threads)
    info: dict[str, Any] = {"requested": threads, "blas": [
        {"api": p.get("internal_api"), "threads": p.get("num_threads")} for p in threadpool_info()]}
    try:
        import torch

        # Only when it changes: in torch 2.13's CPU build any set_num_threads call (even
        # to the current value) breaks batched LU in MKL ("Parameter 6 was incorrect on
        # entry to SLASWP") and makes it crawl.
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        info["torch"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


@dataclass
class PreparedCell:
    """A cell ready to call: inputs cast and on the device, the reference loaded.

    ``call()`` runs the method once and synchronizes the device, so that whoever times it
    (this harness, pytest-benchmark) measures completed work; ``evaluate(output)`` scores
    an output and gives the cell's status, reason and metrics.
    """

    cell: Cell
    call: Callable[[], Any]
    inputs64: dict[str, Any]
    reference: Any
    input_bytes: int = 0  # of the inputs as the method gets them (its dtype; sparse as such)

    def flops(self) -> float | None:
        """The method's FLOP model; None without one, or when the model says the count is
        not known in advance (an iterative solver whose work depends on convergence)."""
        meth = self.cell.method_obj
        count = None if meth.flops is None else meth.flops(self.inputs64, **dict(self.cell.method_params))
        return None if count is None else float(count)

    def evaluate(self, output: Any) -> dict[str, Any]:
        """Status (ok, inaccurate, nan, error), reason and metrics of one output."""
        task = registry.TASKS[self.cell.problem.task]
        result: dict[str, Any] = {"status": "ok", "reason": "", "metrics": {}}
        failure = output.failure if isinstance(output, WithInfo) else None
        output, info = split_info(output)
        output = to_float64(output)
        if not all_finite(output):
            result["status"], result["reason"] = "nan", "the output has NaN or Inf entries"
            return result
        try:
            metrics = task.score(output, self.reference, self.inputs64)
        except Exception as exc:
            result["status"] = "error"
            result["reason"], result["traceback"] = _error_reason(exc)
            result["reason"] = "scoring failed: " + result["reason"]
            return result
        metrics = {k: float(v) for k, v in {**metrics, **info}.items()}
        result["metrics"] = metrics
        if any(not np.isfinite(v) for v in metrics.values()):
            result["status"], result["reason"] = "nan", "a metric is NaN or Inf: " + ", ".join(k for k, v in metrics.items() if not np.isfinite(v))
            return result
        failures = ([failure] if failure else []) + gate_failures(metrics, dict(self.cell.gates), task)
        if failures:
            result["status"], result["reason"] = "inaccurate", "; ".join(failures)
        return result


class CellSkipped(Exception):
    """The cell cannot run on this problem (the message says why): a ``skipped`` status."""


def prepare_cell(cell: Cell, cache_dir: Path) -> PreparedCell:
    """Generate the inputs, make sure the reference exists, cast to the cell's dtype and device.

    Raises :class:`CellSkipped` when the problem is sparse and the method takes dense
    inputs only: densifying it silently would time another problem.
    """
    meth = cell.method_obj
    inputs64 = problem_inputs(cell.problem)
    if has_sparse(inputs64) and not meth.sparse:
        raise CellSkipped(f"method {meth.name!r} takes dense inputs only and this problem is sparse")
    ensure_reference(cell.problem, cache_dir)
    inputs = to_backend(inputs64, meth.backend, cell.dtype, cell.device)
    params = dict(cell.method_params)
    sync = synchronizer(meth.backend, cell.device)

    def call() -> Any:
        out = meth.fn(**inputs, **params)
        sync()
        return out

    return PreparedCell(cell, call, inputs64, load_reference(cell.problem, cache_dir), nbytes(inputs))


def run_cell(cell: Cell, cache_dir: Path) -> dict[str, Any]:
    """Measure one cell; never raises for a method's failure (it becomes a status)."""
    result: dict[str, Any] = {"status": "ok", "reason": "", "metrics": {}, "time": None, "memory": None,
                              "flops": None, "gflops": None}
    try:
        prepared = prepare_cell(cell, cache_dir)
    except CellSkipped as exc:
        result["status"], result["reason"] = "skipped", str(exc)
        return result
    on_cuda = cell.device == "cuda"
    try:
        stats = measure(prepared.call, cell.timing, CudaTimer(cell.timing.cold) if on_cuda else CpuTimer())
        result["time"] = stats.to_dict()
        output, peak, how = (cuda_peak if on_cuda else cpu_peak)(prepared.call)
        result["memory"] = {"peak_bytes": peak, "method": how}
        # the least traffic any implementation needs: read the inputs, write the output
        result["io"] = {"input_bytes": prepared.input_bytes, "output_bytes": nbytes(output),
                        "sparse": has_sparse(prepared.inputs64)}
    except Exception as exc:  # the method raised: one cell's error, not the run's
        result["status"] = "error"
        result["reason"], result["traceback"] = _error_reason(exc)
        return result
    try:
        result["flops"] = prepared.flops()
        result["gflops"] = result["flops"] / stats.median / 1e9 if result["flops"] and stats.median > 0 else None
    except Exception as exc:
        result["flops_error"] = _error_reason(exc)[0]
    result.update(prepared.evaluate(output))
    return result
