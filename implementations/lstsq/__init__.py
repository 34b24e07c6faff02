"""Task ``lstsq``: overdetermined least squares ``min ||A x - b||``, ``m >> n``, dense or sparse ``A``.

Importing this package registers the task and its methods (see matrixbench.registry):
the float64 Householder-QR reference; baselines ``numpy_lstsq``, ``scipy_lstsq``,
``torch_lstsq`` (LAPACK) and ``scipy_lsqr`` (unpreconditioned LSQR); optimized
``sketch_and_solve``, ``blendenpik`` and ``lsrn`` (sketch-and-precondition + our LSQR),
``leverage_sampling`` (approximate leverage scores by sketching) and ``normal_cholesky``.
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, library, scipy_lsqr  # noqa: F401
from . import sketch_and_solve, blendenpik, lsrn, leverage_sampling, normal_cholesky  # noqa: F401
