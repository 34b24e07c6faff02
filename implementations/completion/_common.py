"""What the completion methods share: the spectral start, the observed residual, the
stopping rule, seeded generators.

**Spectral start** (Keshavan, Montanari and Oh, "Matrix completion from a few entries",
IEEE Trans. Inf. Theory 2010; Jain, Netrapalli and Sanghavi, STOC 2013, Algorithm 2,
step 2): the top-``r`` SVD of ``P_Omega(M) / p``, ``p = |Omega| / (m n)``, an unbiased
estimate of ``M``; computed by randomized subspace iteration (Halko, Martinsson and
Tropp, SIAM Review 2011, Algorithm 4.4: ``q`` power steps on ``r + 10`` columns,
``(2 q + 2) m n (r + 10)`` flops).

**Stopping** (every iterative method): after each iteration the relative residual on the
observed entries ``rho_t = ||P_Omega(X_t) - observed||_F / ||observed||_F`` (``m n r``
flops for ``X_t = L R``). The method stops

- at ``rho_t <= tol`` (default ``100 eps`` of the dtype);
- when ``rho`` has stalled: ``|rho_t - rho_{t-1}| <= 1e-4 rho_{t-1}``, or no new best in
  5 iterations (it wanders at its rounding floor); a noise floor or a fixed point,
  reported as it is (a larger rise alone is no stall: the method goes on);
- with a failure (the cell is ``inaccurate``, the residual in the reason, never a silent
  answer) at ``max_iter``; when ``rho`` rises above 1 and ten times its best (divergence:
  a step too long, a dual ascent past its stable range); or when the estimate's norm is
  over ten times ``||observed||_F / sqrt(p)``, the norm of an unbiased estimate of ``M``:
  below the information limit a method can fit the observed entries exactly with a huge
  matrix, and only its size shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from implementations.common.random import seeded_generator as generator  # noqa: F401  (the methods' import)
from matrixbench.params import Param
from matrixbench.registry import WithInfo

#: backends, devices and dtypes of every completion method
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"), trace=True)
SEED = Param(int, 0, doc="seed of the randomized spectral start")
TOL = Param(float, 0.0, min=0.0, doc="stop when the observed relative residual is below this (0: 100 eps)")
STALL = 1e-4
PATIENCE = 5
#: a measure above 1 and this many times its best so far: the iteration diverges
DIVERGE = 10.0
#: an estimate this many times larger than the observed entries support is no recovery
BLOW_UP = 10.0

Callback = Callable[[Any], None] | None



def top_svd(A: torch.Tensor, r: int, gen: torch.Generator, power: int = 4,
            start: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``U_r, s_r, V_r`` of ``A`` by randomized subspace iteration (module docstring);
    ``start`` (``n x k``) replaces the Gaussian test matrix (a warm start)."""
    m, n = A.shape
    k = min(r + 10, m, n)
    G = start if start is not None else torch.randn(n, k, generator=gen, dtype=A.dtype, device=A.device)
    Q = torch.linalg.qr(A @ G).Q
    for _ in range(power):
        Q = torch.linalg.qr(A @ torch.linalg.qr(A.T @ Q).Q).Q
    U, s, Vh = torch.linalg.svd(Q.T @ A, full_matrices=False)
    return (Q @ U)[:, :r], s[:r], Vh[:r].T


def spectral_start(observed: torch.Tensor, mask: torch.Tensor, r: int, gen: torch.Generator
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Top-``r`` SVD of ``observed / p``."""
    p = float(mask.mean())
    return top_svd(observed / p, r, gen)


def relative_change(new: torch.Tensor, old: torch.Tensor) -> float:
    """``||new - old||_F / ||new||_F`` (0 when both are zero)."""
    norm = float(torch.linalg.vector_norm(new))
    diff = float(torch.linalg.vector_norm(new - old))
    return diff / norm if norm > 0 else (0.0 if diff == 0 else float("inf"))


def tolerance(tol: float, dtype: torch.dtype) -> float:
    return tol if tol > 0 else 100 * torch.finfo(dtype).eps


@dataclass
class Monitor:
    """The stopping rule of the module docstring; ``update`` returns True to stop."""

    observed: torch.Tensor
    mask: torch.Tensor
    tol: float
    max_iter: int
    callback: Callback = None
    residuals: list[float] = field(default_factory=list)
    stopped: str = ""

    def __post_init__(self) -> None:
        self.tol = tolerance(self.tol, self.observed.dtype)
        self.norm = float(torch.linalg.vector_norm(self.observed)) or 1.0

    def residual(self, X: torch.Tensor) -> float:
        return float(torch.linalg.vector_norm(self.mask * X - self.observed)) / self.norm

    def update(self, left: torch.Tensor, right: torch.Tensor, rho: float | None = None, settled: bool = True) -> bool:
        """Record iteration ``t`` of ``X = left @ right`` (``rho``: the method's own measure
        in place of the observed residual); True when the method should stop. Before a
        method has ``settled`` (a continuation path not at its end) a stall is no stop."""
        rho = self.residual(left @ right) if rho is None else rho
        if self.callback is not None:
            self.callback({"left": left, "right": right})
        previous = self.residuals[-1] if self.residuals else float("inf")
        self.residuals.append(rho)
        if rho != rho:  # NaN: stop at once; the engine reports the non-finite output
            self.stopped = "nan"
        elif rho <= self.tol:
            self.stopped = "tol"
        elif rho > max(1.0, DIVERGE * min(self.residuals)):
            self.stopped = "diverged"
        elif settled and self.residuals[:-1] and (abs(rho - previous) <= STALL * previous or self.no_progress()):
            self.stopped = "stall"
        elif len(self.residuals) >= self.max_iter:
            self.stopped = "cap"
        return bool(self.stopped)

    def no_progress(self) -> bool:
        """No new best (by a factor ``1 - STALL``) in the last ``PATIENCE`` iterations: the
        residual wanders at its floor (rounding makes it rise and fall there)."""
        if len(self.residuals) <= PATIENCE:
            return False
        return min(self.residuals[-PATIENCE:]) > (1 - STALL) * min(self.residuals[:-PATIENCE])

    def result(self, left: torch.Tensor, right: torch.Tensor) -> WithInfo:
        failure = None
        ratio = self.blow_up(left @ right)
        if self.stopped == "diverged":
            failure = (f"diverged: the stopping measure rose from {min(self.residuals):.2e} to "
                       f"{self.residuals[-1]:.2e} at iteration {len(self.residuals)}")
        elif self.stopped == "cap":
            failure = (f"did not converge in {self.max_iter} iterations: the stopping measure "
                       f"{self.residuals[-1]:.2e} was still falling (tol {self.tol:.1e})")
        elif ratio > BLOW_UP:
            failure = (f"the estimate's norm is {ratio:.0f} times what the observed entries support "
                       f"(||P_Omega(M)||_F / sqrt(p)): the samples do not determine a rank-r matrix here")
        return WithInfo({"left": left, "right": right}, {"iterations": len(self.residuals)}, failure)

    def blow_up(self, X: torch.Tensor) -> float:
        """``||X||_F`` over ``||observed||_F / sqrt(p)``, the norm an unbiased estimate of
        ``M`` has (``E ||P_Omega(M)||_F^2 = p ||M||_F^2`` under uniform sampling)."""
        p = float(self.mask.mean())
        return float(torch.linalg.vector_norm(X)) * p**0.5 / self.norm
