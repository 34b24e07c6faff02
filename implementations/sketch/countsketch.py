"""CountSketch: one ``+-1`` per column of ``S``, applied by the shared operator.

Paper and distribution: ``common.sketching.sparse``: Charikar et al. (ICALP 2002); Clarkson & Woodruff (STOC 2013).
Apply cost: ``nnz(A)`` additions: input-sparsity time.
Embedding guarantee: ``k = O(d^2 / eps^2)``: needs larger ``k`` than the dense sketches.

``countsketch`` runs on torch (CPU and CUDA; dense or sparse CSR ``A``); ``countsketch_numpy`` on
NumPy arrays and SciPy sparse matrices. Both draw ``S`` from ``seed`` once (``_common``).
"""

from __future__ import annotations

from typing import Any

from matrixbench.registry import method

from ._common import SEED, cached_operator, countsketch_flops

PARAMS = {"seed": SEED}


@method("sketch", "countsketch", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"), sparse=True,
        params=PARAMS, flops=countsketch_flops, renamed_from={"countsketch_numpy": "numpy"})
def countsketch(A: Any, k: int, seed: int = 0) -> Any:
    """``S A`` with the countsketch operator (torch, or NumPy / SciPy sparse)."""
    return cached_operator("countsketch", A, k, seed).apply(A)
