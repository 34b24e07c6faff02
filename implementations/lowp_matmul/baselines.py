"""Vendor low-precision GEMMs on CUDA: ``torch._scaled_mm`` (FP8) and bitsandbytes (LLM.int8()).

Neither runs on a CPU: their cells are planned for ``cuda`` only and skipped with the reason
elsewhere. Both are timed with the operands' quantization inside the call (the weights'
quantization happens once per layer in a deployment; here it is part of every call).

- ``torch_scaled_mm``: per-tensor scales ``s = max|A| / 448`` (E4M3), the operands cast to
  ``torch.float8_e4m3fn`` (``B`` column-major, as the kernel requires), one FP8 tensor-core
  GEMM with float32 output (cuBLASLt; compute capability 8.9 or newer; ``k`` and ``m``
  multiples of 16). The same arithmetic as our ``fp8`` with ``scaling = "tensor"``.
- ``bitsandbytes_int8``: ``bitsandbytes.nn.Linear8bitLt`` with ``has_fp16_weights=False``
  and the paper's ``threshold = 6``: vector-wise int8 with float16 outlier columns, the
  library's LLM.int8() (Dettmers et al., NeurIPS 2022); float16 input, as the library asks.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import bits_per_entry
from .reference import product_flops

_CUDA: dict[str, Any] = {"backends": ("torch",), "devices": ("cuda",), "dtypes": ("float32",)}


def scaled_mm_applies(inputs: Any, **_: Any) -> str | None:
    k, m = inputs["A"].shape[1], inputs["B"].shape[1]
    if k % 16 or m % 16:
        return f"torch._scaled_mm needs k and m multiples of 16; got k = {k}, m = {m}"
    return None


@method("lowp_matmul", "torch_scaled_mm", kind="baseline", flops=product_flops, applies=scaled_mm_applies, **_CUDA)
def torch_scaled_mm(A: torch.Tensor, B: torch.Tensor) -> WithInfo:
    """FP8 E4M3 GEMM with per-tensor scales on an FP8 tensor core."""
    top = torch.finfo(torch.float8_e4m3fn).max
    sa = (A.abs().max() / top).clamp_min(torch.finfo(torch.float32).tiny).reshape(())
    sb = (B.abs().max() / top).clamp_min(torch.finfo(torch.float32).tiny).reshape(())
    a8 = (A / sa).to(torch.float8_e4m3fn)
    b8 = (B / sb).t().contiguous().to(torch.float8_e4m3fn).t()  # column-major B
    C = torch._scaled_mm(a8, b8, scale_a=sa.float(), scale_b=sb.float(), out_dtype=torch.float32)
    return WithInfo(C, {"bits": bits_per_entry(A, B, 8.0 * A.numel() + 32, 8.0 * B.numel() + 32)})


@method("lowp_matmul", "bitsandbytes_int8", kind="baseline", flops=product_flops, requires=("bitsandbytes",),
        params={"threshold": Param(float, 6.0, min=0.0, doc="LLM.int8()'s outlier threshold")}, **_CUDA)
def bitsandbytes_int8(A: torch.Tensor, B: torch.Tensor, threshold: float = 6.0) -> torch.Tensor:
    """bitsandbytes' LLM.int8() linear layer with weight ``B^T``."""
    import bitsandbytes as bnb

    k, m = B.shape
    layer = bnb.nn.Linear8bitLt(k, m, bias=False, has_fp16_weights=False, threshold=threshold)
    layer.weight = bnb.nn.Int8Params(B.t().contiguous().half().cpu(), requires_grad=False, has_fp16_weights=False)
    layer = layer.to(A.device)  # quantizes the weight
    return layer(A.half()).float()
