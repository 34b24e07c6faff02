"""Reference: ``K V`` exact in float64, computed in tiles, on the checked rows.

Rows ``R`` (all ``n`` when ``n <= rows``, else ``rows`` of them drawn without replacement
with seed 0, sorted); for each tile of ``TILE`` columns ``J``, ``Y[R] += k(X[R], X[J]) V[J]``:
``|R| n (3 d + 2 c)`` flops and ``|R| TILE`` doubles of memory. Output
``{"rows": R, "Y": Y[R]}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.entries import kernel_block
from matrixbench.registry import method

TILE = 4096


def checked_rows(n: int, rows: int) -> np.ndarray:
    if n <= rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=rows, replace=False))


def reference_flops(inputs: dict[str, Any], **_: Any) -> float:
    n, d = inputs["X"].shape
    return float(len(checked_rows(n, inputs["rows"])) * n * (3 * d + 2 * inputs["V"].shape[1]))


@method("kernel_matvec", "reference", kind="reference", backends=("numpy",), dtypes=("float64",),
        flops=reference_flops)
def reference(X: np.ndarray, V: np.ndarray, kernel: str = "gaussian", bandwidth: float = 1.0,
              rows: int = 2000) -> dict[str, np.ndarray]:
    """Exact ``(K V)[R]`` in float64 tiles (see the module docstring)."""
    n = X.shape[0]
    R = checked_rows(n, rows)
    Y = np.zeros((len(R), V.shape[1]))
    for j in range(0, n, TILE):
        Y += kernel_block(X[R], X[j:j + TILE], kernel, bandwidth) @ V[j:j + TILE]
    return {"rows": R, "Y": Y}
