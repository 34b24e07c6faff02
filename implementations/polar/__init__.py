"""Task ``polar``: the orthogonal polar factor ``U V^T`` of batched m x n matrices.

Importing this package registers the task and its methods (see matrixbench.registry):
the float64 SVD reference, ``torch_svd`` (baseline), the cubic and Muon's quintic
Newton-Schulz, Polar Express, scaled Newton (square inputs) and QDWH.
"""

from . import task  # noqa: F401  (the task first: methods refer to it by name)
from . import reference, torch_svd, newton_schulz, polar_express, newton, qdwh  # noqa: F401
