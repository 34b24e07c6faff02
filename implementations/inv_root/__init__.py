"""Task ``inv_root``: inverse p-th roots ``(A + eps I)^{-1/p}`` of SPD matrices (Shampoo).

Importing this package registers the task and its methods (see matrixbench.registry).
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, eigh, coupled_newton, warm_start  # noqa: F401
