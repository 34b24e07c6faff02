"""Reference: the entropic optimum, by a long float64 log-domain Sinkhorn run polished
with exact Newton steps.

1. Log-domain Sinkhorn (:mod:`.log_domain`) in float64, started by epsilon scaling
   (:mod:`.eps_scaling`, ratio 0.5, 3 iterations a stage), until the marginal error
   ``max(||G 1 - a||_1, ||G^T 1 - b||_1) <= WARM_TOL = 1e-5`` (or ``WARM_ITER = 3000``
   iterations).
2. Newton's method on the concave dual (Brauer, Clason, Lorenz and Wirth, "A
   Sinkhorn-Newton method for entropic optimal transport", arXiv:1710.06635, 2017)
   ``L(F, G) = <a, F> + <b, G> - sum_ij exp(F_i + G_j - C_ij / reg)``, whose gradient is
   the marginal residual ``(a - G 1, b - G^T 1)`` and whose negative Hessian is
   ``[[diag(G 1), G], [G^T, diag(G^T 1)]]``: dense, with the gauge ``(1, -1)`` removed by
   fixing the last ``G_m``, plus ``RIDGE = 1e-12`` times its largest entry on the
   diagonal (at small ``reg`` the plan's support falls apart into blocks coupled by
   entries below rounding, each a near-null direction: Cholesky fails without it,
   measured at ``reg = 3e-4``), solved by Cholesky (``(n + m)^3 / 3`` flops a step), with
   backtracking (Armijo) on ``L``, until the error is ``<= REF_TOL`` or stops falling.
   Newton converges quadratically near the optimum where Sinkhorn's linear rate tends
   to 1 as ``reg`` falls (``71810`` iterations to ``1e-12`` at ``reg = 3e-4 max C`` on 200
   uniform points in the square, measured): the polish keeps the reference fast at
   every ``reg`` a suite sweeps. Unlike Sinkhorn-Newton-Sparse (:mod:`.sns`) the
   Hessian is exact and the solve direct.

The run fails (raises) unless the error ends below ``ACCEPT``: a reference is trusted or
not computed. Its error is recorded nowhere else, so ``tests/test_sinkhorn.py`` compares
the plan with POT's ``sinkhorn_log`` at a tight tolerance.
"""

from __future__ import annotations

import numpy as np
import torch

from matrixbench.registry import method

from ._common import Stopping
from .eps_scaling import anneal
from .log_domain import log_plan, sweeps

WARM_TOL = 1e-5
WARM_ITER = 3000
REF_TOL = 1e-13
ACCEPT = 1e-10
NEWTON_MAX = 100
ARMIJO = 1e-4
#: relative ridge on the Hessian (module docstring)
RIDGE = 1e-12


def marginal_error(P: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> float:
    return max(float((P.sum(dim=1) - a).abs().sum()), float((P.sum(dim=0) - b).abs().sum()))


def dual(F: torch.Tensor, G: torch.Tensor, Cr: torch.Tensor, a: torch.Tensor, b: torch.Tensor
         ) -> tuple[float, torch.Tensor]:
    """``L(F, G)`` and the plan."""
    P = log_plan(F, G, Cr)
    return float(a @ F + b @ G - P.sum()), P


def newton(F: torch.Tensor, G: torch.Tensor, Cr: torch.Tensor, a: torch.Tensor, b: torch.Tensor
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Damped Newton steps on ``L`` (module docstring) from ``F, G``."""
    n, m = Cr.shape
    value, P = dual(F, G, Cr, a, b)
    err = marginal_error(P, a, b)
    for _ in range(NEWTON_MAX):
        if err <= REF_TOL:
            break
        r, c = P.sum(dim=1), P.sum(dim=0)
        grad = torch.cat([a - r, b - c])[: n + m - 1]
        H = torch.zeros(n + m - 1, n + m - 1, dtype=P.dtype)
        H[:n, :n] = torch.diag(r)
        H[n:, n:] = torch.diag(c[:-1])
        H[:n, n:] = P[:, :-1]
        H[n:, :n] = P[:, :-1].T
        H += RIDGE * float(r.max()) * torch.eye(n + m - 1, dtype=P.dtype)
        L, info = torch.linalg.cholesky_ex(H)
        step = (torch.cholesky_solve(grad.unsqueeze(-1), L) if not int(info)
                else torch.linalg.lstsq(H, grad.unsqueeze(-1)).solution).squeeze(-1)
        dF, dG = step[:n], torch.cat([step[n:], step.new_zeros(1)])
        slope = float(grad @ step)
        alpha = 1.0
        while alpha > 1e-10:
            new_value, new_P = dual(F + alpha * dF, G + alpha * dG, Cr, a, b)
            if new_value >= value + ARMIJO * alpha * slope:
                break
            alpha /= 2
        new_err = marginal_error(new_P, a, b)
        if alpha <= 1e-10 or new_err >= err and new_value <= value:
            break  # at the rounding floor: no step improves
        F, G, value, P, err = F + alpha * dF, G + alpha * dG, new_value, new_P, new_err
    return F, G


@method("sinkhorn", "reference", kind="reference", backends=("numpy",), dtypes=("float64",))
def reference(a: np.ndarray, b: np.ndarray, C: np.ndarray, reg: float, tol: float = 1e-7, max_iter: int = 1000,
              emd: float = 0.0) -> np.ndarray:
    """The entropic optimal plan (module docstring); ``tol``, ``max_iter`` and the hidden
    ``emd`` are the methods' and the scoring's, not used here."""
    A, B, C64 = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(C)
    g, _ = anneal(C64, A, B, reg, 0.5, 3)
    Cr = C64 / reg
    F, G, _ = sweeps(Cr, A, B, g / reg, WARM_ITER, Stopping(WARM_TOL, WARM_ITER), 10)
    F, G = newton(F, G, Cr, A, B)
    P = log_plan(F, G, Cr)
    err = marginal_error(P, A, B)
    if not err <= ACCEPT:
        raise RuntimeError(f"the reference did not converge: marginal error {err:.2e} > {ACCEPT:.0e} "
                           f"(reg = {reg:g}, max C / reg = {float(Cr.max()):.3g})")
    return P.numpy()
