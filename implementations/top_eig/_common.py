"""What the eigensolvers share: the seeded start block and the Rayleigh-Ritz step."""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param

SEED = Param(int, 0, min=0, doc="seed of the random start block")
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"), sparse=True)


def start_block(A: Any, b: int, seed: int) -> torch.Tensor:
    """An orthonormal ``n x b`` Gaussian block in ``A``'s dtype, on its device."""
    g = torch.Generator(device=A.device).manual_seed(int(seed))
    return torch.linalg.qr(torch.randn(A.n, b, generator=g, device=A.device, dtype=A.dtype)).Q


def rayleigh_ritz(Q: torch.Tensor, AQ: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``k`` largest Ritz pairs of ``A`` on ``span(Q)`` (``Q`` orthonormal, ``AQ = A Q``):
    values descending, vectors ``Q C`` and their products ``A Q C`` (no new product)."""
    H = Q.mT @ AQ
    theta, C = torch.linalg.eigh(0.5 * (H + H.mT))
    C = C[:, -k:].flip(-1)
    return theta[-k:].flip(-1), Q @ C, AQ @ C


def result(values: torch.Tensor, vectors: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"values": values, "vectors": vectors}
