"""16-bit operands, float32 accumulation: bfloat16 and float16.

A tensor core multiplies 16-bit operands exactly (an 8- or 11-bit significand times another
fits in float32's 24 bits) and accumulates in float32 (NVIDIA's ``HMMA`` with an FP32
accumulator; Micikevicius et al., "Mixed Precision Training", ICLR 2018). ``accumulate =
"float32"`` emulates exactly that: the operands are rounded to the 16-bit format (round to
nearest even) and multiplied by a float32 GEMM, ``2 n k m`` flops. ``accumulate = "native"``
calls ``torch.matmul`` on the 16-bit tensors, whose result is rounded back to 16 bits (and
whose CPU kernels may or may not accumulate in float32): the time a user of 16-bit tensors
gets. Rounding error per operand entry: ``2^-8`` (bfloat16) and ``2^-11`` (float16) relative;
float16 overflows past 65504 (inputs are not scaled here, as in a plain ``.half()``).
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import LOWP, bits_per_entry
from .reference import product_flops

ACCUMULATE = ("float32", "native")
_PARAMS = {"accumulate": Param(str, "float32", choices=ACCUMULATE, doc="float32: exact 16-bit products summed "
                                                                      "in float32; native: torch.matmul in 16 bits")}


def _product16(A: torch.Tensor, B: torch.Tensor, dtype: torch.dtype, accumulate: str) -> WithInfo:
    a, b = A.to(dtype), B.to(dtype)
    C = (a @ b).float() if accumulate == "native" else a.float() @ b.float()
    bits = bits_per_entry(A, B, 16.0 * A.numel(), 16.0 * B.numel())
    if not bool(torch.isfinite(C).all()):
        return WithInfo(C, {"bits": bits}, failure=f"the {dtype} product overflowed (an entry past the format's "
                                                   f"range)")
    return WithInfo(C, {"bits": bits})


@method("lowp_matmul", "bfloat16", kind="optimized", params=_PARAMS, flops=product_flops, **LOWP)
def bfloat16(A: torch.Tensor, B: torch.Tensor, accumulate: str = "float32") -> WithInfo:
    """``A B`` with bfloat16 operands (8-bit significand, float32's range)."""
    return _product16(A, B, torch.bfloat16, accumulate)


@method("lowp_matmul", "float16", kind="optimized", params=_PARAMS, flops=product_flops, **LOWP)
def float16(A: torch.Tensor, B: torch.Tensor, accumulate: str = "float32") -> WithInfo:
    """``A B`` with float16 operands (11-bit significand, largest value 65504)."""
    return _product16(A, B, torch.float16, accumulate)
