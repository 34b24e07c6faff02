"""Task ``sqrtm``: square root and inverse square root of batched SPD matrices.

Importing this package registers the task and its methods (see matrixbench.registry).
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, scipy_sqrtm, newton_schulz, denman_beavers, taylor, pade  # noqa: F401
