"""Problem generators shared by tasks; each module registers its generators on import.

A generator is a pure function ``fn(rng, **params) -> float64 ndarray``: the same
parameters and the same ``numpy.random.Generator`` state give the same array, bit for
bit, whatever the caller's thread settings (products and factorizations run on one
BLAS thread). Another machine or BLAS build may differ in the last bits.
Outputs are float64 and C-contiguous. Generators with a ``batch`` parameter return
``(batch, n, n)`` even for ``batch = 1``; the others return one ``(n, n)`` matrix.

==============  ==============  ====================================================
module          generators      what
==============  ==============  ====================================================
``spd``         ``spd``         ``Q diag(l) Q^T``, prescribed spectrum and condition
``gram``        ``gram``        ``X X^T / d`` of Gaussian ``X`` (Song et al. 2022)
``classical``   ``hilbert``,    fixed classical SPD test matrices (Higham, ch. 28)
                ``lehmer``,
                ``pascal``
``covariance``  ``covariance``  shrunk covariance of real features from ``datasets/``
``singular``    ``singular``,   ``m x n`` matrices ``U diag(s) V^T`` with prescribed
                ``lowrank_``    singular values; rank r plus noise; Gaussian
                ``noise``,
                ``gaussian``
``weights``     ``weights``     weight matrices of a trained transformer (optional
                                extra ``weights``: all-MiniLM-L6-v2)
``shampoo``     ``tridiagonal``, Shampoo's tests: tridiag(beta, alpha, beta); the
                ``grad_stats``  accumulated gradient statistic sum_t G_t G_t^T / T
``stream``      ``sparse_``     sparse planted low rank plus noise, then T blocks of
                ``stream``      new rows (a dict ``{"A", "updates"}``)
``regression``  ``lstsq_*``     least-squares problems ``{"A", "b"}``: Gaussian,
                                planted spectrum, coherent rows, sparse, embeddings
``tall``        ``tall_*``,     tall ``n x d`` for sketching: Gaussian, coherent rows,
                ``product_``    s non-zeros per row; the pair ``{"A", "B"}`` of
                ``pair``        ``A^T B`` (dense or sparse, shared row scaling)
``lowrank``     ``lowrank_``    decaying low-rank signal (exponential or polynomial,
                ``decay``,      effective rank) plus a noise tail; sparse planted
                ``sparse_``     low rank on a random pattern (CSR, given density)
                ``lowrank``
==============  ==============  ====================================================

``real_data`` loads and checksums the files of ``datasets/`` (no generator).
"""

from . import classical, covariance, gram, spd  # noqa: F401  (importing registers them)
from . import shampoo, singular, weights  # noqa: F401
from . import lowrank, regression, stream, tall  # noqa: F401
from .real_data import DatasetError, load_dataset

__all__ = ["DatasetError", "load_dataset"]
