"""Subsampled randomized Hadamard transform ``S = R H D / sqrt(k)``, applied by the shared operator.

Paper and distribution: ``common.sketching.srht``: Ailon & Chazelle (SICOMP 2009); Tropp (2011).
Apply cost: ``n' d log2 n'`` additions, ``n' = 2^ceil(log2 n)`` (our FWHT; sparse ``A`` densified).
Embedding guarantee: ``k = O((d + log n) log d / eps^2)`` (Tropp 2011, Thm 3.1); ``k = 2d..4d`` in practice.

``srht`` runs on torch (CPU and CUDA; dense or sparse CSR ``A``); ``srht_numpy`` on
NumPy arrays and SciPy sparse matrices. Both draw ``S`` from ``seed`` once (``_common``).
"""

from __future__ import annotations

from typing import Any

from matrixbench.registry import method

from ._common import SEED, cached_operator, srht_flops

PARAMS = {"seed": SEED}


@method("sketch", "srht", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"), sparse=True,
        params=PARAMS, flops=srht_flops, renamed_from={"srht_numpy": "numpy"})
def srht(A: Any, k: int, seed: int = 0) -> Any:
    """``S A`` with the srht operator (torch, or NumPy / SciPy sparse)."""
    return cached_operator("srht", A, k, seed).apply(A)
