"""Tall matrices for sketching, least squares and approximate products: ``tall_gaussian``,
``tall_coherent``, ``tall_sparse``.

- ``tall_gaussian``: ``n x d`` of independent standard normals, the usual random input
  (well conditioned when ``n >> d``: singular values in ``sqrt(n) +- sqrt(d)``).
- ``tall_coherent``: the same with row ``i`` scaled by ``exp(sigma z_i)``, ``z_i`` standard
  normal (log-normal row norms): a few rows carry most of the energy and of the leverage,
  so uniform row sampling misses them, and sketches whose columns are very sparse
  (``very_sparse``) can miss them too (Avron, Maymounkov & Toledo, "Blendenpik", 2010,
  sec. 5, use such coherent matrices; Li, Hastie & Church, 2006, discuss heavy tails).
- ``tall_sparse``: a SciPy CSR ``n x d`` with exactly ``s`` non-zeros per row at distinct
  uniform columns, standard normal values, rows optionally scaled log-normally (``sigma``).

The ``matmul_approx`` task's ``product_pair`` builds on ``row_scales`` and ``sparse_rows``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..params import Param
from ..registry import generator
from .common import serial_blas


def row_scales(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """``exp(sigma z_i)``; all ones for ``sigma = 0`` (no draw, so the stream is unchanged)."""
    return np.exp(sigma * rng.standard_normal(n)) if sigma > 0 else np.ones(n)


def distinct_columns(rng: np.random.Generator, n: int, d: int, s: int) -> np.ndarray:
    """``n x s`` column indices, distinct within each row, sorted, uniform over s-subsets.

    Draw with replacement, then redraw the rows that hold a repeat until none does (the
    accepted rows are uniform s-subsets; with ``s << d`` few rows are redrawn)."""
    if not 1 <= s <= d:
        raise ValueError(f"need 1 <= s <= d; got s={s}, d={d}")
    cols = np.sort(rng.integers(0, d, (n, s)), axis=1)
    bad = np.flatnonzero((np.diff(cols, axis=1) == 0).any(axis=1)) if s > 1 else np.zeros(0, int)
    while bad.size:
        cols[bad] = np.sort(rng.integers(0, d, (bad.size, s)), axis=1)
        bad = bad[(np.diff(cols[bad], axis=1) == 0).any(axis=1)]
    return cols


def sparse_rows(rng: np.random.Generator, n: int, d: int, s: int, scales: np.ndarray) -> sp.csr_matrix:
    """CSR ``n x d`` with ``s`` standard normal non-zeros per row, row ``i`` times ``scales[i]``."""
    cols = distinct_columns(rng, n, d, s)
    vals = rng.standard_normal((n, s)) * scales[:, None]
    indptr = np.arange(0, n * s + 1, s, dtype=np.int64)
    return sp.csr_matrix((vals.reshape(-1), cols.reshape(-1), indptr), shape=(n, d))


@generator(
    "tall_gaussian",
    params={"n": Param(int, min=1, doc="rows"), "d": Param(int, 100, min=1, doc="columns")},
)
def tall_gaussian(rng: np.random.Generator, n: int, d: int = 100) -> np.ndarray:
    """``n x d`` independent standard normals."""
    return rng.standard_normal((n, d))


@generator(
    "tall_coherent",
    params={
        "n": Param(int, min=1, doc="rows"),
        "d": Param(int, 100, min=1, doc="columns"),
        "sigma": Param(float, 2.0, min=0.0, doc="log-normal spread of the row norms"),
    },
)
def tall_coherent(rng: np.random.Generator, n: int, d: int = 100, sigma: float = 2.0) -> np.ndarray:
    """Gaussian ``n x d`` with rows scaled by ``exp(sigma z_i)`` (heavy-tailed row norms)."""
    A = rng.standard_normal((n, d))
    A *= row_scales(rng, n, sigma)[:, None]
    return A


@generator(
    "tall_sparse",
    params={
        "n": Param(int, min=1, doc="rows"),
        "d": Param(int, 100, min=1, doc="columns"),
        "s": Param(int, 8, min=1, doc="non-zeros per row"),
        "sigma": Param(float, 0.0, min=0.0, doc="log-normal spread of the row norms (0: none)"),
    },
)
def tall_sparse(rng: np.random.Generator, n: int, d: int = 100, s: int = 8, sigma: float = 0.0) -> sp.csr_matrix:
    """SciPy CSR ``n x d`` with ``s`` non-zeros per row (distinct uniform columns)."""
    return sparse_rows(rng, n, d, s, row_scales(rng, n, sigma))
