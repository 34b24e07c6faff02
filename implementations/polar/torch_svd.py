"""Baseline: the polar factor from PyTorch's SVD, ``torch.linalg.svd``, in the cell's dtype.

``U, S, V^T = torch.linalg.svd(G, full_matrices=False)`` then ``Q = U V^T``: what one
writes without a dedicated method. On the CPU PyTorch calls LAPACK ``gesdd``; on CUDA
cuSOLVER (``gesvdj`` for small batched matrices). Accuracy as the reference's, in the
cell's precision: ``u kappa_2(G)``.

bfloat16 is not offered: PyTorch has no SVD in 16-bit precision (CPU or CUDA), and
casting up would time a float32 SVD under a bfloat16 label, so such cells are skipped.

Cost: as :mod:`reference`, thin SVD plus ``2 l k^2`` for the product.
"""

from __future__ import annotations

import torch

from matrixbench.registry import method

from .reference import svd_polar_flops


@method(
    "polar",
    "torch_svd",
    kind="baseline",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    flops=svd_polar_flops,
)
def torch_svd(G: torch.Tensor) -> torch.Tensor:
    """``U V^T`` from ``torch.linalg.svd(G, full_matrices=False)``."""
    U, _, Vh = torch.linalg.svd(G, full_matrices=False)
    return U @ Vh
