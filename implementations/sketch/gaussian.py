"""Gaussian sketch ``S = G / sqrt(k)``, applied by the shared operator.

Paper and distribution: ``common.sketching.gaussian``: Johnson-Lindenstrauss; Sarlos (FOCS 2006).
Apply cost: ``2 k nnz(A)`` flops (plus ``k n`` normal draws per apply when ``hold=False``).
Embedding guarantee: distortion about ``sqrt(d/k)`` (Davidson-Szarek): ``k = O(d / eps^2)``.

``gaussian`` runs on torch (CPU and CUDA; dense or sparse CSR ``A``); ``gaussian_numpy`` on
NumPy arrays and SciPy sparse matrices. Both draw ``S`` from ``seed`` once and, with
``hold=True`` (default), keep it; ``hold=False`` times the draw of the ``k n`` normals in
every apply (``_common``).
"""

from __future__ import annotations

from typing import Any

from matrixbench.registry import method

from ._common import HOLD, SEED, cached_operator, gaussian_flops

PARAMS = {"seed": SEED, "hold": HOLD}


@method("sketch", "gaussian", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"), sparse=True,
        params=PARAMS, flops=gaussian_flops, renamed_from={"gaussian_numpy": "numpy"})
def gaussian(A: Any, k: int, seed: int = 0, hold: bool = True) -> Any:
    """``S A`` with the gaussian operator (torch, or NumPy / SciPy sparse)."""
    return cached_operator("gaussian", A, k, seed, hold=hold).apply(A)
