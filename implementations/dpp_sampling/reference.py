"""The float64 reference: the least-squares fit on all ``N`` rows.

``x* = argmin ||A x - b||`` by Householder QR, ``A = Q R`` (LAPACK ``geqrf``; Golub and
Van Loan, *Matrix Computations*, 4th ed., 2013, section 5.3): ``x* = R^-1 Q^T b``, cost
``2 m^2 (N - m/3)`` flops for ``R`` and ``4 N m`` for ``Q^T b``, backward stable. It returns
``x*``, ``R`` (the score whitens sampled rows with it) and ``r* = b - A x*``, and, as its
"sample", every row once with weight 1 in one block: scored as a method it has excess
risk 0 (up to rounding) and needs ``N`` samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la

from matrixbench.registry import method


def reference_flops(inputs: dict[str, Any], **_: Any) -> float:
    N, m = inputs["A"].shape
    return 2.0 * m * m * (N - m / 3.0) + 4.0 * N * m + m * m


@method("dpp_sampling", "reference", kind="reference", backends=("numpy",), dtypes=("float64",),
        flops=reference_flops)
def reference(A: np.ndarray, b: np.ndarray, factor: float = 10.0, constant: float = 2.0) -> dict[str, np.ndarray]:
    """Least squares on all rows by Householder QR (module docstring)."""
    Q, R = la.qr(A, mode="economic", check_finite=False)
    x = la.solve_triangular(R, Q.T @ b, lower=False, check_finite=False)
    N = A.shape[0]
    return {"x": x, "R": R, "residual": b - A @ x, "indices": np.arange(N), "weights": np.ones(N),
            "blocks": np.zeros(N, dtype=np.int64)}
