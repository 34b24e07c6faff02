"""Reference: the best rank-``k`` approximation ``A_k`` in float64 (Eckart-Young-Mirsky).

A positive semidefinite ``A`` (``n x n``): its ``k`` largest eigenpairs by LAPACK's
``syevr`` (``scipy.linalg.eigh(subset_by_index=...)``, about ``4 n^3 / 3`` flops for the
tridiagonal reduction), ``A_k = F F^T`` with ``F = V_k Lambda_k^{1/2}``: the best rank-``k``
approximation in every unitarily invariant norm, the trace norm of the Nyström papers
included. Any other ``A``: the thin SVD (``gesdd``), ``A_k = (U_k S_k) V_k^T``.
Timed as a cell it reads every entry through the oracle (``m n`` entries).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la

from matrixbench.entries import EntryMatrix, dense
from matrixbench.registry import method

from .task import shape_of


def best_rank_k(A: np.ndarray, k: int, psd: bool) -> dict[str, np.ndarray]:
    """``{"F": V_k sqrt(lambda_k)}`` (PSD) or ``{"left": U_k S_k, "right": V_k^T}``."""
    if psd:
        n = A.shape[0]
        w, V = la.eigh((A + A.T) / 2, subset_by_index=[n - k, n - 1], check_finite=False)
        return {"F": V * np.sqrt(np.maximum(w, 0.0))}
    U, s, Vt = la.svd(A, full_matrices=False, check_finite=False)
    return {"left": U[:, :k] * s[:k], "right": Vt[:k]}


def reference_flops(inputs: dict[str, Any], **_: Any) -> float:
    m, n = shape_of(inputs)
    return 4.0 * n**3 / 3.0 if inputs["psd"] else 4.0 * m * n * min(m, n)


@method("nystrom_cur", "reference", kind="reference", backends=("numpy",), dtypes=("float64",),
        flops=reference_flops)
def reference(A: Any, k: int = 10, psd: bool = True) -> dict[str, np.ndarray]:
    """The best rank-``k`` approximation's factors (see the module docstring)."""
    M = A.full() if isinstance(A, EntryMatrix) else dense(A)
    return best_rank_k(np.asarray(M, dtype=np.float64), k, psd)
