"""Task ``nystrom_cur``: low-rank approximation of a matrix from a few of its entries.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 best rank-``k`` approximation (reference); Nyström
approximations of a positive semidefinite kernel matrix from sampled columns (uniform,
ridge leverage scores by recursive sampling, randomly pivoted Cholesky and its
accelerated block version, greedy pivoted Cholesky); CUR decompositions by leverage
scores and by DEIM, and a randomized interpolative decomposition; baselines
scikit-learn's ``Nystroem`` and SciPy's ``linalg.interpolative``. Methods see the matrix
only through a counted entry oracle (:mod:`matrixbench.entries`). Problems: the generic
kernels of :mod:`matrixbench.generators.kernel_points` (real data sets, the randomly
pivoted Cholesky paper's "smile" and spiral) and any explicit matrix.
"""
