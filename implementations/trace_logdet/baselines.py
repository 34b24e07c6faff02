"""Third-party estimators: curvlinops (Hutchinson, Hutch++, XTrace) and GPyTorch's log det.

- ``curvlinops-for-pytorch`` (Dangel et al., github.com/f-dangel/curvlinops): the trace
  estimators of ``curvlinops.trace`` on our operator wrapped as a curvlinops
  ``PyTorchLinearOperator`` (every product still counted). They draw probes from torch's
  global generator, which is seeded with the method's ``seed``; they refuse a budget that
  is not below ``n``.
- GPyTorch / ``linear_operator`` (Gardner et al., NeurIPS 2018): ``logdet`` by its own
  stochastic Lanczos quadrature (Lanczos tridiagonals recovered from modified batched
  conjugate gradients), with ``num_trace_samples`` probes and at most
  ``max_lanczos_quadrature_iterations`` steps; Cholesky and the pivoted-Cholesky
  preconditioner are switched off (both would read entries, not products). Its products
  are counted, whatever the budget says: GPyTorch's CG runs until its own tolerance.

A package that is not installed skips its methods with the install command as the reason.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import SEED, TORCH, trace_only
from .task import budget_flops

CURVLINOPS = "curvlinops"


def _curvlinops_operator(A: Any) -> Any:
    from curvlinops._torch_base import PyTorchLinearOperator

    class Counted(PyTorchLinearOperator):
        SELF_ADJOINT = True

        def __init__(self) -> None:
            super().__init__([(A.n,)], [(A.n,)])

        def _matmat(self, X: list[torch.Tensor]) -> list[torch.Tensor]:
            return [A @ X[0]]

        @property
        def device(self) -> torch.device:
            return torch.device(A.device)

        @property
        def dtype(self) -> torch.dtype:
            return A.dtype

    return Counted()


def _curvlinops(name: str, A: Any, budget: int, seed: int, **kwargs: Any) -> torch.Tensor:
    import curvlinops as estimators

    torch.manual_seed(seed)  # curvlinops draws from the global generator
    return getattr(estimators, name)(_curvlinops_operator(A), budget, **kwargs)


CURVLINOPS_COMMON = dict(kind="baseline", **TORCH, requires=(CURVLINOPS,), flops=budget_flops, applies=trace_only)


@method("trace_logdet", "curvlinops_hutchinson", **CURVLINOPS_COMMON, params={"seed": SEED})
def curvlinops_hutchinson(A: Any, quantity: str = "trace", budget: int = 100, seed: int = 0) -> torch.Tensor:
    """``curvlinops.trace.hutchinson_trace`` (Rademacher probes)."""
    return _curvlinops("hutchinson_trace", A, budget, seed)


@method("trace_logdet", "curvlinops_hutchpp", **CURVLINOPS_COMMON, params={"seed": SEED})
def curvlinops_hutchpp(A: Any, quantity: str = "trace", budget: int = 100, seed: int = 0) -> torch.Tensor:
    """``curvlinops.trace.hutchpp_trace`` with the largest multiple of 3 within the budget (it asks for one)."""
    return _curvlinops("hutchpp_trace", A, budget - budget % 3, seed)


@method("trace_logdet", "curvlinops_xtrace", **CURVLINOPS_COMMON, params={"seed": SEED})
def curvlinops_xtrace(A: Any, quantity: str = "trace", budget: int = 100, seed: int = 0) -> torch.Tensor:
    """``curvlinops.trace.xtrace`` with the largest even budget (it asks for one)."""
    return _curvlinops("xtrace", A, budget - budget % 2, seed)


def _gpytorch_operator(A: Any) -> Any:
    from linear_operator.operators import LinearOperator as GLinearOperator

    class Counted(GLinearOperator):
        def __init__(self, anchor: torch.Tensor) -> None:
            super().__init__(anchor)  # a tensor in the representation gives dtype and device

        def _matmul(self, rhs: torch.Tensor) -> torch.Tensor:
            return A @ rhs

        def _size(self) -> torch.Size:
            return torch.Size((A.n, A.n))

        def _transpose_nonbatch(self) -> "Counted":
            return self

    return Counted(torch.zeros(1, dtype=A.dtype, device=A.device))


def logdet_only(inputs: dict[str, Any], **_: Any) -> str | None:
    return "GPyTorch's SLQ estimates log det(A) only" if inputs["quantity"] != "logdet" else None


@method("trace_logdet", "gpytorch_logdet", kind="baseline", **TORCH, requires=("gpytorch",), flops=budget_flops,
        applies=logdet_only,
        params={"steps": Param(int, 15, min=1, doc="max_lanczos_quadrature_iterations; probes = budget // steps"),
                "seed": SEED})
def gpytorch_logdet(A: Any, quantity: str = "logdet", budget: int = 100, steps: int = 15, seed: int = 0) -> torch.Tensor:
    """``linear_operator``'s SLQ ``logdet`` (GPyTorch's settings; see the module docstring)."""
    import gpytorch

    torch.manual_seed(seed)
    probes = max(1, budget // steps)
    with gpytorch.settings.max_cholesky_size(0), gpytorch.settings.max_preconditioner_size(0), \
            gpytorch.settings.num_trace_samples(probes), gpytorch.settings.max_lanczos_quadrature_iterations(steps), \
            gpytorch.settings.deterministic_probes(False):
        return _gpytorch_operator(A).logdet()
