"""Task ``svd_update``: the rank-k SVD of ``[A; E]`` (or ``[A, E]``) from a rank-k SVD of ``A``.

Importing this package registers the task and its methods (see matrixbench.registry):
the recomputed float64 reference, Zha-Simon (1999), Brand's incremental SVD (2006), the
sparsity-exploiting update of Deng et al. (ICLR 2024), each in NumPy/SciPy and torch,
and the baseline that recomputes with randomized SVD. It builds on ``svd_topk`` (its
reference, metrics and randomized SVD).
"""

import implementations.svd_topk  # noqa: F401  (the reference and randomized SVD we reuse)

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, zha_simon, brand, sparse_update, recompute  # noqa: F401
