"""The graphical lasso: block coordinate descent and ADMM.

Problem (Yuan and Lin 2007; Banerjee, El Ghaoui and d'Aspremont 2008), with ``alpha = lam
sqrt(log p / n)`` and the diagonal not penalized (as scikit-learn's ``GraphicalLasso``)::

    minimize  -log det T + tr(S T) + alpha sum_{i != j} |T_ij|   over positive definite T.

KKT: ``W = T^-1`` has ``W_ii = S_ii``, ``W_ij = S_ij + alpha sign(T_ij)`` where ``T_ij != 0``
and ``|W_ij - S_ij| <= alpha`` where ``T_ij = 0``.

- ``glasso_bcd``: Friedman, Hastie and Tibshirani, "Sparse inverse covariance estimation
  with the graphical lasso", Biostatistics 9(3), 2008. Work on ``W = T^-1`` from ``W = S``;
  for each column ``j`` in turn (``W11`` the rest of ``W``, ``s12`` column ``j`` of ``S``
  without ``S_jj``), solve the lasso ``min_b 1/2 b^T W11 b - b^T s12 + alpha ||b||_1`` by
  coordinate descent, ``b_k <- soft(s12_k - sum_{l != k} (W11)_kl b_l, alpha) / (W11)_kk``
  (warm started from the previous sweep's ``b``), and set ``w12 = W11 b``. Stop when a
  sweep changes ``W`` by less than ``tol`` times the mean ``|S_ij|`` off the diagonal (their
  criterion, ``tol`` 0: ``1e-7`` / ``1e-5``); then ``T_jj = 1 / (W_jj - w12^T b)``, ``T_12 = -b
  T_jj``. Cost per sweep: ``p`` lasso problems, each ``O(p^2)`` per coordinate pass:
  ``O(p^3)`` per sweep (in Python loops here: slow beyond ``p ~ 100``). Convergence: block
  coordinate descent on the dual, each block a strictly convex box-constrained QP
  (Friedman et al. 2008; Mazumder and Hastie 2012 on when the primal stays definite).
- ``glasso_admm``: Boyd, Parikh, Chu, Peleato and Eckstein, "Distributed optimization and
  statistical learning via the alternating direction method of multipliers", Found.
  Trends Mach. Learn. 3(1), 2011, section 6.5. Split ``T = Z``::

      T <- Q diag((d + sqrt(d^2 + 4 rho)) / (2 rho)) Q^T,   Q diag(d) Q^T = rho (Z - U) - S
      Z <- soft(T + U, alpha / rho) off the diagonal, (T + U)_ii on it
      U <- U + T - Z

  with ``rho`` adapted by residual balancing (Boyd et al. 2011, section 3.4.1: double it
  when the primal residual is 10 times the dual one, halve it in the opposite case).
  Stop when ``||T - Z||_F <= tol max(||T||_F, ||Z||_F)`` and ``rho ||Z - Z_prev||_F <= tol
  rho ||U||_F`` (their section 3.3.1, relative criteria only). Returns ``Z`` (exact zeros:
  the graph). Cost: one symmetric eigendecomposition per iteration (about ``9 p^3``
  flops), device-agnostic torch. Converges for any ``rho > 0`` (ADMM on a convex problem
  with two blocks), linearly here in practice.
"""

from __future__ import annotations

import numpy as np
import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, penalty, sample_covariance, sample_covariance_np

#: the stopping tolerance per dtype (``tol: 0``): both solvers reach 1e-5 in float32 in tens
#: of iterations (their residuals involve no inverse of an ill-conditioned T)
GLASSO_TOL = {"float64": 1e-7, "float32": 1e-5}


def tolerance(tol: float, dtype: object) -> float:
    return float(tol) if tol > 0 else GLASSO_TOL["float32" if "32" in str(dtype) else "float64"]

LAM = Param(float, 1.0, min=0.0, doc="alpha as a multiple of sqrt(log p / n)")


def soft(x: float, t: float) -> float:
    return x - t if x > t else (x + t if x < -t else 0.0)


def lasso_cd(V: np.ndarray, s: np.ndarray, alpha: float, b: np.ndarray, tol: float, passes: int = 1000) -> np.ndarray:
    """``argmin_b 1/2 b^T V b - b^T s + alpha ||b||_1`` by cyclic coordinate descent from ``b``."""
    Vb = V @ b
    scale = float(np.abs(V).max())
    for _ in range(passes):
        biggest = 0.0
        for k in range(b.size):
            old = b[k]
            new = soft(s[k] - Vb[k] + V[k, k] * old, alpha) / V[k, k]
            if new != old:
                Vb += (new - old) * V[:, k]
                b[k] = new
                biggest = max(biggest, abs(new - old) * scale)
        if biggest <= tol * max(float(np.abs(s).max()), 1e-300):
            break
    return b


@method("precision", "glasso_bcd", kind="optimized", backends=("numpy",), dtypes=("float32", "float64"), params={
    "lam": LAM,
    "tol": Param(float, 0.0, min=0.0, doc="sweep change of W relative to mean |S_ij| (0: 1e-7 float64, 1e-5 float32)"),
    "max_iter": Param(int, 200, min=1, doc="sweeps at most"),
})
def glasso_bcd(X: np.ndarray, lam: float = 1.0, tol: float = 0.0, max_iter: int = 200) -> WithInfo:
    """Graphical lasso by block coordinate descent on the covariance (Friedman et al. 2008)."""
    n, p = X.shape
    alpha = penalty(lam, n, p)
    S = sample_covariance_np(X)
    eps = tolerance(tol, X.dtype)
    W, B = S.copy(), np.zeros((p, p), dtype=S.dtype)
    scale = float(np.abs(S - np.diag(np.diag(S))).sum()) / (p * (p - 1))
    rest = [np.flatnonzero(np.arange(p) != j) for j in range(p)]
    failure, sweeps = f"not converged in max_iter = {max_iter} sweeps", max_iter
    for sweep in range(1, max_iter + 1):
        W_old = W.copy()
        for j in range(p):
            idx = rest[j]
            V = W[np.ix_(idx, idx)]
            B[idx, j] = lasso_cd(V, S[idx, j], alpha, B[idx, j].copy(), eps / 10)
            W[idx, j] = W[j, idx] = V @ B[idx, j]
        change = float(np.abs(W - W_old).mean())
        if change <= eps * max(scale, 1e-300):
            failure, sweeps = None, sweep
            break
    T = np.zeros_like(S)
    for j in range(p):
        idx = rest[j]
        T[j, j] = 1.0 / (W[j, j] - W[idx, j] @ B[idx, j])
        T[idx, j] = -B[idx, j] * T[j, j]
    return WithInfo((T + T.T) / 2, {"iterations": sweeps}, failure=failure)


@method("precision", "glasso_admm", kind="optimized", **TORCH, params={
    "lam": LAM,
    "rho": Param(float, 1.0, min=0.0, doc="initial ADMM penalty (adapted by residual balancing)"),
    "tol": Param(float, 0.0, min=0.0, doc="relative primal and dual residual (0: 1e-7 float64, 1e-5 float32)"),
    "max_iter": Param(int, 5000, min=1, doc="iterations at most"),
})
def glasso_admm(X: torch.Tensor, lam: float = 1.0, rho: float = 1.0, tol: float = 0.0,
                max_iter: int = 5000) -> WithInfo:
    """Graphical lasso by ADMM with residual balancing (Boyd et al. 2011, section 6.5)."""
    n, p = X.shape
    alpha = penalty(lam, n, p)
    S = sample_covariance(X)
    eps = tolerance(tol, X.dtype)
    eye = torch.eye(p, dtype=X.dtype, device=X.device)
    Z = torch.diag_embed(1.0 / torch.diagonal(S))
    U = torch.zeros_like(S)
    for it in range(1, max_iter + 1):
        d, Q = torch.linalg.eigh(rho * (Z - U) - S)
        T = (Q * ((d + torch.sqrt(d * d + 4.0 * rho)) / (2.0 * rho))) @ Q.T
        T = (T + T.T) / 2
        Z_prev, A = Z, T + U
        Z = torch.sign(A) * torch.clamp(A.abs() - alpha / rho, min=0.0) * (1 - eye) + torch.diag_embed(torch.diagonal(A))
        U = U + T - Z
        primal = float(torch.linalg.norm(T - Z))
        dual = rho * float(torch.linalg.norm(Z - Z_prev))
        if primal <= eps * max(float(torch.linalg.norm(T)), float(torch.linalg.norm(Z))) and \
                dual <= eps * rho * float(torch.linalg.norm(U)) + eps * float(torch.linalg.norm(S)):
            break
        if primal > 10.0 * dual:
            rho, U = 2.0 * rho, U / 2.0
        elif dual > 10.0 * primal:
            rho, U = rho / 2.0, U * 2.0
    else:
        return WithInfo(T, {"iterations": max_iter},
                        failure=f"not converged in max_iter = {max_iter} iterations: primal residual {primal:.3g}, "
                                f"dual residual {dual:.3g}")
    if int(torch.linalg.cholesky_ex(Z)[1]) != 0:  # Z is T's sparse twin: use T if rounding made Z indefinite
        return WithInfo(T, {"iterations": it}, failure="the sparse iterate Z is not positive definite; T returned")
    return WithInfo(Z, {"iterations": it})
