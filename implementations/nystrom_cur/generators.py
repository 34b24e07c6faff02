"""Kernel matrices given by their points: real data sets and the randomly pivoted Cholesky
paper's test point sets.

- ``kernel_data``: ``n`` standardized rows of a real data set
  (:func:`implementations.common.kernels.standardized_rows`) with a Gaussian or Laplace
  kernel whose bandwidth is a multiple of the median pairwise distance (Euclidean for the
  Gaussian kernel, l1 for the Laplace kernel, as the kernel measures it).
- ``kernel_curve``: the two-dimensional test sets of Chen, Epperly, Tropp and Webber
  ("Randomly pivoted Cholesky", CPAM 2025, section 4.1, Figure 1; point sets as in their
  code, ``gallery.py`` of github.com/eepperly/Randomly-Pivoted-Cholesky):

  - ``smile``: two "eyes" of ``ceil(sqrt(n))`` points each, uniform in unit disks centred
    at ``(-4, 4)`` and ``(4, 4)``; a "mouth" of ``ceil(n / 10)`` points evenly on the
    parabola ``y = x^2 / 16 - 5``, ``-5 <= x <= 5``; the rest evenly on the circle of
    radius 10. Gaussian kernel, bandwidth 2 in the paper: a few dense clusters and a
    sparse outline, where uniform sampling wastes columns on the clusters;
  - ``spiral``: ``t_i = (2 i / (n - 1))^6`` (reversed), points
    ``e^{0.2 t} (cos t, sin t)``: the early points crowd near the origin and the late ones
    spread out far; Gaussian kernel, bandwidth 1000 in the paper.

The generators return ``{"points": X, "kernel": name, "bandwidth": s}``
(:mod:`matrixbench.entries`): the matrix is evaluated only where a method asks.
"""

from __future__ import annotations

import math

import numpy as np

from matrixbench.entries import KERNELS, pairwise
from matrixbench.params import Param
from matrixbench.registry import generator

from implementations.common.kernels import DATASETS, standardized_rows

CURVES = ("smile", "spiral")


def smile(n: int, rng: np.random.Generator) -> np.ndarray:
    """The "smile" point set (see the module docstring)."""
    eye = math.ceil(math.sqrt(n))
    mouth = math.ceil(n / 10)
    face = n - 2 * eye - mouth
    if face < 1:
        raise ValueError(f"smile needs n >= 7 points, got {n}")
    parts = []
    for centre in (-4.0, 4.0):
        radius = np.sqrt(rng.random(eye))  # uniform in the unit disk
        angle = 2 * np.pi * rng.random(eye)
        parts.append(np.column_stack([centre + radius * np.cos(angle), 4.0 + radius * np.sin(angle)]))
    x = np.linspace(-5.0, 5.0, mouth)
    parts.append(np.column_stack([x, x**2 / 16.0 - 5.0]))
    theta = np.linspace(0.0, 2 * np.pi, face)
    parts.append(10.0 * np.column_stack([np.cos(theta), np.sin(theta)]))
    return np.concatenate(parts)


def spiral(n: int) -> np.ndarray:
    """The "spiral" point set (see the module docstring)."""
    t = (np.linspace(0.0, 2.0, n) ** 6)[::-1]
    r = np.exp(0.2 * t)
    return np.column_stack([r * np.cos(t), r * np.sin(t)])


@generator("kernel_curve", task="nystrom_cur", params={
    "curve": Param(str, "smile", choices=CURVES, doc="the point set"),
    "n": Param(int, 1000, min=7, doc="points (the matrix is n x n)"),
    "kernel": Param(str, "gaussian", choices=tuple(KERNELS), doc="the kernel"),
    "bandwidth": Param(float, 2.0, min=0.0, doc="the kernel's bandwidth s (absolute)"),
})
def kernel_curve(rng: np.random.Generator, curve: str = "smile", n: int = 1000, kernel: str = "gaussian",
                 bandwidth: float = 2.0) -> dict:
    """The kernel matrix of a test point set of the randomly pivoted Cholesky paper."""
    X = smile(n, rng) if curve == "smile" else spiral(n)
    return {"points": X, "kernel": kernel, "bandwidth": float(bandwidth)}


def median_distance(X: np.ndarray, kernel: str) -> float:
    """The median pairwise distance of the rows of ``X`` as ``kernel`` measures it."""
    distance = KERNELS[kernel][0]
    D = pairwise(X, X, distance)
    D = np.sqrt(D) if distance == "sqeuclidean" else D
    return float(np.median(D[np.triu_indices(X.shape[0], 1)]))


@generator("kernel_data", task="nystrom_cur", params={
    "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "n": Param(int, 1000, min=2, doc="rows drawn (without replacement) from the data set"),
    "kernel": Param(str, "gaussian", choices=tuple(KERNELS), doc="the kernel"),
    "bandwidth": Param(float, 1.0, min=0.0, doc="s as a multiple of the median pairwise distance"),
})
def kernel_data(rng: np.random.Generator, dataset: str = "digits", n: int = 1000, kernel: str = "gaussian",
                bandwidth: float = 1.0) -> dict:
    """The kernel matrix of ``n`` standardized rows of a real data set."""
    X, _ = standardized_rows(dataset, n, rng)
    return {"points": X, "kernel": kernel, "bandwidth": bandwidth * median_distance(X, kernel)}
