"""Reference: ``A B`` in float64 (one ``dgemm``, ``2 n k m`` flops); and the float32 product
(``sgemm``, TF32 off), the baseline every low-precision format is measured against."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from matrixbench.registry import WithInfo, method

from ._common import bits_per_entry


def product_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    n, k = inputs["A"].shape
    return 2.0 * n * k * inputs["B"].shape[1]


@method("lowp_matmul", "reference", kind="reference", backends=("numpy",), dtypes=("float64",), flops=product_flops)
def reference(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A B`` in float64."""
    return A @ B


@method("lowp_matmul", "float32", kind="baseline", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32",), flops=product_flops)
def float32(A: torch.Tensor, B: torch.Tensor) -> WithInfo:
    """``A B`` in float32 (32 bits per entry): the error floor of the float32 operands."""
    return WithInfo(A @ B, {"bits": bits_per_entry(A, B, 32.0 * A.numel(), 32.0 * B.numel())})
