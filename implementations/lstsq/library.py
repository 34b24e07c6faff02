"""Baselines: the library least-squares solvers a user calls without thinking.

- ``numpy_lstsq``: ``numpy.linalg.lstsq(A, b, rcond=None)``, LAPACK ``gelsd`` (SVD by
  divide and conquer after a QR when ``m >> n``): rank-revealing, the most robust and
  the slowest (``2 m n^2 + O(n^3)`` flops but the SVD's bidiagonalization is level-2 BLAS).
- ``scipy_lstsq``: ``scipy.linalg.lstsq(A, b, lapack_driver=driver)``: ``gelsd`` (default),
  ``gelsy`` (QR with column pivoting, ``geqp3``) or ``gelss`` (one-sided SVD).
- ``torch_lstsq``: ``torch.linalg.lstsq(A, b)``: on the CPU LAPACK ``gelsy`` by default,
  on CUDA ``gels`` (QR, full rank assumed: the only driver there).

All backward stable: forward error ``u kappa + u kappa^2 ||r|| / (||A|| ||x||)``.
Cost: about ``2 n^2 (m - n/3)`` flops for the QR they start with; we count that.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.linalg as sla
import torch

from matrixbench.params import Param
from matrixbench.registry import method

from .reference import reference_flops

TORCH_DRIVERS = ("default", "gels", "gelsy", "gelsd", "gelss")


def library_flops(inputs: Mapping[str, Any], driver: str = "") -> float:
    """Householder QR's count for every LAPACK driver: exact for gels and gelsy (QR with
    pivoting), a lower bound for the SVD-based gelsd and gelss."""
    return reference_flops(inputs)


@method("lstsq", "numpy_lstsq", kind="baseline", backends=("numpy",), dtypes=("float32", "float64"), flops=reference_flops)
def numpy_lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``numpy.linalg.lstsq(A, b, rcond=None)`` (LAPACK gelsd)."""
    return np.linalg.lstsq(A, b, rcond=None)[0]


@method("lstsq", "scipy_lstsq", kind="baseline", backends=("numpy",), dtypes=("float32", "float64"), flops=library_flops,
        params={"driver": Param(str, "gelsd", choices=("gelsd", "gelsy", "gelss"), doc="LAPACK driver")})
def scipy_lstsq(A: np.ndarray, b: np.ndarray, driver: str = "gelsd") -> np.ndarray:
    """``scipy.linalg.lstsq(A, b, lapack_driver=driver)``."""
    return sla.lstsq(A, b, lapack_driver=driver, check_finite=False)[0]


@method("lstsq", "torch_lstsq", kind="baseline", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), flops=library_flops,
        params={"driver": Param(str, "default", choices=TORCH_DRIVERS, doc="LAPACK driver (CPU; CUDA has gels only)")})
def torch_lstsq(A: torch.Tensor, b: torch.Tensor, driver: str = "default") -> torch.Tensor:
    """``torch.linalg.lstsq(A, b)`` (CPU: gelsy; CUDA: gels)."""
    return torch.linalg.lstsq(A, b[:, None], driver=None if driver == "default" else driver).solution[:, 0]
