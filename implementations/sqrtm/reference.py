"""Reference: the square root from the symmetric eigendecomposition.

``A = Q diag(l) Q^T`` (LAPACK ``syevd`` through ``numpy.linalg.eigh``, batched), then
``A^{1/2} = Q diag(sqrt(l)) Q^T`` with eigenvalues clipped at 0 (rounding can make the
smallest ones of a nearly singular A slightly negative; the task's ``check_inputs``
rejects anything below that rounding level, so the clipping repairs nothing else), or
``A^{-1/2} = Q diag(1/sqrt(l)) Q^T``.

Exact up to rounding for any symmetric positive (semi)definite A: the error is about
``u * cond(A)^{1/2}`` relative, the conditioning of the square root itself.

Cost per matrix: about ``9 n^3`` flops for the eigenvalues and eigenvectors (the
symmetric QR algorithm with accumulated Q; Golub & Van Loan, *Matrix Computations*, 4th
ed., 2013, section 8.3) plus ``2 n^3`` for the product ``(Q diag(f)) Q^T``: ``11 n^3``.
LAPACK's divide and conquer does a similar amount of work; this is the textbook count.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.registry import method


def reference_flops(inputs: Mapping[str, Any]) -> float:
    batch, n, _ = inputs["A"].shape
    return batch * (9 * n**3 + 2 * n**3)


@method(
    "sqrtm",
    "reference",
    kind="reference",
    backends=("numpy",),
    dtypes=("float32", "float64"),
    flops=reference_flops,
)
def reference(A: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Eigendecomposition ``Q diag(l^{1/2}) Q^T`` (or ``l^{-1/2}``), numpy.linalg.eigh."""
    l, Q = np.linalg.eigh(A)
    f = 1.0 / np.sqrt(l) if inverse else np.sqrt(np.clip(l, 0.0, None))
    return (Q * f[..., None, :]) @ Q.swapaxes(-1, -2)
