"""Task ``svd_topk``: the rank-k truncated SVD of an m x n matrix, dense or sparse.

Importing this package registers the task and its methods (see matrixbench.registry):
the float64 reference (full SVD or ARPACK), the optimized randomized SVD (Halko,
Martinsson and Tropp), block Krylov (Musco and Musco) and thick-restarted Lanczos
bidiagonalization, each in torch and in NumPy/SciPy, and the baselines: scikit-learn's
and PyTorch's randomized SVDs, SciPy's ``svds`` (ARPACK, PROPACK, LOBPCG) and the full
SVD of PyTorch and NumPy, truncated.
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, randomized, block_krylov, lanczos  # noqa: F401
from . import sklearn_rsvd, scipy_svds, torch_lowrank, full_svd  # noqa: F401
