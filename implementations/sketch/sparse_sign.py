"""Sparse sign embedding: ``nnz`` entries ``+-1/sqrt(nnz)`` per column, applied by the shared operator.

Paper and distribution: ``common.sketching.sparse``: Kane & Nelson (J. ACM 2014) block
construction; OSNAP (Nelson & Nguyen 2013).
Apply cost: ``2 nnz nnz(A)`` flops.
Embedding guarantee: ``k = O(d log d / eps^2)`` with ``nnz = O(log d / eps)`` (Cohen, SODA
2016); ``nnz = 8`` in practice.

``sparse_sign`` runs on torch (CPU and CUDA; dense or sparse CSR ``A``); ``sparse_sign_numpy`` on
NumPy arrays and SciPy sparse matrices. Both draw ``S`` from ``seed`` once (``_common``).
"""

from __future__ import annotations

from typing import Any

from matrixbench.registry import method

from ._common import NNZ, SEED, cached_operator, sparse_sign_flops

PARAMS = {"seed": SEED, "nnz": NNZ}


@method("sketch", "sparse_sign", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"), sparse=True,
        params=PARAMS, flops=sparse_sign_flops, renamed_from={"sparse_sign_numpy": "numpy"})
def sparse_sign(A: Any, k: int, seed: int = 0, nnz: int = 8) -> Any:
    """``S A`` with the sparse_sign operator (torch, or NumPy / SciPy sparse)."""
    return cached_operator("sparse_sign", A, k, seed, nnz).apply(A)
