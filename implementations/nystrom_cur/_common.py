"""What the Nyström and CUR methods share: parameters, ``applies`` rules, the stable
Nyström factor, seeded sampling."""

from __future__ import annotations

from typing import Any, Mapping

import torch

from implementations.common.random import seeded_generator as generator  # noqa: F401  (the methods' import)
from matrixbench.entries import EntryMatrix, is_kernel
from matrixbench.params import Param

SEED = Param(int, 0, doc="random seed")
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))


def psd_only(inputs: Mapping[str, Any], **_: Any) -> str | None:
    return None if inputs["psd"] else "a Nyström approximation needs a positive semidefinite A"


def kernel_only(inputs: Mapping[str, Any], **_: Any) -> str | None:
    return None if is_kernel(inputs["A"]) else "needs a kernel given by its points"



def sample(weights: torch.Tensor, size: int, gen: torch.Generator, replacement: bool = False) -> torch.Tensor:
    """``size`` indices drawn with probabilities proportional to ``weights`` (>= 0)."""
    return torch.multinomial(weights.clamp_min(0), size, replacement=replacement, generator=gen)


def nystrom_factor(C: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``F`` with ``F F^T = C W^+ C^T``, ``W = C[idx]`` the sampled rows of the sampled columns.

    ``W = V Lambda V^T`` (``eigh``, ``O(k^3)``); eigenvalues below ``k eps lambda_max`` are
    dropped (``W`` of a kernel is often numerically singular: two nearby points give two
    nearly equal columns), ``F = C V_+ Lambda_+^{-1/2}``: ``n k^2`` flops. A Cholesky factor
    of ``W`` would fail on such a ``W``; the truncated pseudo-inverse is the stable choice
    (Tropp, Yurtsever, Udell and Cevher, "Fixed-rank approximation of a positive-semidefinite
    matrix from streaming data", NeurIPS 2017, discuss the same)."""
    W = C[idx]
    W = (W + W.T) / 2
    w, V = torch.linalg.eigh(W)
    keep = w > W.shape[0] * torch.finfo(W.dtype).eps * w[-1].clamp_min(0)
    return (C @ V[:, keep]) / w[keep].sqrt()


def entry_matrix(A: Any) -> EntryMatrix:
    if not isinstance(A, EntryMatrix):
        raise TypeError(f"expected the engine's entry oracle, got {type(A).__name__}")
    return A
