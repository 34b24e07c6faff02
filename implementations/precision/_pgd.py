"""Projected gradient for the (weighted-l1 penalized) Gaussian likelihood over M-matrices.

Problem, for a sample covariance ``S`` and symmetric weights ``Lambda >= 0`` (zero
diagonal)::

    minimize  f(T) = -log det T + tr(S T) + sum_{i != j} Lambda_ij |T_ij|
    over      M = {T symmetric positive definite, T_ij <= 0 for i != j}.

On ``M`` the penalty is linear, ``sum_{i != j} Lambda_ij |T_ij| = -<Lambda, T>``, so ``f`` is
smooth there with gradient ``G(T) = S - T^-1 - Lambda``; the closure of the sign
constraint is a box on the off-diagonal whose projection ``P`` sets the positive
off-diagonal entries to 0 (exact zeros: the estimate's graph). Positive definiteness is
kept by the line search, as ``-log det`` is a barrier (Ying, Cardoso and Palomar, ICML
2023, section 3.2 "gradient projection": one framework for M-matrices and, with another
projection, diagonally dominant ones; only the M-matrix projection is implemented here).

Iteration (from ``T_0 = diag(1 / S_ii)``, feasible and definite)::

    G_t     = S - T_t^-1 - Lambda              (T_t^-1 from the Cholesky factor of T_t)
    eta     = <dT, dT> / <dT, dG>              (Barzilai-Borwein initial step, our choice;
                                                1 at t = 0 or when <dT, dG> <= 0)
    repeat  T+ = P(T_t - eta G_t), eta /= 2
    until   T+ is positive definite (Cholesky succeeds) and
            f(T+) <= f(T_t) + <G_t, T+ - T_t> + ||T+ - T_t||_F^2 / (2 eta)   (sufficient decrease)

Stop when the KKT residual ``||V||_F <= tol ||S||_F``: ``V = G`` on the diagonal and where
``T_ij < 0``, ``V = max(G, 0)`` where ``T_ij = 0``; it is 0 exactly at a KKT point,
``(T^-1)_ii = S_ii``, ``(T^-1)_ij = S_ij - Lambda_ij`` where ``T_ij < 0``, ``(T^-1)_ij >=
S_ij - Lambda_ij`` where ``T_ij = 0``, and in the units of ``S`` (scale-free). Its floor is
the rounding of ``T^-1``, about ``cond(T) u``: hence the float32 default ``1e-3``. The
sufficient-decrease test allows the rounding of ``f`` (``10 u |f|``), without which the
line search stalls once the decrease is below it. ``f`` is strictly convex
and the sufficient-decrease rule makes every projected-gradient step a descent step, so
the iterates converge to the unique minimizer (Bertsekas, *Nonlinear Programming*, 1999,
Prop. 2.3.3 for Armijo-type projection rules). Cost per iteration: one Cholesky
(``p^3 / 3``) per trial step and one inverse from it (``2 p^3 / 3``): about ``p^3`` flops.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

#: the smallest step tried before the line search gives up
MIN_STEP = 1e-20


@dataclass
class Solution:
    T: torch.Tensor
    iterations: int
    failure: str | None


def project(T: torch.Tensor) -> torch.Tensor:
    """Off-diagonal entries clipped at 0 from above (the diagonal is left as is)."""
    off = torch.clamp(T, max=0.0)
    return off + torch.diag_embed(torch.diagonal(T) - torch.diagonal(off))


def objective(T: torch.Tensor, S: torch.Tensor, Lam: torch.Tensor) -> tuple[float, torch.Tensor | None]:
    """``(f(T), cholesky(T))``, or ``(inf, None)`` where ``T`` is not positive definite."""
    L, info = torch.linalg.cholesky_ex(T)
    if int(info) != 0:
        return float("inf"), None
    logdet = 2.0 * torch.log(torch.diagonal(L)).sum()
    return float(-logdet + ((S - Lam) * T).sum()), L


def residual(T: torch.Tensor, G: torch.Tensor, S: torch.Tensor) -> float:
    """``||V||_F / ||S||_F`` (module docstring): 0 exactly at a KKT point."""
    at_zero = (T == 0) & ~torch.eye(T.shape[0], dtype=torch.bool, device=T.device)
    V = torch.where(at_zero, torch.clamp(G, min=0.0), G)
    return float(torch.linalg.norm(V) / torch.linalg.norm(S))


def projected_gradient(S: torch.Tensor, Lam: torch.Tensor, T0: torch.Tensor, tol: float,
                       max_iter: int) -> Solution:
    """Minimize ``f`` over M-matrices from ``T0`` (module docstring)."""
    T = T0
    f, L = objective(T, S, Lam)
    if L is None:
        raise ValueError("the starting point is not positive definite")
    eta = 1.0
    slack = 10.0 * float(torch.finfo(T.dtype).eps)
    T_prev = G_prev = None
    for t in range(max_iter + 1):
        G = S - torch.cholesky_inverse(L) - Lam
        G = (G + G.T) / 2
        if residual(T, G, S) <= tol:
            return Solution(T, t, None)
        if t == max_iter:
            break
        if T_prev is not None:
            dT, dG = T - T_prev, G - G_prev
            curv = float((dT * dG).sum())
            eta = float((dT * dT).sum()) / curv if curv > 0 else 1.0
        while True:
            T_new = project(T - eta * G)
            f_new, L_new = objective(T_new, S, Lam)
            D = T_new - T
            if L_new is not None and f_new <= f + float((G * D).sum()) + float((D * D).sum()) / (2.0 * eta) + slack * abs(f):
                break
            eta /= 2.0
            if eta < MIN_STEP:
                return Solution(T, t, f"the line search found no descent step (step below {MIN_STEP:g}) "
                                      f"at iteration {t}, residual {residual(T, G, S):.3g} > tol {tol:.3g}")
        T_prev, G_prev = T, G
        T, f, L = T_new, f_new, L_new
    return Solution(T, max_iter, f"not converged in max_iter = {max_iter} iterations: KKT residual "
                                 f"{residual(T, G, S):.3g} > tol {tol:.3g}")


def diagonal_start(S: torch.Tensor) -> torch.Tensor:
    """``diag(1 / S_ii)``: feasible, definite, and the exact answer when the graph is empty."""
    return torch.diag_embed(1.0 / torch.diagonal(S))
