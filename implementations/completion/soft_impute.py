"""Soft-impute (Mazumder, Hastie and Tibshirani, "Spectral regularization algorithms for
learning large incomplete matrices", JMLR 2010, Algorithm 1, with their rank cap and
post-processing).

For a regularization ``lambda``, iterate

    Z <- S_lambda(P_Omega(observed) + P_Omega^perp(Z)),

``S_lambda`` the singular value soft-threshold ``U diag((s - lambda)_+) V^T``: the fixed
point minimizes ``1/2 ||P_Omega(Z) - observed||_F^2 + lambda ||Z||_*`` and each step
does not increase it (Lemma 2, monotone convergence at rate ``O(1/t)``). The path:
``lambda_0 = s_1(observed)`` (where ``Z = 0`` is optimal), then ``lambda_{k+1} = 0.5
lambda_k`` down to ``max(1e-8, 10 eps) lambda_0``, each warm-started from the last, a
``lambda`` left when ``Z`` changes by less than ``1e-3`` relatively (measured: the error
of an exactly low-rank recovery is proportional to the last ``lambda``: a floor of
``1e-4 lambda_0`` left ``1e-4``; the rank cap, not ``lambda``, regularizes at the end). The SVD is rank-capped at ``r``
(their ``rank.max``) and computed by subspace iteration warm-started from the previous
right factor (two power steps: ``6 m n (r + 10)`` flops an iteration). At the end,
"soft-impute+" (their section 7): with ``U``, ``V`` fixed, the ``r`` singular values are
refitted by least squares on ``Omega`` (``|Omega| r^2`` flops), which removes the
shrinkage bias ``lambda``. Iterations count SVDs.
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, TOL, TORCH, Callback, Monitor, generator, relative_change, spectral_start, top_svd

SHRINK, FLOOR, INNER = 0.5, 1e-8, 1e-3


def refit(U: torch.Tensor, V: torch.Tensor, observed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``d`` minimizing ``||P_Omega(U diag(d) V^T) - observed||_F``: normal equations
    ``G d = b`` with ``G_kl = sum_Omega u_ik v_jk u_il v_jl``."""
    r = V.shape[1]
    H = (mask @ (V.unsqueeze(2) * V.unsqueeze(1)).reshape(-1, r * r)).reshape(-1, r, r)  # V^T D_i V, row i
    G = torch.einsum("ik,ikl,il->kl", U, H, U)
    b = ((U.T @ observed) * V.T).sum(dim=1)
    return torch.linalg.lstsq(G, b.unsqueeze(-1)).solution.squeeze(-1)


@method("completion", "soft_impute", kind="optimized",
        params={"max_iter": Param(int, 1000, min=1, doc="iteration cap (SVDs)"), "seed": SEED, "tol": TOL}, **TORCH)
def soft_impute(observed: torch.Tensor, mask: torch.Tensor, rank: int, max_iter: int = 1000, seed: int = 0,
                tol: float = 0.0, callback: Callback = None) -> WithInfo:
    """Soft-impute along a ``lambda`` path with the rank cap and the final refit."""
    gen = generator(seed, observed.device)
    monitor = Monitor(observed, mask, tol, max_iter, callback)
    _, s, V = spectral_start(observed, mask, rank, gen)
    lam0 = float(s[0]) * float(mask.mean())  # s_1(observed): the start's s_1 is that of observed / p
    lam = lam0
    floor = max(FLOOR, 10 * torch.finfo(observed.dtype).eps) * lam0
    Z = torch.zeros_like(observed)
    while True:
        U, s, V = top_svd(observed + (1 - mask) * Z, rank, gen, power=2, start=V)
        d = (s - lam).clamp_min(0)
        Z_new = (U * d) @ V.T
        change = relative_change(Z_new, Z)
        Z = Z_new
        settled = lam <= floor
        if change < INNER and not settled:
            lam = max(SHRINK * lam, floor)
        if monitor.update(U * d, V.T, settled=settled):
            return monitor.result(U * refit(U, V, observed, mask), V.T)
