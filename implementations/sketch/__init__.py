"""Task ``sketch``: oblivious subspace embeddings ``S A`` of tall matrices.

Importing this package registers the task and its methods (see matrixbench.registry): the
orthogonal-projection reference, the five shared operators of ``implementations._sketching``
on torch (CPU/CUDA) and on NumPy/SciPy (``*_numpy``), dense or sparse, and the
scikit-learn random projections as baselines.
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, gaussian, srht, countsketch, sparse_sign, very_sparse  # noqa: F401
from . import sklearn_projections  # noqa: F401
