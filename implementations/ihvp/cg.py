"""Conjugate gradients on the implicit matrix ``F = lambda I + G^T G / m``.

Hestenes and Stiefel 1952 (Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed.,
2003, Algorithm 6.18), one independent CG per column of ``V``, the ``k`` columns advanced
together so that each product with ``F`` is two GEMMs::

    Q = F P = lambda P + G^T (G P) / m,   alpha_j = (r_j^T r_j) / (p_j^T q_j),
    X += P alpha,  R -= Q alpha,  beta_j = (r_j'^T r_j') / (r_j^T r_j),  P = R + P beta

from ``X_0 = 0``: ``4 m d k`` flops per iteration for the product plus ``10 d k`` for the
updates; no setup and nothing stored beyond four ``d x k`` blocks, so each product costs
its iterations (``rel_error`` against time shows where the direct methods' ``O(m^2 d)``
setup pays). ``F`` has at most ``m + 1`` distinct eigenvalues (``lambda``, and ``lambda +
s_i^2 / m`` for the singular values ``s_i`` of ``G``), so in exact arithmetic CG ends in at
most ``m + 1`` iterations (Saad, section 6.11.3); its ``F``-norm error falls at least like
``2 ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^t``, ``kappa = 1 + s_1^2 / (m lambda)``, and
much faster when the spectrum of ``G`` decays (the small ``s_i`` sit in the cluster at
``lambda``). A column stops when ``||r_j|| <= tol ||v_j||``; the method stops when all have,
or with a failure (the cell is ``inaccurate``) after ``max_iter`` iterations or when
``p^T F p <= 0`` (rounding at a huge ``kappa``).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, apply_fisher, check_damping

#: the relative residual CG stops at, per dtype (``tol: 0``)
DEFAULT_TOL = {torch.float64: 1e-10, torch.float32: 1e-5}

PARAMS = {
    "tol": Param(float, 0.0, min=0.0, doc="relative residual per column to stop at (0: 1e-10 float64, 1e-5 float32)"),
    "max_iter": Param(int, 1000, min=1, doc="iteration cap (one product with F per iteration)"),
}


def stop_tolerance(tol: float, dtype: torch.dtype) -> float:
    return float(tol) if tol > 0 else DEFAULT_TOL.get(dtype, 1e-5)


def block_cg(G: torch.Tensor, lam: float, V: torch.Tensor, tol: float, max_iter: int,
             callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """``k`` independent CGs on ``F X = V`` from 0 (module docstring)."""
    X = torch.zeros_like(V)
    R = V.clone()
    P = R.clone()
    rr = (R * R).sum(0)
    rr0 = rr.clone()
    target = (stop_tolerance(tol, V.dtype) ** 2) * rr0
    active = rr > target
    steps, failure = 0, None
    while steps < max_iter and bool(active.any()):
        Q = apply_fisher(G, lam, P)
        pq = (P * Q).sum(0)
        if bool((pq[active] <= 0).any()):
            failure = f"CG broke down at iteration {steps}: p^T F p <= 0 in {V.dtype} (kappa(F) too large)"
            break
        # converged columns get alpha = beta = 0: they stay put while the others go on
        alpha = torch.where(active, rr / torch.where(active, pq, 1.0), 0.0)
        X.addcmul_(P, alpha)  # in place: the d x k updates, not the products, bound an iteration
        R.addcmul_(Q, alpha, value=-1.0)
        rr_next = (R * R).sum(0)
        beta = torch.where(active, rr_next / torch.where(active, rr, 1.0), 0.0)
        P.mul_(beta).add_(R)
        rr = torch.where(active, rr_next, rr)
        active = rr > target
        steps += 1
        if callback is not None:
            callback(X.clone())
    if failure is None and bool(active.any()):
        worst = float((rr[active] / rr0[active]).max())
        failure = (f"did not reach the tolerance {stop_tolerance(tol, V.dtype):g} in {max_iter} iterations: "
                   f"worst relative residual {worst ** 0.5:.3g}")
    return WithInfo(X, {"iterations": steps}, failure=failure)


@method("ihvp", "cg", kind="optimized", **TORCH, params=PARAMS, trace=True)
def cg(G: torch.Tensor, V: torch.Tensor, damping: float, history: Any = None, tol: float = 0.0,
       max_iter: int = 1000, callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """Conjugate gradients on ``F`` through products ``G^T (G P)``, all columns at once."""
    return block_cg(G, check_damping(damping), V, tol, max_iter, callback)
