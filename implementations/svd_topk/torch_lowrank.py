"""Baseline: PyTorch's randomized SVD, ``torch.svd_lowrank``.

Halko, Martinsson and Tropp (2011), Algorithm 4.4 with QR between every power step and
Algorithm 5.1, as in :mod:`.randomized`: ``torch.svd_lowrank(A, q=k + p, niter=q)``
(PyTorch's ``q`` is the sketch size, its ``niter`` the power iterations), dense or
sparse, CPU or CUDA, in the input's dtype; truncated to the k leading triplets.
PyTorch's documentation notes that for dense inputs a full ``torch.linalg.svd`` is often
faster: the suite times both.

Cost: :func:`.randomized.randomized_flops` with ``ortho = "qr"``.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from .randomized import randomized_flops, sketch_fits


def lowrank_flops(inputs: Mapping[str, Any], p: int = 10, q: int = 2, seed: int = 0) -> float:
    return randomized_flops(inputs, p=p, q=q, ortho="qr")


@method("svd_topk", "torch_svd_lowrank", kind="baseline", backends=("torch",), devices=("cpu", "cuda"),
        params={"p": Param(int, 10, min=0, doc="oversampling: q = k + p in PyTorch's terms"),
                "q": Param(int, 2, min=0, doc="niter (power iterations)"),
                "seed": Param(int, 0, min=0, doc="torch.manual_seed before the call")},
        flops=lowrank_flops, sparse=True, applies=sketch_fits)
def torch_svd_lowrank(A: torch.Tensor, k: int, p: int = 10, q: int = 2, seed: int = 0) -> tuple[Any, Any, Any]:
    """``torch.svd_lowrank(A, q=k + p, niter=q)``, truncated to k."""
    torch.manual_seed(seed)  # svd_lowrank draws from the global generator
    U, s, V = torch.svd_lowrank(A, q=min(k + p, *A.shape), niter=q)
    return U[:, :k], s[:k], V[:, :k]
