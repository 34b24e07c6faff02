"""Baselines: ``scipy.sparse.linalg.svds`` with its three solvers, ARPACK, PROPACK, LOBPCG.

All three take ``A`` through products only (dense or SciPy sparse, in its float dtype):

- ``svds_arpack``: implicitly restarted Lanczos (ARPACK ``dsaupd``/``ssaupd``; R. B.
  Lehoucq, D. C. Sorensen and C. Yang, *ARPACK Users' Guide*, SIAM 1998) on ``A^T A``
  or ``A A^T`` (the smaller), then a Rayleigh-Ritz SVD of ``A`` on the Ritz vectors.
  ``tol = 0`` is machine precision. ``ncv`` (0: SciPy's ``min(n, max(2k + 1, 20))``).
- ``svds_propack``: Golub-Kahan-Lanczos bidiagonalization of ``A`` itself with partial
  reorthogonalization and implicit restarts (R. M. Larsen, PROPACK, 1998/2004). In
  SciPy 1.8 to 1.11 it was opt-in (environment variable ``SCIPY_USE_PROPACK=1`` before
  SciPy is imported, or svds raises); from SciPy 1.12 it is always available (checked:
  SciPy 1.17 has no such switch).
- ``svds_lobpcg``: LOBPCG (A. V. Knyazev, SIAM J. Sci. Comput. 23, 2001), a block
  preconditioned conjugate gradient on ``A^T A`` without preconditioner; ``tol`` is
  squared by svds (it bounds eigenvalue residuals of the Gram operator; ``tol = 0``
  never stops early), and the run stops at ``maxiter`` (0: LOBPCG's default, 20)
  whether converged or not, so its accuracy depends on ``maxiter``.

No FLOP model: the counts depend on the restarts and iterations taken.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse.linalg

from matrixbench.params import Param
from matrixbench.registry import method


def _svds(A: Any, k: int, solver: str, tol: float, seed: int, **options: Any) -> tuple[Any, Any, Any]:
    m, n = A.shape
    dtype = np.float32 if A.dtype == np.float32 else np.float64
    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal(m if solver == "propack" else min(m, n)).astype(dtype)
    U, s, Vt = scipy.sparse.linalg.svds(A, k=k, tol=tol, solver=solver, v0=v0, rng=rng, **options)
    order = np.argsort(s)[::-1]  # ARPACK and LOBPCG return ascending values
    return U[:, order], s[order], Vt[order].T


_SEED = Param(int, 0, min=0, doc="seed of the start vector")


def below_min(inputs: Mapping[str, Any], ncv: int = 0, **_: Any) -> str | None:
    """ARPACK and LOBPCG in ``svds`` need ``k < min(m, n)`` (and ARPACK ``k < ncv < min(m, n)``
    for an explicit ``ncv``): SciPy raises otherwise. PROPACK takes ``k = min(m, n)``."""
    r, k = min(inputs["A"].shape), int(inputs["k"])
    if k >= r:
        return f"svds needs k < min(m, n) = {r} with this solver; k = {k}"
    if ncv and not k < ncv < r:
        return f"svds (ARPACK) needs k < ncv < min(m, n) = {r}; k = {k}, ncv = {ncv}"
    return None


@method("svd_topk", "svds_arpack", kind="baseline", backends=("numpy",), sparse=True,
        params={"tol": Param(float, 0.0, min=0.0, doc="relative accuracy of the singular values (0: machine precision)"),
                "ncv": Param(int, 0, min=0, doc="Lanczos vectors (0: SciPy's default)"),
                "seed": _SEED},
        applies=below_min)
def svds_arpack(A: Any, k: int, tol: float = 0.0, ncv: int = 0, seed: int = 0) -> tuple[Any, Any, Any]:
    """``scipy.sparse.linalg.svds(A, k, solver="arpack")``: restarted Lanczos on A^T A."""
    return _svds(A, k, "arpack", tol, seed, ncv=ncv or None)


@method("svd_topk", "svds_propack", kind="baseline", backends=("numpy",), sparse=True,
        params={"tol": Param(float, 0.0, min=0.0, doc="relative accuracy (0: machine precision)"),
                "seed": _SEED})
def svds_propack(A: Any, k: int, tol: float = 0.0, seed: int = 0) -> tuple[Any, Any, Any]:
    """``scipy.sparse.linalg.svds(A, k, solver="propack")``: Lanczos bidiagonalization of A."""
    return _svds(A, k, "propack", tol, seed)


# float64 only: SciPy's LOBPCG returns float64 vectors for a float32 input (found by the
# contract test, tests/test_contract.py), so a float32 cell would not be float32 work.
@method("svd_topk", "svds_lobpcg", kind="baseline", backends=("numpy",), dtypes=("float64",), sparse=True,
        params={"tol": Param(float, 0.0, min=0.0, doc="residual tolerance (squared by svds; 0: run all maxiter iterations)"),
                "maxiter": Param(int, 0, min=0, doc="iterations (0: LOBPCG's default, 20)"),
                "seed": _SEED},
        applies=below_min)
def svds_lobpcg(A: Any, k: int, tol: float = 0.0, maxiter: int = 0, seed: int = 0) -> tuple[Any, Any, Any]:
    """``scipy.sparse.linalg.svds(A, k, solver="lobpcg")``: block CG on A^T A."""
    return _svds(A, k, "lobpcg", tol, seed, maxiter=maxiter or None)
