"""CUR and interpolative decompositions of a general matrix.

All three read every entry (they need ``A``'s singular vectors or a sketch of all of it:
``m n`` entries) and return ``A_hat = L R`` of rank at most ``k``.

- ``cur_leverage``: ``k`` columns and ``k`` rows drawn without replacement with
  probabilities proportional to their rank-``k`` leverage scores ``||V_k[j, :]||^2`` and
  ``||U_k[i, :]||^2`` (Mahoney and Drineas, "CUR matrix decompositions for improved data
  analysis", PNAS 2009; Drineas, Mahoney and Muthukrishnan, SIMAX 2008, prove
  ``||A - CUR||_F <= (1 + eps) ||A - A_k||_F`` with ``O(k log k / eps^2)`` of each);
- ``cur_deim``: columns and rows chosen by the discrete empirical interpolation method on
  ``V_k`` and ``U_k`` (Sorensen and Embree, "A DEIM induced CUR factorization", SISC 2016,
  Algorithm 1): deterministic, ``||A - CUR|| <= (eta_p + eta_q) sigma_{k+1}`` with
  ``eta < sqrt(n k / 3) 2^k`` in the worst case and small in practice;

  both with the Frobenius-optimal middle ``U = C^+ A R^+`` (``L = C U``, ``R`` the rows);
  the SVD costs ``O(m n min(m, n))``;
- ``interpolative``: the randomized column interpolative decomposition (Martinsson,
  Rokhlin and Tygert, "A randomized algorithm for the decomposition of matrices", ACHA
  2011; Halko, Martinsson and Tropp, SIREV 2011, section 5.2): a Gaussian sketch
  ``Y = Omega A`` (``(k + p) x n``, ``p = 10``, ``2 (k + p) m n`` flops), column-pivoted QR of
  ``Y`` (LAPACK ``geqp3``), skeleton columns ``J`` = the first ``k`` pivots and
  ``A ≈ A[:, J] T`` with ``T[:, pivots] = [I, R11^-1 R12]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la
import torch

from matrixbench.registry import method

from ._common import SEED, TORCH, entry_matrix, generator, sample

OVERSAMPLE = 10


def top_singular_vectors(M: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    U, _, Vh = torch.linalg.svd(M, full_matrices=False)
    return U[:, :k], Vh[:k].T


def cur(M: torch.Tensor, cols: torch.Tensor, rows: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"left": C U, "right": R}`` with ``U = C^+ M R^+``."""
    C, R = M[:, cols], M[rows]
    U = torch.linalg.pinv(C) @ M @ torch.linalg.pinv(R)
    return {"left": C @ U, "right": R}


@method("nystrom_cur", "cur_leverage", kind="optimized", **TORCH, params={"seed": SEED})
def cur_leverage(A: Any, k: int = 10, psd: bool = True, seed: int = 0) -> dict[str, torch.Tensor]:
    """CUR by rank-``k`` leverage scores, ``k`` columns and rows (Mahoney and Drineas 2009)."""
    M = entry_matrix(A).full()
    U, V = top_singular_vectors(M, k)
    gen = generator(seed, "cpu")
    cols = sample((V * V).sum(1).cpu(), k, gen).to(M.device)
    rows = sample((U * U).sum(1).cpu(), k, gen).to(M.device)
    return cur(M, cols, rows)


def deim(V: torch.Tensor) -> torch.Tensor:
    """DEIM indices of the columns of ``V`` (``n x k``): ``p_j = argmax |r|``, ``r`` the
    residual of interpolating ``v_j`` at the indices chosen before (Sorensen and Embree,
    Algorithm 1); ``O(n k^2)`` flops."""
    p = [int(torch.argmax(V[:, 0].abs()))]
    for j in range(1, V.shape[1]):
        idx = torch.tensor(p, device=V.device)
        c = torch.linalg.solve(V[idx, :j], V[idx, j])
        r = V[:, j] - V[:, :j] @ c
        r[idx] = 0  # interpolated exactly there (rounding aside): never chosen twice
        p.append(int(torch.argmax(r.abs())))
    return torch.tensor(p, device=V.device)


@method("nystrom_cur", "cur_deim", kind="optimized", **TORCH)
def cur_deim(A: Any, k: int = 10, psd: bool = True) -> dict[str, torch.Tensor]:
    """CUR with DEIM-selected columns and rows (Sorensen and Embree 2016)."""
    M = entry_matrix(A).full()
    U, V = top_singular_vectors(M, k)
    return cur(M, deim(V), deim(U))


@method("nystrom_cur", "interpolative", kind="optimized", **TORCH, params={"seed": SEED})
def interpolative(A: Any, k: int = 10, psd: bool = True, seed: int = 0) -> dict[str, torch.Tensor]:
    """Randomized column interpolative decomposition (Martinsson, Rokhlin and Tygert 2011)."""
    M = entry_matrix(A).full()
    m, n = M.shape
    gen = generator(seed, "cpu")
    Omega = torch.randn(min(k + OVERSAMPLE, m), m, generator=gen, dtype=M.dtype).to(M.device)
    Y = (Omega @ M).cpu().numpy()
    # torch has no column-pivoted QR: LAPACK's geqp3 through SciPy, on the small sketch
    _, R, piv = la.qr(Y, mode="economic", pivoting=True, check_finite=False)
    T11 = la.solve_triangular(R[:k, :k], R[:k, k:], check_finite=False)
    Z = np.zeros((k, n), dtype=Y.dtype)
    Z[:, piv[:k]] = np.eye(k, dtype=Y.dtype)
    Z[:, piv[k:]] = T11
    cols = torch.as_tensor(piv[:k].copy(), device=M.device)
    return {"left": M[:, cols], "right": torch.as_tensor(Z, device=M.device)}
