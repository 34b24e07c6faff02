"""Sinkhorn-Newton-Sparse (Tang, Shavlovsky, Rahmanian, Tardini, Thekumparampil, Xiao and
Ying, "Accelerating Sinkhorn algorithm with sparse Newton iterations", ICLR 2024,
Algorithm 1).

Sinkhorn maximizes the concave Lyapunov potential (here in units of ``reg``, ``F = f /
reg``, ``G = g / reg``; the paper's ``-1`` in the exponent is a shift of ``F``)

    L(F, G) = <a, F> + <b, G> - sum_ij P_ij,    P_ij = exp(F_i + G_j - C_ij / reg),

by exact block ascent; its gradient is the marginal residual ``(a - P 1, b - P^T 1)`` and
its negative Hessian ``[[diag(P 1), P], [P^T, diag(P^T 1)]]``. Two stages:

1. ``warmup`` log-domain Sinkhorn iterations (:mod:`.log_domain`; the paper's ``N_1``);
2. Newton steps: ``M = Sparsify(-Hessian, rho)`` keeps the diagonal and the largest
   ``ceil(density n m)`` entries of ``P`` (``density = 2 / min(n, m)`` by default, the
   paper's ``lambda = 2 / n`` for ``n x n``), a matrix that stays diagonally dominant
   hence positive definite; ``dz`` solves ``M dz = grad`` by conjugate gradients
   (Jacobi-preconditioned, to a relative residual ``cg_tol`` or ``cg_max`` products);
   ``z <- z + alpha dz`` with ``alpha`` from backtracking (``HALVINGS`` halvings from
   ``min(1, STEP / max |dz|)``: far from the optimum a column with little mass gets a
   huge step, ``(b_j - c_j) / c_j``, where its Sinkhorn update is ``log(b_j / c_j)``):
   the Armijo condition on ``L``,
   or, where the change of ``L`` is below its rounding (float32 near the optimum), a
   lower marginal error. A step whose line search fails is replaced by one Sinkhorn
   iteration (which always increases ``L``). The error may rise during the damped
   phase (for a dozen steps, measured), so the no-new-low rule of :mod:`._common` waits
   ``3 PATIENCE`` Newton steps here before it calls a stall (the rounding floor, or a
   sparsified Hessian too poor to gain: measured on token embeddings at the default
   density in float64).

Per Newton step: one ``exp`` pass over ``P`` (``n m``), the selection of its largest
entries (``O(n m)``), CG at ``O(density n m)`` a product, and one ``exp`` pass per trial
step: ``O(n m)`` like a Sinkhorn iteration. The paper proves the approximate sparsity of
the Hessian after the warm-up (Theorem 1) and observes super-exponential convergence in
the Newton stage (not proven). ``iterations`` counts Sinkhorn and Newton steps alike;
the stopping rule (:mod:`._common`) is checked after every Newton step. One problem at a
time (each has its own sparsity pattern).
"""

from __future__ import annotations

import math

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import CHECK_EVERY, PATIENCE, TORCH, Stopping, l1
from .task import tolerance
from .log_domain import log_plan, sweeps

ARMIJO = 1e-4
HALVINGS = 20
#: the first trial step changes no potential by more than this (units of reg: e^4 on a scaling)
STEP = 4.0


def pcg(matvec, rhs: torch.Tensor, diag: torch.Tensor, tol: float, steps: int) -> torch.Tensor:
    """Jacobi-preconditioned conjugate gradients for ``M x = rhs`` from 0."""
    x = torch.zeros_like(rhs)
    r = rhs.clone()
    z = r / diag
    p = z.clone()
    rz = float(r @ z)
    stop = (tol * float(torch.linalg.vector_norm(rhs))) ** 2
    for _ in range(steps):
        q = matvec(p)
        alpha = rz / float(p @ q)
        x.add_(p, alpha=alpha)
        r.add_(q, alpha=-alpha)
        if float(r @ r) <= stop:
            break
        z = r / diag
        rz, rz_old = float(r @ z), rz
        p = z + (rz / rz_old) * p
    return x


def sparse_hessian(P: torch.Tensor, row: torch.Tensor, col: torch.Tensor, keep: int):
    """The product with ``[[diag(row), S], [S^T, diag(col)]]``, ``S`` the ``keep`` largest
    entries of ``P`` (the full ``row``, ``col`` sums on the diagonal)."""
    n, m = P.shape
    vals, idx = torch.topk(P.reshape(-1), keep, sorted=False)
    i, j = idx // m, idx % m

    def matvec(z: torch.Tensor) -> torch.Tensor:
        x, y = z[:n], z[n:]
        top = row * x + torch.zeros_like(x).index_add_(0, i, vals * y[j])
        bottom = col * y + torch.zeros_like(y).index_add_(0, j, vals * x[i])
        return torch.cat([top, bottom])

    return matvec


@method("sinkhorn", "sns", kind="optimized", **TORCH, params={
    "warmup": Param(int, 20, min=0, doc="Sinkhorn iterations before the Newton stage (the paper's N_1)"),
    "density": Param(float, 0.0, min=0.0, max=1.0,
                     doc="fraction of the plan's entries the sparsified Hessian keeps (0: 2 / min(n, m))"),
    "cg_tol": Param(float, 1e-6, min=0.0, doc="relative residual of the conjugate gradient solve"),
    "cg_max": Param(int, 200, min=1, doc="conjugate gradient products per Newton step, at most"),
    "check_every": CHECK_EVERY,
})
def sns(a: torch.Tensor, b: torch.Tensor, C: torch.Tensor, reg: float, tol: float = 1e-7, max_iter: int = 1000,
        warmup: int = 20, density: float = 0.0, cg_tol: float = 1e-6, cg_max: int = 200,
        check_every: int = 10) -> WithInfo:
    """Sinkhorn warm-up, then sparsified Newton steps with line search (module docstring)."""
    n, m = C.shape
    Cr = C / reg
    stop = Stopping(tolerance(tol, C.dtype), max_iter)
    F, G, t = sweeps(Cr, a, b, torch.zeros_like(b), min(warmup, max_iter), stop, check_every)
    keep = min(n * m, math.ceil((density or 2.0 / min(n, m)) * n * m))
    P = log_plan(F, G, Cr)
    value = float(a @ F + b @ G - P.sum())
    rounding = 8 * torch.finfo(C.dtype).eps
    stop.stall = False  # a damped Newton phase may raise the marginal error on its way
    failed, patience = 0, 3 * PATIENCE
    while not stop.reason:
        row, col = P.sum(dim=1), P.sum(dim=0)
        err = max(l1(row - a), l1(col - b))
        grad = torch.cat([a - row, b - col])
        step = pcg(sparse_hessian(P, row, col, keep), grad, torch.cat([row, col]), cg_tol, cg_max)
        dF, dG = step[:n], step[n:]
        slope = float(grad @ step)
        scale = rounding * (abs(value) + float(a @ F.abs() + b @ G.abs()) + 1.0)
        alpha, accepted = min(1.0, STEP / max(float(step.abs().max()), 1e-300)), False
        for _ in range(HALVINGS):
            F_new, G_new = F + alpha * dF, G + alpha * dG
            P_new = log_plan(F_new, G_new, Cr)
            new_value = float(a @ F_new + b @ G_new - P_new.sum())
            if new_value >= value + ARMIJO * alpha * slope and new_value > value - scale:
                accepted = True
            elif abs(new_value - value) <= scale:  # L cannot tell: the marginal error decides
                accepted = max(l1(P_new.sum(dim=1) - a), l1(P_new.sum(dim=0) - b)) < err
            if accepted:
                break
            alpha /= 2
        failed = 0 if accepted else failed + 1
        if accepted:
            F, G, P, value = F_new, G_new, P_new, new_value
        else:  # no Newton step helps: one Sinkhorn iteration instead
            F, G, _ = sweeps(Cr, a, b, G, 1)
            P = log_plan(F, G, Cr)
            value = float(a @ F + b @ G - P.sum())
        t += 1
        if stop.update(l1(P.sum(dim=1) - a), l1(P.sum(dim=0) - b), t) or len(stop.errors) <= patience:
            continue
        if min(stop.errors[-patience:]) >= min(stop.errors[:-patience]):
            stop.stalled(t, f"no new low of the error in {patience} Newton steps ({failed} failed line searches "
                            "in a row at the end: the rounding floor, or a Hessian too sparse to gain)")
    return WithInfo(P, {"iterations": t}, stop.failure)
