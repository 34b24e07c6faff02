"""Task ``spd_solve``: ``A x = b`` for a symmetric positive definite ``A``, dense or sparse.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 Cholesky reference (sparse: a symmetric ``L D L^T``);
conjugate gradients plain and preconditioned (Jacobi, randomized Nyström, SSOR), SOR,
mixed-precision iterative refinement; baselines ``torch.linalg.cholesky`` +
``cholesky_solve``, SciPy's ``cg`` and ``spsolve``, PyAMG's smoothed aggregation and
ilupp's incomplete Cholesky where they install. Generator: kernel ridge regression
systems of real data (``krr_system``); the generic ``spd`` and ``laplacian_2d`` give
controlled condition numbers and sparse grids.
"""
