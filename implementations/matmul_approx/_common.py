"""Parameters and budget arithmetic shared by the matmul_approx methods."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.arrays import is_torch_sparse
from matrixbench.params import Param

SEED = Param(int, 0, min=0, doc="shared random seed (one seed, one sketch of A and of B)")


def mean_row_nnz(M: Any) -> float:
    """Average stored values per row (``d`` for dense; SciPy or torch, sparse or dense)."""
    if hasattr(M, "nnz"):  # SciPy sparse
        return M.nnz / max(1, M.shape[0])
    if is_torch_sparse(M):
        return int(M.values().shape[0]) / max(1, M.shape[0])
    return float(M.shape[1])


def rows_for_budget(budget: int, A: Any, B: Any) -> int:
    """Rows a row sample may keep so that neither sketch stores more than ``budget`` values
    (in expectation over which rows)."""
    return max(1, int(budget // max(mean_row_nnz(A), mean_row_nnz(B), 1e-300)))


def rows_fit(inputs: Mapping[str, Any], **_: Any) -> str | None:
    """``applies`` of the row samplers: the budget holds at least one (average) row."""
    A, B, budget = inputs["A"], inputs["B"], inputs["budget"]
    row = max(mean_row_nnz(A), mean_row_nnz(B))
    if budget < row:
        return f"budget {budget} is under one sampled row ({row:g} values on average): even one row is over budget"
    return None


def linear_fits(inputs: Mapping[str, Any], **_: Any) -> str | None:
    """``applies`` of the linear sketches: the budget holds at least one sketch row."""
    A, B, budget = inputs["A"], inputs["B"], inputs["budget"]
    width = max(A.shape[1], B.shape[1])
    if budget < width:
        return f"budget {budget} is under one sketch row (max(d, m) = {width} values): even k = 1 is over budget"
    return None


def linear_rows(budget: int, A: Any, B: Any) -> int:
    """``k`` for a linear sketch: ``S A`` (``k x d``) and ``S B`` (``k x m``) within budget."""
    return max(1, int(budget // max(A.shape[1], B.shape[1])))


def nnz64(M: Any) -> float:
    return float(M.nnz) if hasattr(M, "nnz") else float(np.prod(M.shape))


def linear_flops_dense(inputs: Mapping[str, Any], **_: Any) -> float:
    """Gaussian: ``2 k (nnz(A) + nnz(B))`` to sketch, ``2 k d m`` for ``(S A)^T (S B)``."""
    A, B = inputs["A"], inputs["B"]
    k = linear_rows(inputs["budget"], A, B)
    return 2.0 * k * (nnz64(A) + nnz64(B)) + 2.0 * k * A.shape[1] * B.shape[1]


def linear_flops_countsketch(inputs: Mapping[str, Any], **_: Any) -> float:
    """CountSketch: ``nnz(A) + nnz(B)`` additions, then ``2 k d m``."""
    A, B = inputs["A"], inputs["B"]
    k = linear_rows(inputs["budget"], A, B)
    return nnz64(A) + nnz64(B) + 2.0 * k * A.shape[1] * B.shape[1]


def sampling_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    """Row norms (``2 nnz`` each) plus ``2 c s_A s_B`` for the sampled outer products
    (``c`` rows kept; coordinated sampling: in expectation, and its ``n log n`` sort of the
    weights is not counted)."""
    A, B = inputs["A"], inputs["B"]
    c = rows_for_budget(inputs["budget"], A, B)
    return 2.0 * (nnz64(A) + nnz64(B)) + 2.0 * c * mean_row_nnz(A) * mean_row_nnz(B)
