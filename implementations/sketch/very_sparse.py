"""Very sparse random projection, density ``1/sqrt(n)``, applied by the shared operator.

Paper and distribution: ``common.sketching.sparse``: Li, Hastie & Church (KDD 2006).
Apply cost: ``2 k d sqrt(n)`` flops on dense ``A``.
Embedding guarantee: JL for vectors with bounded fourth moments; no worst-case subspace guarantee (coherent rows).

``very_sparse`` runs on torch (CPU and CUDA; dense or sparse CSR ``A``); ``very_sparse_numpy`` on
NumPy arrays and SciPy sparse matrices. Both draw ``S`` from ``seed`` once (``_common``).
"""

from __future__ import annotations

from typing import Any

from matrixbench.registry import method

from ._common import SEED, cached_operator, very_sparse_flops

PARAMS = {"seed": SEED}


@method("sketch", "very_sparse", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"), sparse=True,
        params=PARAMS, flops=very_sparse_flops, renamed_from={"very_sparse_numpy": "numpy"})
def very_sparse(A: Any, k: int, seed: int = 0) -> Any:
    """``S A`` with the very_sparse operator (torch, or NumPy / SciPy sparse)."""
    return cached_operator("very_sparse", A, k, seed).apply(A)
