"""Task ``svd_update``: the rank-k SVD of ``[A; E]`` (or ``[A, E]``) from a rank-k SVD of ``A``.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods:
the recomputed float64 reference, Zha-Simon (1999), Brand's incremental SVD (2006), the
sparsity-exploiting update of Deng et al. (ICLR 2024), each in NumPy/SciPy and torch,
and the baseline that recomputes with randomized SVD. It builds on ``svd_topk`` (its
reference, metrics and randomized SVD).
"""
