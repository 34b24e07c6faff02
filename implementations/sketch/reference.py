"""Reference: the ideal embedding, an orthogonal projection (distortion exactly 0).

No random ``S`` is exact, so the reference is the best any ``k x n`` operator can do: ``S =
Q^T`` with ``Q = [U, U_perp]`` (``n x k``, orthonormal columns) whose first ``d`` columns are
an orthonormal basis ``U`` of range(A). With ``A = U R`` (thin Householder QR, LAPACK
``geqrf`` through ``numpy.linalg.qr(mode="r")``), ``Q^T A = [R; 0]``, and ``S U = [I; 0]``
has every singular value equal to 1. The score reads ``R`` from it (``task.score``).

Cost: ``2 n d^2 - 2 d^3 / 3`` flops (Golub & Van Loan, 4th ed., sec. 5.2.2). Sparse ``A`` is
densified first (the reference is not timed against the methods' sparsity).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.registry import method


def qr_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    n, d = inputs["A"].shape
    return float(2 * n * d**2 - 2 * d**3 / 3)


@method("sketch", "reference", kind="reference", backends=("numpy",), sparse=True, flops=qr_flops)
def reference(A: Any, k: int) -> np.ndarray:
    """``[R; 0]`` (``k x d``) from the thin QR ``A = U R``: ``Q^T A`` for ``Q = [U, U_perp]``."""
    dense = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    R = np.linalg.qr(dense, mode="r")
    out = np.zeros((k, dense.shape[1]), dtype=dense.dtype)
    out[: R.shape[0]] = R
    return out
