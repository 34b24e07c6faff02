"""The exact product in the cell's dtype, in tiles (``tiled_exact``).

For each tile of ``tile`` output rows ``I`` and each of ``tile`` columns ``J``:
``Y[I] += k(X[I], X[J]) V[J]``, the kernel block formed by one matrix product (the
squared distances ``|x|^2 + |y|^2 - 2 x^T y``; the l1 distances by ``torch.cdist``) and
an elementwise exponential. ``n^2 (2 d + 2 c)`` flops plus ``n^2`` exponentials; memory
``tile^2`` for the block, never ``n^2``. Exact up to the dtype's rounding (float32: the
squared-distance formula loses digits for nearby points, about ``u |x|^2 / s^2``).
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.entries import kernel_block
from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH


def exact_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    n, d = inputs["X"].shape
    return float(n * n * (2 * d + 2 * inputs["V"].shape[1]))


@method("kernel_matvec", "tiled_exact", kind="optimized", **TORCH, flops=exact_flops, params={
    "tile": Param(int, 2048, min=1, doc="rows and columns of the kernel block formed at a time"),
})
def tiled_exact(X: torch.Tensor, V: torch.Tensor, kernel: str = "gaussian", bandwidth: float = 1.0,
                rows: int = 0, tile: int = 2048) -> WithInfo:
    """``K V`` exactly, ``tile x tile`` kernel blocks at a time."""
    n = X.shape[0]
    Y = torch.zeros_like(V)
    for i in range(0, n, tile):
        for j in range(0, n, tile):
            Y[i:i + tile] += kernel_block(X[i:i + tile], X[j:j + tile], kernel, bandwidth) @ V[j:j + tile]
    return WithInfo(Y, {"features": 0})
