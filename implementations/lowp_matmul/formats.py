"""Number formats of the low-precision products: rounding to a float format, int8 and MX.

**Minifloats** (``round_to_float``): a binary float format with ``m`` stored mantissa bits,
smallest normal exponent ``e_min`` and largest finite value ``max`` holds, near ``x``, the
multiples of ``ulp(x) = 2^(max(floor(log2 |x|), e_min) - m)``; rounding is to the nearest
such multiple, ties to even (IEEE 754 roundTiesToEven), subnormals below ``2^e_min`` (the
same spacing ``2^(e_min - m)`` down to 0), and values past ``max`` saturate to ``+-max``
(the OCP 8-bit formats' saturating conversion; E4M3 has no infinity). ``x / ulp`` and
``q ulp`` are exact (powers of two), so the rounding is exact in float32 arithmetic for every
format below float32's own precision. Cost: about ten elementwise passes.

==========  ==========  =====  ==========  ========================================
format      bits        m      e_min       max
==========  ==========  =====  ==========  ========================================
``e4m3``    8 (1+4+3)   3      -6          448      (OCP FP8 E4M3, NVIDIA/Arm/Intel 2022)
``e5m2``    8 (1+5+2)   2      -14         57344
``e2m1``    4 (1+2+1)   1      0           6        (OCP MX v1.0 FP4; values 0, .5, 1, 1.5, 2, 3, 4, 6)
==========  ==========  =====  ==========  ========================================

Source of the constants: OCP "8-bit Floating Point Specification (OFP8)" rev. 1.0 (2023),
table 1, and OCP "Microscaling Formats (MX) Specification" v1.0 (2023), table 2; E4M3 and
E5M2 agree with ``torch.float8_e4m3fn`` / ``torch.float8_e5m2`` (``finfo``), which the tests
use as the independent check of this rounding.

**int8 with absmax scales** (``int8_rowwise``): LLM.int8()'s vector-wise quantization
(Dettmers, Lewis, Belkada and Zettlemoyer, "LLM.int8(): 8-bit Matrix Multiplication for
Transformers at Scale", NeurIPS 2022, section 3.1): each row ``a_i`` of ``A`` is scaled by
``s_i = 127 / max_j |a_ij|`` and rounded, ``q_i = round(s_i a_i)`` in ``[-127, 127]``; each
column of ``B`` likewise; then ``A B ~ diag(1/s) (Q_A Q_B) diag(1/t)`` with the integer
product accumulated exactly in int32.

**MX block scaling** (``mx_quantize``): OCP MX v1.0, section 6.3: blocks of 32 consecutive
values along the reduction dimension share one E8M0 scale ``X = 2^(floor(log2 max|v|) -
e_max)`` (``e_max = 2`` for E2M1: the largest element's exponent), each ``v / X`` is rounded
to the element format with saturation. Storage: 4 bits per element plus 8 per block of 32.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class FloatFormat:
    """A binary float format: stored mantissa bits, smallest normal exponent, largest value."""

    name: str
    bits: int
    mantissa: int
    emin: int
    max: float


FORMATS: dict[str, FloatFormat] = {
    "e4m3": FloatFormat("e4m3", 8, 3, -6, 448.0),
    "e5m2": FloatFormat("e5m2", 8, 2, -14, 57344.0),
    "e2m1": FloatFormat("e2m1", 4, 1, 0, 6.0),
}

#: MX block size along the reduction dimension (OCP MX v1.0)
MX_BLOCK = 32
#: bits of one MX shared scale (E8M0)
MX_SCALE_BITS = 8


def round_to_float(x: torch.Tensor, fmt: FloatFormat) -> torch.Tensor:
    """``x`` rounded to ``fmt`` (nearest, ties to even; subnormals; saturating), same dtype."""
    _, e = torch.frexp(x)  # x = f 2^e with 0.5 <= |f| < 1, so floor(log2|x|) = e - 1
    exponent = torch.clamp(e - 1, min=fmt.emin)
    ulp = torch.ldexp(torch.ones_like(x), exponent - fmt.mantissa)
    q = torch.round(x / ulp) * ulp  # torch.round rounds half to even
    return torch.clamp(q, -fmt.max, fmt.max)


def absmax_scale(x: torch.Tensor, dim: int, top: float) -> torch.Tensor:
    """``max |x|`` along ``dim`` divided by ``top`` (kept as a dimension); 1 where all zero."""
    amax = x.abs().amax(dim=dim, keepdim=True)
    return torch.where(amax > 0, amax / top, torch.ones_like(amax))


def int8_rowwise(x: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q, scale)``: int8 ``q = round(x / scale)`` with one absmax scale per slice along ``dim``."""
    scale = absmax_scale(x, dim, 127.0)
    q = torch.clamp(torch.round(x / scale), -127, 127).to(torch.int8)
    return q, scale


def mx_quantize(x: torch.Tensor, dim: int, fmt: FloatFormat, block: int = MX_BLOCK) -> torch.Tensor:
    """``x`` rounded to MX blocks of ``block`` values along ``dim`` (a zero-padded last block)."""
    x = x.movedim(dim, -1)
    k = x.shape[-1]
    pad = (-k) % block
    xp = torch.nn.functional.pad(x, (0, pad)) if pad else x
    blocks = xp.reshape(*xp.shape[:-1], -1, block)
    amax = blocks.abs().amax(dim=-1, keepdim=True)
    _, e = torch.frexp(amax)
    emax_elem = _largest_exponent(fmt)
    shared = torch.clamp(e - 1 - emax_elem, -127, 127)  # E8M0 holds 2^-127 .. 2^127
    scale = torch.where(amax > 0, torch.ldexp(torch.ones_like(amax), shared), torch.ones_like(amax))
    q = round_to_float(blocks / scale, fmt) * scale
    return q.reshape(xp.shape)[..., :k].movedim(-1, dim)


def _largest_exponent(fmt: FloatFormat) -> int:
    """``floor(log2 max)``: the exponent of the format's largest normal value (2 for E2M1)."""
    _, e = torch.frexp(torch.tensor(fmt.max, dtype=torch.float64))
    return int(e) - 1
