"""int8 products: vector-wise absmax quantization, and LLM.int8()'s mixed-precision split.

Dettmers, Lewis, Belkada and Zettlemoyer, "LLM.int8(): 8-bit Matrix Multiplication for
Transformers at Scale", NeurIPS 2022.

``int8`` (section 3.1, vector-wise quantization): ``Q_A = round(diag(s) A)`` with one scale
per row, ``s_i = 127 / max_j |a_ij|``, ``Q_B = round(B diag(t))`` with one per column, the
integer product ``Q_A Q_B`` accumulated exactly in int32 (``torch._int_mm``: ``2 n k m``
integer ops), then ``C = diag(1/s) (Q_A Q_B) diag(1/t)``. Cost besides the GEMM: two
passes over each operand. Error: each entry of ``A`` is off by at most half a step,
``max_j |a_ij| / 254``: a row with one large entry quantizes all its other entries coarsely.

``int8_outlier`` (section 3.2, mixed-precision decomposition): the feature dimensions
(columns of ``A``) holding any entry of magnitude at least ``threshold`` (the paper's
``alpha = 6``) are multiplied in 16 bits, ``A[:, O] B[O, :]`` (float16 operands, float32
accumulation), the rest in vector-wise int8, and the two are added. The paper finds such
outlier features in a few dimensions of every layer of large transformers (about 0.1% of
them past 6.7B parameters); ``outlier_columns`` reports how many were split here.

Bits per entry: 8 per stored int8 value, 16 per value kept in float16, 32 per scale.
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import LOWP, ROTATION_PARAMS, bits_per_entry, rotated
from .formats import int8_rowwise
from .reference import product_flops


def int_matmul(qa: torch.Tensor, qb: torch.Tensor) -> torch.Tensor:
    """``qa @ qb`` for int8 matrices, exact (int32 accumulation), as float32.

    ``torch._int_mm`` where its shape rules hold (CUDA: more than 16 rows, inner and outer
    sizes multiples of 8); otherwise a float64 GEMM of the integers, exact while ``k 127^2 <
    2^53``.
    """
    n, k = qa.shape
    m = qb.shape[1]
    if hasattr(torch, "_int_mm") and n > 16 and k % 8 == 0 and m % 8 == 0:
        return torch._int_mm(qa, qb).float()
    return (qa.double() @ qb.double()).float()


def int8_product(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Vector-wise int8 ``A B`` (rows of ``A``, columns of ``B``), as float32."""
    qa, sa = int8_rowwise(A, dim=1)
    qb, sb = int8_rowwise(B, dim=0)
    return int_matmul(qa, qb) * sa * sb


@method("lowp_matmul", "int8", kind="optimized", params=ROTATION_PARAMS, flops=product_flops, **LOWP)
def int8(A: torch.Tensor, B: torch.Tensor, rotation: str = "none", seed: int = 0) -> WithInfo:
    """Vector-wise int8 product (module docstring), optionally after a Hadamard rotation."""
    A, B = rotated(A, B, rotation, seed)
    (n, k), m = A.shape, B.shape[1]
    bits = bits_per_entry(A, B, n * (8.0 * k + 32), m * (8.0 * k + 32))
    return WithInfo(int8_product(A, B), {"bits": bits})


@method("lowp_matmul", "int8_outlier", kind="optimized", flops=product_flops, **LOWP,
        params={"threshold": Param(float, 6.0, min=0.0, doc="a column of A with an entry this large stays in 16 bits")})
def int8_outlier(A: torch.Tensor, B: torch.Tensor, threshold: float = 6.0) -> WithInfo:
    """LLM.int8(): outlier columns of ``A`` (and rows of ``B``) in float16, the rest int8."""
    outlier = A.abs().amax(dim=0) >= threshold
    (n, k), m = A.shape, B.shape[1]
    c = int(outlier.sum())
    C = int8_product(A[:, ~outlier], B[~outlier]) if c < k else A.new_zeros((n, m))
    if c:
        C = C + A[:, outlier].half().float() @ B[outlier].half().float()
    per_row = 8.0 * (k - c) + 16.0 * c + 32
    bits = bits_per_entry(A, B, n * per_row, m * per_row)
    info = {"bits": bits, "outlier_columns": float(c)}
    if not bool(torch.isfinite(C).all()):
        return WithInfo(C, info, failure="an outlier column overflowed float16 (an entry past 65504)")
    return WithInfo(C, info)
