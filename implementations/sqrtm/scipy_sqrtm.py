"""Baseline: ``scipy.linalg.sqrtm``, the (blocked, recursive) Schur method.

``A = U T U^T`` (real Schur form), ``R`` upper (quasi-)triangular with ``R^2 = T`` by the
recurrence ``r_ij = (t_ij - sum_{k=i+1}^{j-1} r_ik r_kj) / (r_ii + r_jj)``, then
``X = U R U^T``; SciPy >= 1.16 runs it in C with a recursive blocking (Deadman, Higham,
Ralha, "Blocked Schur algorithms for computing the matrix square root", PARA 2012, LNCS
7782, 2013). It ignores symmetry, as a general-purpose baseline does. The inverse root is
``solve(sqrtm(A), I)``.

Cost per matrix (Higham, *Functions of Matrices*, SIAM 2008, section 6.2, Algorithm
6.3): ``25 n^3`` for the Schur decomposition, ``n^3/3`` for ``R``, ``3 n^3`` to form
``X``: ``28 1/3 n^3``. The inverse adds an LU (``2/3 n^3``) and ``n`` pairs of
triangular solves (``2 n^3``). Accurate (backward stable) for any A with no eigenvalues
on the closed negative real axis.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy
import scipy.linalg

from matrixbench.registry import method

# SciPy 1.16 rewrote sqrtm in C with native batching over leading dimensions.
_BATCHED = np.lib.NumpyVersion(scipy.__version__) >= "1.16.0"


def scipy_sqrtm_flops(inputs: Mapping[str, Any]) -> float:
    batch, n, _ = inputs["A"].shape
    per_matrix = 25 * n**3 + n**3 / 3 + 3 * n**3
    if inputs.get("inverse", False):
        per_matrix += 2 * n**3 / 3 + 2 * n**3
    return batch * per_matrix


@method(
    "sqrtm",
    "scipy_sqrtm",
    kind="baseline",
    backends=("numpy",),
    dtypes=("float32", "float64"),
    flops=scipy_sqrtm_flops,
)
def scipy_sqrtm(A: np.ndarray, inverse: bool = False) -> np.ndarray:
    """``scipy.linalg.sqrtm`` (Schur method); inverse root by ``solve(X, I)``."""
    if _BATCHED:
        X = scipy.linalg.sqrtm(A)
    else:  # older SciPy: one matrix at a time
        X = np.stack([scipy.linalg.sqrtm(a) for a in A])
    # Real SPD input has a real root; older SciPy returns complex with zero imaginary part.
    X = np.real(X)
    if inverse:
        X = np.linalg.solve(X, np.broadcast_to(np.eye(A.shape[-1], dtype=X.dtype), X.shape))
    return X.astype(A.dtype, copy=False)
