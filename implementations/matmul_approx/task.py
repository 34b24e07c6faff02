"""The ``matmul_approx`` contract: ``C ~ A^T B`` from small sketches, under a budget.

Inputs: ``A`` (``n x d``) and ``B`` (``n x m``), dense or sparse (from ``product_pair``), and
``budget``: the number of values each matrix's sketch may store. A linear sketch ``S A``
with ``k`` rows stores ``k d`` values (``k = budget // max(d, m)``, one ``S`` for both); a
row sample stores the non-zeros of the rows it keeps (``d`` per row when dense, ``s`` when
rows have ``s`` non-zeros). Counting stored values, not rows, is the comparison of
Daliri, Freire, Musco, Santos & Zhang, "Matrix Product Sketching via Coordinated Sampling"
(2023): ``O(s / eps^2)`` values for coordinated sampling against ``O(d / eps^2)`` for linear
sketches when rows have ``s`` non-zeros.

Metrics:

- ``rel_error = ||A^T B - C||_F / (||A||_F ||B||_F)``: the normalization of every
  approximate-product bound (Drineas, Kannan & Mahoney, SIAM J. Comput. 36, 2006: row
  sampling gives ``E||A^T B - C||_F^2 <= ||A||_F^2 ||B||_F^2 / c``). Lower is better.
  It never divides by ``||A^T B||``, which is 0 for orthogonal factors; the denominator is
  floored by ``matrixbench.accuracy.relative`` and is 0 only when ``A`` or ``B`` is zero:
  the error is then absolute, ``||C||_F``, so the exact ``C = 0`` scores 0, never NaN.
- ``stored`` (reported by the methods): values the sketch of ``A`` actually holds.

The reference is the exact float64 product (``reference``). Preconditions
(``check_inputs``, else the problem is ``invalid``): ``A`` and ``B`` have the same number of
rows, and finite entries. The output is compared with the reference's ``d x m`` shape by
the engine (no ``check_output`` is needed). Methods whose sketch cannot fit the budget at
all (one row of ``A`` or ``B`` holds more values than the budget) are ``skipped`` by their
``applies`` rule rather than run over budget.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task


def make_inputs(matrix: Any, budget: int = 10000) -> dict[str, Any]:
    """``A``, ``B`` from the generator's dict, and the budget (shapes: ``check_inputs``)."""
    if not isinstance(matrix, dict) or not {"A", "B"} <= set(matrix):
        raise ValueError("matmul_approx needs a pair {'A': n x d, 'B': n x m} (generator product_pair)")
    return {"A": matrix["A"], "B": matrix["B"], "budget": int(budget)}


def _values(M: Any) -> np.ndarray:
    return M.data if hasattr(M, "nnz") else np.asarray(M)


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """``A`` and ``B`` are matrices with the same number of rows and finite entries."""
    A, B = inputs["A"], inputs["B"]
    if len(A.shape) != 2 or len(B.shape) != 2:
        return f"A and B must be matrices; got shapes {A.shape} and {B.shape}"
    if A.shape[0] != B.shape[0]:
        return f"A and B need the same number of rows for A^T B; got {A.shape} and {B.shape}"
    for name, M in (("A", A), ("B", B)):
        if not np.all(np.isfinite(_values(M))):
            return f"{name} has NaN or Inf entries"
    return None


def fro(M: Any) -> float:
    """Frobenius norm of a dense array or SciPy sparse matrix."""
    if hasattr(M, "multiply"):
        return float(np.sqrt(M.multiply(M).sum()))
    return float(np.linalg.norm(M))


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    C = np.asarray(output, dtype=np.float64)
    exact = np.asarray(reference, dtype=np.float64)
    if C.shape != exact.shape:
        raise ValueError(f"matmul_approx output has shape {C.shape}, expected {exact.shape}")
    scale = fro(inputs["A"]) * fro(inputs["B"])
    return {"rel_error": float(relative(np.linalg.norm(exact - C), scale, scale))}


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"rel_error": {"float64": 0.2, "float32": 0.2}}

TASK = register_task(
    Task(
        name="matmul_approx",
        description="Approximate product A^T B from budgeted sketches: relative error against stored values.",
        metrics=(
            Metric("rel_error", "lower", doc="||A^T B - C||_F / (||A||_F ||B||_F)"),
            Metric("stored", "lower", doc="values held by the sketch of A (reported by the method)", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "product_pair", "params": {"n": 2000, "d": 10, "m": 8}, "task_params": {"budget": 4000}},
        example_gates=EXAMPLE_GATES,
        check_inputs=check_inputs,
        reference="reference",
        params={"budget": Param(int, 10000, min=1, doc="values each matrix's sketch may store")},
    )
)
