"""The ``lowp_matmul`` contract: ``C = A B`` in a low-precision format, scored in float64.

Inputs: ``A`` (``n x k``, the activations: tokens by features) and ``B`` (``k x m``, the
weights, stored as ``W^T`` of a ``Linear`` layer), from a generator's ``{"A", "B"}``. A method
returns ``C`` (``n x m``). Low-precision methods take float32 operands (the dtype of the
cells they declare) and round them to their format inside the timed call.

Metrics (lower is better; float64):

- ``rel_error = ||C - A B||_F / ||A B||_F``;
- ``max_error = max |C - A B| / max |A B|``: the worst entry, which an outlier row or
  column decides;
- ``bits``: storage bits per entry of the two operands as the method holds them, scales
  and 16-bit outlier columns included (reported by the method): the x-axis of error
  against bits;
- ``outlier_columns``: columns of ``A`` kept in 16 bits (the outlier-splitting method only).

Preconditions (``check_inputs``): two matrices whose inner dimensions agree, finite
entries. A zero product is allowed: the relative errors are then floored by
``matrixbench.accuracy.relative`` and read as absolute errors.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative
from matrixbench.registry import Metric, Task, register_task


def make_inputs(matrix: Any) -> dict[str, Any]:
    """``A`` and ``B`` from the generator's dict (shapes checked by ``check_inputs``)."""
    if not isinstance(matrix, dict) or not {"A", "B"} <= set(matrix):
        raise ValueError("lowp_matmul needs a pair {'A': n x k, 'B': k x m} (generators outlier_product, "
                         "minilm_product)")
    return {"A": np.asarray(matrix["A"], dtype=np.float64), "B": np.asarray(matrix["B"], dtype=np.float64)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """``A`` and ``B`` are matrices with ``A.shape[1] == B.shape[0]`` and finite entries."""
    A, B = inputs["A"], inputs["B"]
    if A.ndim != 2 or B.ndim != 2:
        return f"A and B must be matrices; got shapes {A.shape} and {B.shape}"
    if A.shape[1] != B.shape[0]:
        return f"A B needs A's columns to match B's rows; got {A.shape} and {B.shape}"
    for name, M in (("A", A), ("B", B)):
        if not np.all(np.isfinite(M)):
            return f"{name} has {int((~np.isfinite(M)).sum())} NaN or Inf entries"
    return None


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    C = np.asarray(output, dtype=np.float64)
    exact = np.asarray(reference, dtype=np.float64)
    E = C - exact
    scale = float(np.linalg.norm(inputs["A"]) * np.linalg.norm(inputs["B"]))
    worst = float(np.abs(exact).max(initial=0.0))
    return {"rel_error": float(relative(np.linalg.norm(E), np.linalg.norm(exact), scale)),
            "max_error": float(relative(np.abs(E).max(initial=0.0), worst, scale))}


TASK = register_task(
    Task(
        name="lowp_matmul",
        description="Products in low precision: bf16/fp16, int8 (with LLM.int8() outlier split), FP8 and MXFP4 "
                    "with and without Hadamard rotations.",
        metrics=(
            Metric("rel_error", "lower", doc="||C - A B||_F / ||A B||_F"),
            Metric("max_error", "lower", doc="max |C - A B| / max |A B|"),
            Metric("bits", "lower", unit="bits", doc="storage bits per operand entry, scales included", scale="count"),
            Metric("outlier_columns", "lower", doc="columns of A kept in 16 bits (outlier split)", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        example={"generator": "outlier_product", "params": {"n": 64, "k": 128, "m": 48, "outliers": 2,
                                                            "magnitude": 20.0}},
        example_gates={"rel_error": {"float64": 0.3, "float32": 0.3}},
    )
)
