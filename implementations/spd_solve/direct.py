"""Cholesky in the cell's dtype, and mixed-precision iterative refinement.

- ``torch_cholesky`` (baseline: ``torch.linalg.cholesky`` + ``torch.cholesky_solve``):
  ``A = L L^T`` by LAPACK's ``potrf`` (cuSOLVER on CUDA), ``n^3 / 3`` flops, then two
  triangular solves (``2 n^2``). Backward stable: the computed ``x`` solves ``(A + dA) x =
  b`` with ``||dA|| <= c n u ||A||`` (Higham, *Accuracy and Stability of Numerical
  Algorithms*, 2nd ed., 2002, Theorem 10.4), so its error is about ``n u kappa(A)``. This
  is also the issue's "Cholesky in the cell's dtype": a hand-written factorization would
  only be slower than LAPACK's blocked one. Dense only; it reads ``A.matrix``.
- ``mixed_refine``: factor once in float32, refine in float64 (Wilkinson 1948; Moler
  1967; Higham, section 12.1; Carson and Higham, SIAM J. Sci. Comput. 40(2), 2018)::

      L = chol(fl32(A)),  x = L^-T L^-1 b
      repeat:  r = b - A x (float64, one product),  d = L^-T L^-1 r (float32),  x += d

  costs ``n^3 / 3`` float32 flops (twice the float64 rate on CPUs, far more on GPUs)
  and ``4 n^2`` per step. Each step contracts the error by about ``kappa(A) u_32``
  (``u_32 = 6e-8``): it reaches float64 accuracy in a few steps when ``kappa(A)`` is
  well below ``1/u_32 = 1.7e7``; the float32 factorization itself fails when ``kappa(A)``
  approaches it (reported). Stops at ``tol``, after ``budget`` refinement steps, or when a
  step shrinks the residual by less than half (Higham, section 12.1: the error no longer
  contracts).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from matrixbench.registry import WithInfo, method

from .reference import cholesky_flops
from .task import stop_tolerance

DENSE = dict(backends=("torch",), devices=("cpu", "cuda"))

#: refinement stops when a step shrinks the residual by less than this factor: the error
#: then contracts no more (it is at float64's rounding level, or kappa(A) u_32 >= 1)
STAGNATION = 0.5


@method("spd_solve", "torch_cholesky", kind="baseline", **DENSE, dtypes=("float32", "float64"), flops=cholesky_flops)
def torch_cholesky(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0) -> WithInfo:
    """``cholesky_solve(b, cholesky(A))`` in the cell's dtype."""
    L, info = torch.linalg.cholesky_ex(A.matrix)
    if int(info):
        return WithInfo(torch.zeros_like(b), {"iterations": 0},
                        failure=f"Cholesky failed in {b.dtype}: leading minor {int(info)} is not positive definite")
    return WithInfo(torch.cholesky_solve(b[:, None], L)[:, 0], {"iterations": 0})


@method("spd_solve", "mixed_refine", kind="optimized", **DENSE, dtypes=("float64",), flops=cholesky_flops,
        trace=True)
def mixed_refine(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0,
                 callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """Cholesky in float32, iterative refinement of the residual in float64."""
    L, info = torch.linalg.cholesky_ex(A.matrix.to(torch.float32))
    if int(info):
        return WithInfo(torch.zeros_like(b), {"iterations": 0},
                        failure=(f"the float32 Cholesky failed (leading minor {int(info)}): kappa(A) is too large "
                                 "for a float32 factorization"))

    def solve32(r: torch.Tensor) -> torch.Tensor:
        return torch.cholesky_solve(r.to(torch.float32)[:, None], L)[:, 0].to(b.dtype)

    target = stop_tolerance(tol, b.dtype) * float(torch.linalg.vector_norm(b))
    x = solve32(b)
    steps, previous = 0, math.inf
    while steps < budget:
        if callback is not None:
            callback(x.clone())
        r = b - A @ x
        norm = float(torch.linalg.vector_norm(r))
        if norm <= target or norm > STAGNATION * previous:
            break  # converged, or at float64's rounding level (the residual stopped shrinking)
        x = x + solve32(r)
        steps, previous = steps + 1, norm
    return WithInfo(x, {"iterations": steps})
