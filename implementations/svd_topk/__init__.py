"""Task ``svd_topk``: the rank-k truncated SVD of an m x n matrix, dense or sparse.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods:
the float64 reference (full SVD or ARPACK), the optimized randomized SVD (Halko,
Martinsson and Tropp), block Krylov (Musco and Musco) and thick-restarted Lanczos
bidiagonalization, each in torch and in NumPy/SciPy, and the baselines: scikit-learn's
and PyTorch's randomized SVDs, SciPy's ``svds`` (ARPACK, PROPACK, LOBPCG) and the full
SVD of PyTorch and NumPy, truncated.
"""
