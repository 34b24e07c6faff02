"""Reference: the polar factor from the float64 singular value decomposition.

``G = U diag(s) V^T`` (thin SVD, LAPACK ``gesdd`` through ``numpy.linalg.svd``, batched),
then ``Q = U V^T``. Exact up to rounding for any ``G`` of full rank ``k = min(m, n)``: the
polar factor's condition number is about ``1 / s_min`` relative to ``||G||_2`` (Higham,
*Functions of Matrices*, SIAM 2008, section 8.1), so the error is about
``u kappa_2(G)``. For a rank-deficient ``G`` the factor is not unique and the reference
is one choice among many.

Cost per matrix (``l = max(m, n)``, ``k = min(m, n)``): Golub & Van Loan, *Matrix
Computations*, 4th ed., 2013, section 8.6.3, count ``14 l k^2 + 8 k^3`` flops for
``U_1``, ``S``, ``V`` by Golub-Reinsch and ``6 l k^2 + 20 k^3`` by the R-SVD (QR first),
the cheaper for ``l >= 5k/3``; LAPACK picks the better. The product ``U V^T`` adds
``2 l k^2``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.registry import method


def svd_polar_flops(inputs: Mapping[str, Any]) -> float:
    """Thin SVD (the cheaper of Golub-Reinsch and R-SVD) plus the product ``U V^T``."""
    batch, m, n = inputs["G"].shape
    k, l = min(m, n), max(m, n)
    svd = min(14 * l * k**2 + 8 * k**3, 6 * l * k**2 + 20 * k**3)
    return float(batch * (svd + 2 * l * k**2))


@method(
    "polar",
    "reference",
    kind="reference",
    backends=("numpy",),
    dtypes=("float32", "float64"),
    flops=svd_polar_flops,
)
def reference(G: np.ndarray) -> np.ndarray:
    """``U V^T`` from the thin SVD, ``numpy.linalg.svd(full_matrices=False)``."""
    U, _, Vt = np.linalg.svd(G, full_matrices=False)
    return U @ Vt
