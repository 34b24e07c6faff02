"""Inputs of the ``svd_update`` task: ``sparse_stream``, a sparse matrix with a planted
low-rank part and a stream of new row blocks (the model of
:func:`implementations.common.cocluster.cocluster_stream`, which ``sparse_lowrank`` also
draws from: Zha and Simon, SIAM J. Sci. Comput. 21(2), 1999; Deng et al., ICLR 2024).
Returns ``{"A": CSR (m x n), "updates": [CSR (block x n)] * updates}``, float64.
"""

from __future__ import annotations

import numpy as np

from implementations.common.cocluster import cocluster_stream
from matrixbench.params import Param
from matrixbench.registry import generator


@generator(
    "sparse_stream",
    task="svd_update",
    params={
        "m": Param(int, min=1, doc="rows of the initial matrix A"),
        "n": Param(int, min=1, doc="columns"),
        "nnz": Param(int, min=1, doc="stored entries of A (in expectation; repeats are merged)"),
        "rank": Param(int, 10, min=1, doc="rank of the planted part (number of co-clusters)"),
        "decay": Param(float, 0.9, min=0.0, max=1.0, doc="geometric decay w_l = decay^l of the blocks"),
        "signal": Param(float, 0.5, min=0.0, max=1.0, doc="fraction of the entries in the planted blocks"),
        "noise": Param(float, 1.0, min=0.0, doc="standard deviation of the noise entries"),
        "updates": Param(int, 1, min=0, doc="number T of row blocks in the stream"),
        "block": Param(int, 100, min=1, doc="rows per block"),
    },
)
def sparse_stream(rng: np.random.Generator, m: int, n: int, nnz: int, **params: object) -> dict[str, object]:
    """A sparse m x n matrix (planted co-clusters plus noise) and T blocks of new rows."""
    return cocluster_stream(rng, m, n, nnz, **params)  # type: ignore[arg-type]
