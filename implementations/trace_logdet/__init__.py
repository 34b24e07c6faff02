"""Task ``trace_logdet``: ``tr(A)`` and ``log det(A) = tr(log A)`` of a symmetric positive
(semi)definite ``A`` that methods see only through products ``A @ V``, within a budget.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 eigenvalue reference; Girard-Hutchinson (Rademacher
and Gaussian probes), Hutch++, Nystrom++, XTrace and XNysTrace (trace); stochastic Lanczos
quadrature (trace and log-determinant); the curvlinops and GPyTorch estimators as
baselines where they install. Generators: XTrace's test spectra, the Gauss-Newton matrix
of a small autoencoder on a real data set (an implicit ``J^T J``), an RBF kernel matrix
of real points.
"""
