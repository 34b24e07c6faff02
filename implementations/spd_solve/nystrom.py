"""Nyström-preconditioned CG (Frangella, Tropp and Udell, "Randomized Nyström
preconditioning", SIAM J. Matrix Anal. Appl. 44(2), 2023).

For ``A_mu = A_psd + mu I`` (``A_psd`` positive semidefinite, ``mu`` the task's
``shift``), a rank-``l`` randomized Nyström approximation ``A_psd ~ U diag(lhat) U^T``
(their Algorithm 2.1, the numerically stable form with a shift ``nu``)::

    Omega = qr(randn(n, l)),  Y = A_psd Omega           (l products: Y = A Omega - mu Omega)
    nu = sqrt(n) eps ||Y||_2,  Y_nu = Y + nu Omega
    C = chol(Omega^T Y_nu),  B = Y_nu C^-1,  (U, s, _) = svd(B),  lhat = max(s^2 - nu, 0)

costs ``l`` products and ``O(n l^2)`` flops, and gives the preconditioner (their eq. 5.3)::

    P^-1 = (lhat_l + mu) U diag(lhat + mu)^-1 U^T + (I - U U^T)          (4 n l flops a use)

Their Proposition 5.3: ``kappa(P^-1/2 A_mu P^-1/2) <= (lhat_l + mu + ||E||_2) / mu`` with
``E = A_psd - U diag(lhat) U^T`` positive semidefinite, so a spectrum that decays past
rank ``l`` (a kernel matrix) leaves CG a condition number of order ``(lambda_(l+1) +
mu) / mu`` instead of ``(lambda_1 + mu) / mu``; with ``l`` about twice the effective
dimension ``sum_i lambda_i / (lambda_i + mu)`` it is a small constant in expectation
(their Theorem 5.1). With ``shift = 0`` the sketch is of ``A`` itself and ``mu = 0``
in the formula (``lhat`` floored at ``eps lhat_1`` so that it inverts).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, Preconditioner, pcg


def nystrom(A: Any, shift: float, rank: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(U, lhat)`` of the rank-``rank`` Nyström approximation of ``A - shift I`` (Algorithm 2.1)."""
    n = A.n
    g = torch.Generator(device=A.device).manual_seed(int(seed))
    Omega = torch.linalg.qr(torch.randn(n, rank, generator=g, device=A.device, dtype=A.dtype)).Q
    Y = A @ Omega
    if shift:
        Y = Y - shift * Omega
    nu = n ** 0.5 * torch.finfo(A.dtype).eps * torch.linalg.matrix_norm(Y, 2)
    Y_nu = Y + nu * Omega
    G = Omega.mT @ Y_nu
    C = torch.linalg.cholesky(0.5 * (G + G.mT), upper=True)
    B = torch.linalg.solve_triangular(C, Y_nu, upper=True, left=False)  # B C = Y_nu
    U, s, _ = torch.linalg.svd(B, full_matrices=False)
    return U, torch.clamp(s * s - nu, min=0.0)


def nystrom_preconditioner(U: torch.Tensor, lhat: torch.Tensor, shift: float) -> Preconditioner:
    """``r -> (lhat_l + mu) U (lhat + mu)^-1 U^T r + r - U U^T r`` (eq. 5.3)."""
    if shift <= 0:
        lhat = torch.clamp(lhat, min=float(torch.finfo(lhat.dtype).eps * lhat[0]))
    scale = (lhat[-1] + shift) / (lhat + shift) - 1.0  # so that P^-1 r = r + U (scale * U^T r)

    def apply(r: torch.Tensor) -> torch.Tensor:
        coefficients = U.mT @ r
        return r + U @ (scale.reshape(-1, *([1] * (r.ndim - 1))) * coefficients)

    return apply


@method("spd_solve", "pcg_nystrom", kind="optimized", **TORCH, trace=True, params={
    "rank": Param(int, 50, min=1, doc="sketch size l: l products build the preconditioner"),
    "seed": Param(int, 0, min=0, doc="seed of the Gaussian test matrix"),
})
def pcg_nystrom(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0, rank: int = 50,
                seed: int = 0, callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """CG preconditioned by a rank-``rank`` Nyström approximation; the sketch's products
    count against the budget."""
    rank = min(rank, A.n)
    if rank >= budget:
        raise ValueError(f"a budget of {budget} products leaves nothing after a sketch of rank {rank}")
    U, lhat = nystrom(A, shift, rank, seed)
    return pcg(A, b, budget, tol, precondition=nystrom_preconditioner(U, lhat, shift), callback=callback, spent=rank)
