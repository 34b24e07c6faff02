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
``tall``        ``tall_*``      tall ``n x d``: Gaussian, coherent rows, s non-zeros
                                per row (sketching, least squares, products)
``lowrank``     ``lowrank_``    decaying low-rank signal (exponential or polynomial,
                ``decay``       effective rank) plus a noise tail
``files``       ``file``        your own matrix: .npy, .npz, Matrix Market,
                                .safetensors; its content hash in the key
``laplacian``   ``laplacian_``  sparse five-point Laplacian of a ``g x g`` grid,
                ``2d``          optionally anisotropic (iterative solvers)
``kernel_``     ``kernel_*``    kernel matrices given by their points (real data,
``points``                      MiniLM embeddings, Gaussian mixtures, the RPCholesky
                                paper's smile and spiral), never formed
==============  ==============  ====================================================

``real_data`` loads and checksums the files of ``datasets/`` (no generator); ``common``
holds the helpers every generator uses (one BLAS thread, Haar frames, symmetrizing).

These are the generic generators: any task may use them. A generator that makes one
task's inputs (a dict shaped for that task, say) lives in the task's folder, registered
with ``task="<name>"`` (``implementations/lstsq/generators.py``, for one).
"""

from . import classical, covariance, gram, spd  # noqa: F401  (importing registers them)
from . import singular, weights  # noqa: F401
from . import files, kernel_points, laplacian, lowrank, tall  # noqa: F401
from .real_data import DatasetError, load_dataset

__all__ = ["DatasetError", "load_dataset"]
