"""Reference: the exact product ``A^T B`` in float64.

Dense: one GEMM, ``2 n d m`` flops (``numpy.matmul``, BLAS ``dgemm``). Sparse: SciPy's
sparse-times-sparse product (Gustavson's row-by-row algorithm, ACM TOMS 4, 1978), ``2
sum_k nnz(A_k) nnz(B_k)`` flops, then densified (``d x m`` is small). The same code runs
as the ``exact`` baseline in the cell's dtype, to show what a sketch saves in time.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.registry import method


def row_nnz(M: Any) -> np.ndarray:
    return np.diff(M.indptr) if hasattr(M, "indptr") else np.full(M.shape[0], M.shape[1])


def product_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    A, B = inputs["A"], inputs["B"]
    return float(2 * np.dot(row_nnz(A).astype(np.float64), row_nnz(B).astype(np.float64)))


def exact_product(A: Any, B: Any) -> np.ndarray:
    C = A.T @ B
    return C.toarray() if hasattr(C, "toarray") else np.asarray(C)


@method("matmul_approx", "reference", kind="reference", backends=("numpy",), sparse=True, flops=product_flops)
def reference(A: Any, B: Any, budget: int) -> np.ndarray:
    """``A^T B`` exactly (dense GEMM or sparse SpGEMM)."""
    return exact_product(A, B)


@method("matmul_approx", "exact", kind="baseline", backends=("numpy",), sparse=True, flops=product_flops)
def exact(A: Any, B: Any, budget: int) -> np.ndarray:
    """``A^T B`` exactly in the cell's dtype, ignoring the budget: the time to beat."""
    return exact_product(A, B)
