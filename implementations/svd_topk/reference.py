"""Reference: the float64 rank-k SVD, by full LAPACK SVD where it fits, else ARPACK at tol 0.

Two exact-in-float64 routes, chosen by size (:func:`solver_for`):

- ``gesdd``: the full thin SVD ``A = U diag(s) V^T`` (LAPACK divide and conquer through
  ``scipy.linalg.svd``), truncated to k. Backward stable: every singular value is within
  ``O(u) ||A||_2`` of the truth (Golub & Van Loan, *Matrix Computations*, 4th ed., 2013,
  section 8.6). It also gives the whole spectrum, hence the optimal error
  ``||A - A_k||_F = (sum_{j>k} s_j^2)^{1/2}`` without cancellation. Cost
  ``min(14 l r^2 + 8 r^3, 6 l r^2 + 20 r^3)`` flops (``l = max(m, n)``, ``r = min(m, n)``)
  and ``8 m n`` bytes more: used for dense inputs of at most :data:`DENSE_LIMIT` entries.
- ``arpack``: ``scipy.sparse.linalg.svds(A, k, solver="arpack", tol=0)``, implicitly
  restarted Lanczos (ARPACK) on ``A^T A`` (or ``A A^T``, the smaller) to machine
  precision, then a Rayleigh-Ritz SVD of ``A`` on the converged subspace. Needs only
  products with ``A``: used for sparse inputs and dense ones above the limit. The tail
  is then known only through ``||A - A_k||_F^2 = ||A||_F^2 - sum_{i<=k} s_i^2``, exact
  in exact arithmetic but losing digits when the tail is below about ``1e-6 ||A||_F``.

The reference output is a dict: ``U`` (m x k), ``s`` (k, descending), ``V`` (n x k),
``tail`` (``||A - A_k||_F``) and ``solver`` (``"gesdd"`` or ``"arpack"``), so that every
result records which route produced its reference.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

from matrixbench.registry import method

#: Dense inputs with at most this many entries get the full SVD (20000 x 2000 = 4e7:
#: 320 MB, about a minute on two cores); larger ones, and sparse ones, get ARPACK.
DENSE_LIMIT = 50_000_000


def solver_for(A: Any, k: int) -> str:
    """``"gesdd"`` (full SVD) or ``"arpack"``: see the module docstring."""
    m, n = A.shape
    if scipy.sparse.issparse(A) and k < min(m, n):
        return "arpack"
    if m * n <= DENSE_LIMIT or k >= min(m, n):
        return "gesdd"
    return "arpack"


_FULL: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _full_svd(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin float64 SVD, remembered for the last matrix (a suite asks for several k)."""
    A = np.ascontiguousarray(A, dtype=np.float64)
    key = f"{A.shape}:" + hashlib.blake2b(A.data, digest_size=16).hexdigest()
    if key not in _FULL:
        _FULL.clear()
        U, s, Vt = scipy.linalg.svd(A, full_matrices=False, check_finite=False, lapack_driver="gesdd")
        _FULL[key] = (U, s, Vt)
    return _FULL[key]


def _arpack(A: Any, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m, n = A.shape
    if scipy.sparse.issparse(A):
        A = scipy.sparse.csr_matrix(A, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(min(m, n))  # fixed start: reproducible
    U, s, Vt = scipy.sparse.linalg.svds(A, k=k, tol=0, solver="arpack", v0=v0)
    order = np.argsort(s)[::-1]
    return U[:, order], s[order], Vt[order].T


def reference_svd(A: Any, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The float64 rank-``k`` SVD ``(U, s, V)`` of ``A`` (dense array or SciPy sparse).

    ``U`` is ``m x k``, ``s`` descending, ``V`` ``n x k``; full SVD or ARPACK as
    :func:`solver_for` decides.
    """
    m, n = A.shape
    if not 1 <= k <= min(m, n):
        raise ValueError(f"k must be in 1..{min(m, n)}, found {k}")
    if solver_for(A, k) == "arpack":
        return _arpack(A, k)
    A = A.toarray() if scipy.sparse.issparse(A) else A
    U, s, Vt = _full_svd(A)
    return U[:, :k].copy(), s[:k].copy(), Vt[:k].T.copy()


def fro_norm2(A: Any) -> float:
    """``||A||_F^2`` in float64 (the stored entries of a sparse ``A``)."""
    data = A.data if scipy.sparse.issparse(A) else np.asarray(A)
    data = np.asarray(data, dtype=np.float64).ravel()
    return float(data @ data)


def optimal_tail(A: Any, k: int, s_k: np.ndarray) -> float:
    """``||A - A_k||_F``: from the whole spectrum when it is known, else ``||A||_F^2 - sum s_i^2``."""
    if solver_for(A, k) == "gesdd":
        A = A.toarray() if scipy.sparse.issparse(A) else A
        s = _full_svd(A)[1]
        return float(np.sqrt(np.sum(s[k:] ** 2)))
    return float(np.sqrt(max(fro_norm2(A) - float(s_k @ s_k), 0.0)))


def reference_flops(inputs: Mapping[str, Any]) -> float | None:
    """Full SVD flops for the ``gesdd`` route; None (unknown) for ARPACK, whose count
    depends on its restarts."""
    A, k = inputs["A"], int(inputs["k"])
    if solver_for(A, k) != "gesdd":
        return None
    m, n = A.shape
    r, l = min(m, n), max(m, n)
    return float(min(14 * l * r**2 + 8 * r**3, 6 * l * r**2 + 20 * r**3))


@method("svd_topk", "reference", kind="reference", backends=("numpy",), dtypes=("float64",),
        flops=reference_flops, sparse=True)
def reference(A: Any, k: int) -> dict[str, Any]:
    """Float64 full SVD truncated to k (dense, up to DENSE_LIMIT entries) or ARPACK at tol 0."""
    A = A if scipy.sparse.issparse(A) else np.asarray(A, dtype=np.float64)
    U, s, V = reference_svd(A, k)
    return {"U": U, "s": s, "V": V, "tail": optimal_tail(A, k, s), "solver": solver_for(A, k)}
