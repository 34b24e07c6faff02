"""Reference: ``(A + eps I)^{-1/p}`` from the symmetric eigendecomposition, float64.

``A + eps I = Q diag(l) Q^T`` (LAPACK through ``numpy.linalg.eigh``, batched), then
``Q diag(l^{-1/p}) Q^T``. Exact up to rounding: the relative error is about
``u * cond(A + eps I) / p``. Cost per matrix: about ``9 n^3`` flops for the
decomposition plus ``2 n^3`` for the product (the textbook count, Golub & Van Loan 8.3).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.registry import method


def reference_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    batch, n, _n = inputs["A"].shape
    return batch * 11 * n**3


@method("inv_root", "reference", kind="reference", backends=("numpy",), dtypes=("float32", "float64"),
        flops=reference_flops)
def reference(A: np.ndarray, p: int = 2, eps: float = 1e-12, Q_prev: Any = None) -> np.ndarray:
    """``Q diag((l + eps)^{-1/p}) Q^T`` with ``numpy.linalg.eigh``."""
    l, Q = np.linalg.eigh(A)
    f = (l + eps) ** (-1.0 / p)
    return (Q * f[..., None, :]) @ Q.swapaxes(-1, -2)
