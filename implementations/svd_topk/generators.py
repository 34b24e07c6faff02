"""Inputs of the ``svd_topk`` task's sparse case: ``sparse_lowrank``, a SciPy CSR matrix
with about ``density m n`` stored entries, the observed part of a planted rank-``rank``
matrix plus entrywise noise (the model of :mod:`implementations.common.cocluster`, which
``svd_update``'s ``sparse_stream`` also draws from, without its stream).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from implementations.common.cocluster import cocluster_stream
from matrixbench.params import Param
from matrixbench.registry import generator


@generator(
    "sparse_lowrank",
    task="svd_topk",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns"),
        "density": Param(float, 1e-3, min=0.0, max=1.0, doc="stored entries / (m n), about (repeats merge)"),
        "rank": Param(int, 10, min=1, doc="rank of the planted low-rank part"),
        "decay": Param(float, 0.7, min=0.0, max=1.0, doc="geometric decay of its weights"),
        "noise": Param(float, 0.1, min=0.0, doc="entrywise noise relative to the low-rank part's rms"),
    },
)
def sparse_lowrank(
    rng: np.random.Generator,
    m: int,
    n: int,
    density: float = 1e-3,
    rank: int = 10,
    decay: float = 0.7,
    noise: float = 0.1,
) -> sp.csr_matrix:
    """A sparse m x n CSR matrix: a planted low-rank matrix observed on a random pattern, plus noise."""
    nnz = max(1, round(density * m * n))
    return cocluster_stream(rng, m, n, nnz, rank=rank, decay=decay, noise=noise, updates=0)["A"]
