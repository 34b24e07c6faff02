"""What the quantized methods share: the optional rotation, the bits count, the parameters."""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param

from .rotation import random_signs, rotate

#: every low-precision method: torch on either device, float32 operands
LOWP: dict[str, Any] = {"backends": ("torch",), "devices": ("cpu", "cuda"), "dtypes": ("float32",)}

ROTATIONS = ("none", "hadamard")

ROTATION_PARAMS: dict[str, Param] = {
    "rotation": Param(str, "none", choices=ROTATIONS, doc="rotate the reduction dimension first (rotation.py)"),
    "seed": Param(int, 0, min=0, doc="seed of the rotation's random signs"),
}


def rotated(A: torch.Tensor, B: torch.Tensor, rotation: str, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(A Q, Q^T B)`` for the random Hadamard ``Q``, or ``(A, B)`` unchanged."""
    if rotation == "none":
        return A, B
    signs = random_signs(A.shape[1], seed, A)
    return rotate(A, 1, signs), rotate(B, 0, signs)


def bits_per_entry(A: torch.Tensor, B: torch.Tensor, bits_a: float, bits_b: float) -> float:
    """Mean storage bits per entry over both operands, given each one's total bits."""
    return float((bits_a + bits_b) / (A.numel() + B.numel()))
