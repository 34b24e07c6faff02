"""Task ``lstsq``: overdetermined least squares ``min ||A x - b||``, ``m >> n``, dense or sparse ``A``.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods:
the float64 Householder-QR reference; baselines ``numpy_lstsq``, ``scipy_lstsq``,
``torch_lstsq`` (LAPACK) and ``scipy_lsqr`` (unpreconditioned LSQR); optimized
``sketch_and_solve``, ``blendenpik`` and ``lsrn`` (sketch-and-precondition + our LSQR),
``leverage_sampling`` (approximate leverage scores by sketching) and ``normal_cholesky``.
"""
