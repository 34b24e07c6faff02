"""A random Hadamard rotation of the reduction dimension, applied with our FWHT.

``A B = (A Q)(Q^T B)`` for any orthogonal ``Q``; quantizing the rotated factors instead of
``A`` and ``B`` spreads an outlier column of ``A`` over all columns, so the absmax scales
no longer spend the format's range on a few entries (QuaRot: Ashkboos et al., "QuaRot:
Outlier-Free 4-Bit Inference in Rotated LLMs", NeurIPS 2024; QuIP#: Tseng et al., ICML
2024, the randomized Hadamard transform). Here ``Q = D (I_{k/b} (x) H_b) / sqrt(b)``: a
random sign per coordinate (``D``), then the Sylvester-Hadamard transform on consecutive
blocks of ``b`` coordinates, ``b`` the largest power of two dividing ``k`` (at most
``max_block``): 128 for MiniLM's 384, 512 for its 1536. ``Q`` is orthogonal (``H_b^T H_b =
b I``), and applying it costs ``k log2 b`` additions per row (:func:`fwht`), against
``2 k m`` flops per row for the product itself. The rotation is part of the timed call for
both factors (a deployment rotates weights once, offline; the activations' rotation is the
online cost).
"""

from __future__ import annotations

import torch

from implementations.common.random import seeded_generator
from implementations.common.sketching.fwht import fwht


def hadamard_block(k: int, max_block: int = 4096) -> int:
    """The largest power of two dividing ``k``, capped at ``max_block``."""
    return min(k & -k, max_block)


def random_signs(k: int, seed: int, like: torch.Tensor) -> torch.Tensor:
    """``k`` random +-1 (the diagonal of ``D``), drawn on the CPU so every device gets the same."""
    g = seeded_generator(seed, "cpu")
    bits = torch.randint(0, 2, (k,), generator=g)
    return (2 * bits - 1).to(dtype=like.dtype, device=like.device)


def rotate(x: torch.Tensor, dim: int, signs: torch.Tensor) -> torch.Tensor:
    """``x`` with ``Q^T`` applied along ``dim`` (``x Q`` for ``dim = 1`` of ``A``; ``Q^T x`` for ``dim = 0`` of ``B``).

    ``Q^T x = (I (x) H_b) D x / sqrt(b)`` along ``dim`` since ``H_b`` is symmetric.
    """
    k = x.shape[dim]
    b = hadamard_block(k)
    shape = [1] * x.ndim
    shape[dim] = k
    y = (x * signs.reshape(shape)).movedim(dim, -1)
    blocks = y.reshape(*y.shape[:-1], k // b, b)
    blocks = fwht(blocks.contiguous(), dim=-1, overwrite=True) / b**0.5
    return blocks.reshape(y.shape).movedim(-1, dim)
