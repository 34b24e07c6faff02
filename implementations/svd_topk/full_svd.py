"""Baselines: the full thin SVD truncated to k, ``torch.linalg.svd`` and ``numpy.linalg.svd``.

``A = U diag(s) V^T`` (LAPACK ``gesdd`` on the CPU, cuSOLVER on CUDA), then the k
leading triplets. Exact up to rounding in the cell's dtype, whatever the spectrum;
dense inputs only (a sparse problem skips them: densifying would time another
problem). The yardstick the randomized methods must beat on time: PyTorch's
``svd_lowrank`` documentation says a full SVD is often faster on dense inputs.

Cost (Golub & Van Loan, *Matrix Computations*, 4th ed., 2013, section 8.6.3),
``l = max(m, n)``, ``r = min(m, n)``: ``min(14 l r^2 + 8 r^3, 6 l r^2 + 20 r^3)``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from matrixbench.registry import method


def full_svd_flops(inputs: Mapping[str, Any]) -> float:
    m, n = inputs["A"].shape
    r, l = min(m, n), max(m, n)
    return float(min(14 * l * r**2 + 8 * r**3, 6 * l * r**2 + 20 * r**3))


@method("svd_topk", "torch_svd", kind="baseline", backends=("torch",), devices=("cpu", "cuda"),
        flops=full_svd_flops)
def torch_svd(A: torch.Tensor, k: int) -> tuple[Any, Any, Any]:
    """``torch.linalg.svd(A, full_matrices=False)`` truncated to k."""
    U, s, Vh = torch.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vh[:k].mT


@method("svd_topk", "numpy_svd", kind="baseline", backends=("numpy",), flops=full_svd_flops)
def numpy_svd(A: np.ndarray, k: int) -> tuple[Any, Any, Any]:
    """``numpy.linalg.svd(A, full_matrices=False)`` truncated to k."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vt[:k].T
