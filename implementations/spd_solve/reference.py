"""Reference: ``x* = A^-1 b`` by a float64 Cholesky factorization.

Dense ``A``: LAPACK's ``potrf``/``potrs`` (``scipy.linalg.cho_factor``, ``n^3 / 3`` flops,
then ``2 n^2`` per solve). Sparse ``A``: SuperLU in symmetric mode, a fill-reducing
ordering of ``A + A^T`` applied to rows and columns alike and no pivoting
(``diag_pivot_thresh = 0``): on a symmetric positive definite matrix that is the sparse
``L D L^T`` (Cholesky with ``L D^1/2``) factorization, stable without pivoting (Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., 2002, section 10.1), and its
pivots ``D`` decide definiteness by Sylvester's law of inertia (:func:`sparse_pivots`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from matrixbench.operators import LinearOperator
from matrixbench.registry import method

from implementations.common.spd_checks import EPS, SYMMETRY_TOL


def symmetric_lu(A: sp.spmatrix) -> Any:
    """SuperLU's ``L D L^T``-shaped factorization: symmetric ordering, diagonal pivots."""
    from scipy.sparse.linalg import splu

    return splu(sp.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                options={"SymmetricMode": True})


def sparse_pivots(A: sp.spmatrix) -> np.ndarray | None:
    """The pivots ``D`` of ``P A P^T = L D L^T`` (the diagonal of SuperLU's ``U``), or None
    when SuperLU had to leave the diagonal (a zero pivot: ``A`` is not definite)."""
    try:
        lu = symmetric_lu(A)
    except RuntimeError:  # "Factor is exactly singular"
        return None
    if not np.array_equal(lu.perm_r, lu.perm_c):
        return None
    return lu.U.diagonal()


def sparse_definite(A: sp.spmatrix, name: str = "A") -> str | None:
    """Symmetric to ``1e-12`` and every pivot above ``n eps ||A||_inf`` (the rounding level of
    the factorization), else why not."""
    from scipy.sparse.linalg import norm as frobenius

    norm = abs(A).sum(axis=1).max()
    asym = frobenius(A - A.T) / frobenius(A) if norm > 0 else 0.0
    if asym > SYMMETRY_TOL:
        return f"{name} is not symmetric: ||{name} - {name}^T||_F/||{name}||_F = {asym:.3g} (tolerance {SYMMETRY_TOL:g})"
    if norm == 0:
        return f"{name} is not positive definite: it is the zero matrix"
    pivots = sparse_pivots(A)
    if pivots is None:
        return f"{name} is not positive definite: a zero pivot in its symmetric L D L^T factorization"
    level = A.shape[0] * EPS * norm
    if pivots.min() <= level:
        negative = int((pivots <= 0).sum())
        return (f"{name} is not positive definite: smallest pivot of L D L^T {pivots.min():.3g} (relative to "
                f"||{name}||_inf: {pivots.min() / norm:.3g}; the rounding level is +{A.shape[0] * EPS:.2g}); "
                f"{negative} pivots <= 0, so as many eigenvalues <= 0 (Sylvester's law of inertia)")
    return None


def entries(A: Any) -> Any:
    """The matrix behind an operator input (the reference timed as a cell gets the operator)."""
    return A.matrix if isinstance(A, LinearOperator) else A


def cholesky_flops(inputs: dict[str, Any], **_: Any) -> float | None:
    """``n^3 / 3`` for a dense Cholesky (the two triangular solves add ``2 n^2``); None for a
    sparse one, whose fill (hence work) is known only once the ordering is computed."""
    A = inputs["A"]
    return None if sp.issparse(A) else np.shape(A)[0] ** 3 / 3.0 + 2.0 * np.shape(A)[0] ** 2


@method("spd_solve", "reference", kind="reference", backends=("numpy",), dtypes=("float64",), flops=cholesky_flops,
        sparse=True)
def reference(A: Any, b: np.ndarray, shift: float = 0.0, budget: int = 0, tol: float = 0.0) -> dict[str, np.ndarray]:
    """``x*`` by Cholesky (dense) or the symmetric sparse ``L D L^T`` (sparse)."""
    M = entries(A)
    if sp.issparse(M):
        return {"x": symmetric_lu(M).solve(np.asarray(b, dtype=np.float64))}
    return {"x": la.cho_solve(la.cho_factor(M, lower=True, check_finite=False), b, check_finite=False)}
