"""FP8 (E4M3, E5M2) and MXFP4 products, emulated by rounding the operands to the format.

``fp8``: per-tensor (or per-row of ``A`` / per-column of ``B``) scaling to the format's
largest value, as in FP8 training and inference (Micikevicius et al., "FP8 Formats for Deep
Learning", arXiv:2209.05433, 2022: E4M3 for weights and activations, E5M2 for gradients):
``s = max|A| / max_fmt``, ``Q_A = fp8(A / s)``; then ``C = s t (Q_A Q_B)`` with the product
of two FP8 values exact in float32 and a float32 accumulation (``2 n k m`` flops), which is
what ``torch._scaled_mm`` computes on an FP8 tensor core (whose accumulator may hold fewer
bits: DeepSeek-V3's report measures about 14 on H800). Bits: 8 per entry plus 32 per scale.

``mxfp4``: OCP Microscaling FP4 (E2M1 elements, one E8M0 power-of-two scale per 32
consecutive values along the reduction dimension; Rouhani et al., "Microscaling Data
Formats for Deep Learning", arXiv:2310.10537, 2023): both operands are rounded block by
block (:func:`formats.mx_quantize`), dequantized exactly (power-of-two scales) and multiplied
in float32. Bits: 4.25 per entry.

Both take ``rotation = "hadamard"``: the product of the rotated factors (rotation.py), the
outlier remedy of QuaRot and of the MXFP4 training recipes (Tseng et al., "Training LLMs
with MXFP4", 2025, random Hadamard transforms before stochastic-rounded MXFP4 GEMMs).
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import LOWP, ROTATION_PARAMS, bits_per_entry, rotated
from .formats import FORMATS, MX_BLOCK, MX_SCALE_BITS, absmax_scale, mx_quantize, round_to_float
from .reference import product_flops

FP8 = ("e4m3", "e5m2")
SCALINGS = ("tensor", "row")


@method("lowp_matmul", "fp8", kind="optimized", flops=product_flops, **LOWP, params={
    "format": Param(str, "e4m3", choices=FP8, doc="OCP FP8 format of both operands"),
    "scaling": Param(str, "tensor", choices=SCALINGS, doc="one scale per operand, or per row of A / column of B"),
    **ROTATION_PARAMS})
def fp8(A: torch.Tensor, B: torch.Tensor, format: str = "e4m3", scaling: str = "tensor", rotation: str = "none",
        seed: int = 0) -> WithInfo:
    """Scaled FP8 product (module docstring)."""
    fmt = FORMATS[format]
    A, B = rotated(A, B, rotation, seed)
    if scaling == "tensor":
        sa, sb = absmax_scale(A.reshape(1, -1), 1, fmt.max), absmax_scale(B.reshape(1, -1), 1, fmt.max)
        scales_a, scales_b = 1, 1
    else:
        sa, sb = absmax_scale(A, 1, fmt.max), absmax_scale(B, 0, fmt.max)
        scales_a, scales_b = A.shape[0], B.shape[1]
    C = (round_to_float(A / sa, fmt) @ round_to_float(B / sb, fmt)) * sa * sb
    bits = bits_per_entry(A, B, fmt.bits * A.numel() + 32.0 * scales_a, fmt.bits * B.numel() + 32.0 * scales_b)
    return WithInfo(C, {"bits": bits})


@method("lowp_matmul", "mxfp4", kind="optimized", flops=product_flops, **LOWP, params=dict(ROTATION_PARAMS))
def mxfp4(A: torch.Tensor, B: torch.Tensor, rotation: str = "none", seed: int = 0) -> WithInfo:
    """MXFP4 product: E2M1 elements in blocks of 32 along ``k`` with E8M0 scales."""
    fmt = FORMATS["e2m1"]
    A, B = rotated(A, B, rotation, seed)
    k = A.shape[1]
    blocks = -(-k // MX_BLOCK)
    C = mx_quantize(A, 1, fmt) @ mx_quantize(B, 0, fmt)
    bits = bits_per_entry(A, B, fmt.bits * A.numel() + MX_SCALE_BITS * blocks * A.shape[0],
                          fmt.bits * B.numel() + MX_SCALE_BITS * blocks * B.shape[1])
    return WithInfo(C, {"bits": bits})
