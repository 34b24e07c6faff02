"""Task ``matmul_approx``: approximate products ``A^T B`` from budgeted sketches.

Importing this package registers the task and its methods (see matrixbench.registry): the
exact float64 product (reference) and the exact product in the cell's dtype (baseline),
column-row sampling (Drineas-Kannan-Mahoney), Gaussian and CountSketch linear sketches,
and coordinated (threshold / priority) sampling with a shared seed.
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, row_sampling, linear, coordinated  # noqa: F401
