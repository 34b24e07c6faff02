"""Alternating least squares, plain and outlier-robust.

**ALS** (Jain, Netrapalli and Sanghavi, "Low-rank matrix completion using alternating
minimization", STOC 2013, Algorithm 2 without sample splitting; Hardt, FOCS 2014): from the
spectral start ``U_0 = U_r s_r^{1/2}``, alternate the two convex half-problems

    V <- argmin_V ||P_Omega(U V^T) - observed||_F^2 + lambda ||V||_F^2,
    U <- argmin_U ||P_Omega(U V^T) - observed||_F^2 + lambda ||U||_F^2.

Each splits into one ``r x r`` system per column (row): ``(U^T D_j U + lambda I) v_j =
U^T D_j o_j`` with ``D_j`` the column's mask; all ``n`` Gram matrices as one product
``mask^T [u_i u_i^T]_i`` (``2 m n r^2`` flops, ``m r^2`` memory), the right-hand sides as ``observed^T U`` (``2 m n r``), the systems by
a batched Cholesky solve (``n r^3 / 3``). ``lambda = 100 eps`` times the mean Gram
diagonal only keeps a row with fewer than ``r`` samples solvable; it biases nothing at the
accuracy measured. With ``|Omega| >= C kappa^2 mu^2 r^{2.5} (m + n) log(m + n) log(1/eps)``
uniform samples the error falls geometrically (Jain et al., Theorem 2.5); in practice a
few times ``r (m + n)`` samples suffice for a well-conditioned ``M``.

**Robust ALS** (iteratively reweighted least squares with Huber weights, the M-estimator
route to gross errors; Huber, *Robust Statistics*, 1981, ch. 7): each half-problem is a
weighted least squares with weights ``w_ij = min(1, delta / |res_ij|)`` on ``Omega``,
``res = observed - X`` of the previous iterate and ``delta = 1.345 * 1.4826 * MAD(res)``
(the Huber constant at the robust scale estimate, at least ``eps^(3/4) rms(observed)``),
refreshed every iteration: as the fit
improves, ``delta`` shrinks with the inliers' residuals and a gross error's weight
``delta / |res|`` goes to zero, so a sparse set of outliers stops pulling the fit (the
weighted problem tends to least absolute deviations, which recovers exactly under sparse
corruption). Same cost as ALS plus ``O(|Omega| log |Omega|)`` for the median. It stops on
the relative change of ``X`` (the observed residual keeps the outliers), at ``eps^(2/3)``
by default (``4e-11`` in float64: the reweighting converges linearly but slowly once
``delta`` is tiny). On uncorrupted entries it is ALS with weights near 1.
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, TOL, TORCH, Callback, Monitor, generator, relative_change, spectral_start

MAX_ITER = Param(int, 100, min=1, doc="iteration cap (one iteration updates both factors)")
HUBER = 1.345 * 1.4826


def solve_factor(F: torch.Tensor, W: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Rows ``g_j`` minimizing ``sum_i W_ij (F_i g_j - B_ij)^2 + lambda |g_j|^2``: ``W`` and
    ``B`` are ``a x b``, ``F`` is ``a x r``; returns ``b x r``."""
    a, r = F.shape
    outer = (F.unsqueeze(2) * F.unsqueeze(1)).reshape(a, r * r)  # rows F_i F_i^T, flattened
    gram = (W.T @ outer).reshape(-1, r, r)  # sum_i W_ij F_i F_i^T: one GEMM
    rhs = (W * B).T @ F
    ridge = 100 * torch.finfo(F.dtype).eps * gram.diagonal(dim1=1, dim2=2).mean().clamp_min(torch.finfo(F.dtype).tiny)
    gram = gram + ridge * torch.eye(r, dtype=F.dtype, device=F.device)
    L, info = torch.linalg.cholesky_ex(gram)
    if bool(info.any()):  # a numerically singular system: least squares instead
        return torch.linalg.lstsq(gram, rhs.unsqueeze(-1)).solution.squeeze(-1)
    return torch.cholesky_solve(rhs.unsqueeze(-1), L).squeeze(-1)


def start(observed: torch.Tensor, mask: torch.Tensor, rank: int, seed: int) -> torch.Tensor:
    U, s, _ = spectral_start(observed, mask, rank, generator(seed, observed.device))
    return U * s.sqrt()


@method("completion", "als", kind="optimized", params={"max_iter": MAX_ITER, "seed": SEED, "tol": TOL}, **TORCH)
def als(observed: torch.Tensor, mask: torch.Tensor, rank: int, max_iter: int = 100, seed: int = 0,
        tol: float = 0.0, callback: Callback = None) -> WithInfo:
    """Alternating least squares from the spectral start (module docstring)."""
    monitor = Monitor(observed, mask, tol, max_iter, callback)
    U = start(observed, mask, rank, seed)
    while True:
        V = solve_factor(U, mask, observed)
        U = solve_factor(V, mask.T, observed.T)
        if monitor.update(U, V.T):
            return monitor.result(U, V.T)


def huber_weights(mask: torch.Tensor, residual: torch.Tensor, floor: float) -> torch.Tensor:
    """``min(1, delta / |res|)`` on the mask, ``delta`` Huber's constant times the MAD scale,
    at least ``floor``."""
    r = residual[mask > 0].abs()
    delta = max(HUBER * float(r.median()), floor)
    return mask * torch.clamp(delta / residual.abs().clamp_min(torch.finfo(residual.dtype).tiny), max=1.0)


@method("completion", "als_robust", kind="optimized",
        params={"max_iter": Param(int, 200, min=1, doc="iteration cap"), "seed": SEED,
                "tol": Param(float, 0.0, min=0.0, doc="stop when X changes by less than this (0: eps^(2/3))")},
        **TORCH)
def als_robust(observed: torch.Tensor, mask: torch.Tensor, rank: int, max_iter: int = 200, seed: int = 0,
               tol: float = 0.0, callback: Callback = None) -> WithInfo:
    """Huber-reweighted alternating least squares (module docstring)."""
    monitor = Monitor(observed, mask, tol or torch.finfo(observed.dtype).eps ** (2 / 3), max_iter, callback)
    # the start: spectral, on observations clipped at the Huber level of their own spread
    count = float(mask.sum())
    # delta's floor: eps^(3/4) rms(observed); below it every entry is an inlier (without it
    # an exact fit drives delta to 0 and the reweighting to a crawl)
    floor = torch.finfo(observed.dtype).eps ** 0.75 * float(torch.linalg.vector_norm(observed)) / count**0.5
    clipped = observed * huber_weights(mask, observed - float(observed.sum()) / count * mask, floor)
    U = start(clipped, mask, rank, seed)
    V = solve_factor(U, mask, clipped)
    X = U @ V.T
    while True:
        W = huber_weights(mask, observed - X, floor)
        U = solve_factor(V, W.T, observed.T)
        V = solve_factor(U, W, observed)
        X_new = U @ V.T
        change = relative_change(X_new, X)
        X = X_new
        if monitor.update(U, V.T, change):
            return monitor.result(U, V.T)
