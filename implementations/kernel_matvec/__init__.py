"""Task ``kernel_matvec``: products ``K V`` with a kernel matrix too large to store.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 tiled exact product (reference, on a sample of the
output rows when ``n`` is large); the tiled exact product in the cell's dtype; random
Fourier features, orthogonal random features, simplex random features and Nyström
features; baselines scikit-learn's ``RBFSampler`` and KeOps where it installs. Problems:
the generic kernels given by their points (:mod:`matrixbench.generators.kernel_points`).
"""
