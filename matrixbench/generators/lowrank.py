"""Low-rank-plus-tail matrices for truncated SVD: ``lowrank_decay`` (dense), ``sparse_lowrank``.

Truncated SVD is only worth computing when the spectrum decays: a few strong directions
over a tail. How fast it decays and how heavy the tail is decide which method wins (power
iterations, Krylov depth, restarts), so both are parameters.

``lowrank_decay`` follows scikit-learn's ``make_low_rank_matrix`` (an effective rank and a
tail strength) with the tail made of noise::

    A = U diag(s) V^T + t G / (sqrt(m) + sqrt(n)),   s_i = (1 - t) f(i),  i = 0..r-1

``U`` (m x r) and ``V`` (n x r) Haar-random frames, ``G`` standard normal, ``t`` the
``tail_strength`` and ``R`` the ``effective_rank``:

- ``exponential``: ``f(i) = exp(-i / R)`` (the signal falls by ``e`` every ``R`` values);
- ``polynomial``: ``f(i) = (1 + i / R)^(-2)`` (the power law of trained weights).

The signal has ``r = min(m, n, 10 R)`` terms (``f(10 R)`` is ``4.5e-5`` and ``1/121``).
The noise has spectral norm about ``t`` (``||G||_2 ~ sqrt(m) + sqrt(n)``, Geman 1980) and
its singular values fill ``t [(sqrt(M) - sqrt(N)) / (sqrt(M) + sqrt(N)), 1]`` (``M >= N``
the two sides, Marchenko-Pastur): the tail ``||A - A_k||_F`` is about
``t (min(m, n))^{1/2} / (1 + sqrt(N / M))`` once ``k`` is past the signal, so the
optimality ratio of a rank-k method is measured against a non-trivial tail. ``t = 0``
gives exactly ``s`` as the spectrum. Cost: ``4 (m + n) r^2`` flops for the frames,
``2 m n r`` for the product, ``m n`` normal draws.

``sparse_lowrank`` is a SciPy CSR matrix with about ``density m n`` stored entries, the
observed part of a planted rank-``rank`` matrix plus entrywise noise: the model of the
``sparse_stream`` generator (:mod:`.stream`, the inputs of ``svd_update``) without its
stream, so that both tasks see the same kind of matrix. The dense matrix is never formed:
10^6 x 10^4 with 10^6 entries takes ``O(nnz rank)`` time and memory.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..params import Param
from ..registry import generator
from .common import serial_blas
from .singular import haar_frame

DECAYS: tuple[str, ...] = ("exponential", "polynomial")


def decay_profile(r: int, effective_rank: float, decay: str) -> np.ndarray:
    """``f(i)``, i = 0..r-1, of :func:`lowrank_decay` (``f(0) = 1``, decreasing)."""
    i = np.arange(r, dtype=np.float64)
    if decay == "exponential":
        return np.exp(-i / effective_rank)
    if decay == "polynomial":
        return (1.0 + i / effective_rank) ** -2.0
    raise ValueError(f"decay must be one of {DECAYS}, found {decay!r}")


def signal_rank(m: int, n: int, effective_rank: float) -> int:
    """Number ``r`` of signal terms: ``min(m, n, ceil(10 R))``."""
    return int(min(m, n, math.ceil(10 * effective_rank)))


@generator(
    "lowrank_decay",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns"),
        "effective_rank": Param(float, 10.0, min=0.1, doc="R: the signal falls off over about R values"),
        "decay": Param(str, "exponential", choices=DECAYS, doc="exp(-i/R) or (1 + i/R)^-2"),
        "tail_strength": Param(float, 0.05, min=0.0, max=1.0, doc="t: spectral norm of the noise tail (s_0 = 1 - t)"),
    },
)
def lowrank_decay(
    rng: np.random.Generator,
    m: int,
    n: int,
    effective_rank: float = 10.0,
    decay: str = "exponential",
    tail_strength: float = 0.05,
) -> np.ndarray:
    """An m x n matrix: decaying low-rank signal plus a Gaussian noise tail (module docstring)."""
    r = signal_rank(m, n, effective_rank)
    s = (1.0 - tail_strength) * decay_profile(r, effective_rank, decay)
    with serial_blas():
        U = haar_frame(rng, m, r, 1)[0]
        V = haar_frame(rng, n, r, 1)[0]
        A = (U * s) @ V.T
    if tail_strength > 0:
        A += (tail_strength / (math.sqrt(m) + math.sqrt(n))) * rng.standard_normal((m, n))
    return np.ascontiguousarray(A)


@generator(
    "sparse_lowrank",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns"),
        "density": Param(float, 1e-3, min=0.0, max=1.0, doc="stored entries / (m n), about (repeats merge)"),
        "rank": Param(int, 10, min=1, doc="rank of the planted low-rank part"),
        "decay": Param(float, 0.7, min=0.0, max=1.0, doc="geometric decay of its weights"),
        "noise": Param(float, 0.1, min=0.0, doc="entrywise noise relative to the low-rank part's rms"),
    },
)
def sparse_lowrank(
    rng: np.random.Generator,
    m: int,
    n: int,
    density: float = 1e-3,
    rank: int = 10,
    decay: float = 0.7,
    noise: float = 0.1,
) -> sp.csr_matrix:
    """A sparse m x n CSR matrix: a planted low-rank matrix observed on a random pattern, plus noise."""
    nnz = max(1, round(density * m * n))
    return cocluster_stream(rng, m, n, nnz, rank=rank, decay=decay, noise=noise, updates=0)["A"]


def _rows(rng: np.random.Generator, rows: int, n: int, cols: list[np.ndarray], y: list[np.ndarray],
          w: np.ndarray, pr: float, noise_per_row: float, noise: float) -> sp.csr_matrix:
    """``rows`` new rows of the model: the planted blocks they join, plus noise."""
    r_parts, c_parts, v_parts = [], [], []
    for l, (C, yl) in enumerate(zip(cols, y)):
        R = np.flatnonzero(rng.random(rows) < pr)
        x = rng.standard_normal(R.size)
        r_parts.append(np.repeat(R, C.size))
        c_parts.append(np.tile(C, R.size))
        v_parts.append((w[l] * np.outer(x, yl)).ravel())
    counts = rng.poisson(noise_per_row, size=rows)
    r_parts.append(np.repeat(np.arange(rows), counts))
    c_parts.append(rng.integers(0, n, size=int(counts.sum())))
    v_parts.append(noise * rng.standard_normal(int(counts.sum())))
    out = sp.csr_matrix((np.concatenate(v_parts), (np.concatenate(r_parts), np.concatenate(c_parts))),
                        shape=(rows, n))
    out.sum_duplicates()
    return out


def cocluster_stream(
    rng: np.random.Generator,
    m: int,
    n: int,
    nnz: int,
    rank: int = 10,
    decay: float = 0.9,
    signal: float = 0.5,
    noise: float = 1.0,
    updates: int = 1,
    block: int = 100,
) -> dict[str, object]:
    """A sparse m x n matrix with planted co-clusters plus noise, and T blocks of new rows.

    The inputs of truncated-SVD updating (latent semantic indexing, recommender and graph
    embeddings: Zha and Simon, SIAM J. Sci. Comput. 21(2), 1999; Deng et al., "Fast Updating
    Truncated SVD for Representation Learning with Sparse Matrices", ICLR 2024) are large
    sparse matrices that grow by blocks of rows (new documents, users, nodes). The model here
    is a planted co-cluster structure (a sparse low-rank part: groups of rows that use
    groups of columns, like topics in a term-document matrix or communities in a graph)
    plus sparse noise:

    - component ``l = 0..rank-1`` has a fixed column set ``C_l`` (each column joins with
      probability ``pc``) and a row set ``R_l`` (each row, old or new, joins with
      probability ``pr``); on ``R_l x C_l`` it adds ``w_l x_i y_j`` with ``x, y`` standard
      normal and ``w_l = decay^l``: a rank-one block, so the planted part has rank
      ``rank`` and singular values about ``w_l sqrt(|R_l| |C_l|)``;
    - ``pr = pc = (signal nnz / (rank m n))^{1/2}``, so that the blocks hold a fraction
      ``signal`` of the ``nnz`` entries;
    - the other ``(1 - signal) nnz`` entries are at uniformly random positions (Poisson
      counts per row), standard normal times ``noise``: a bulk of singular values of about
      ``noise ((nnz'/m)^{1/2} + (nnz'/n)^{1/2})`` (``nnz'`` the noise entries).

    (Observing a dense low-rank matrix on a uniform pattern instead, ``P_Omega(L)``, buries
    the low-rank part under its own sampling noise at ten entries per row: the spectrum is
    flat, measured on 1e5 x 1e4 with 1e6 entries.) Repeated positions are summed.

    The stream's rows come from the same model (new rows join the same components, whose
    columns are fixed; noise at the same density), so the updated matrix keeps its
    structure: ``updates`` blocks of ``block`` rows each. Returns
    ``{"A": CSR (m x n), "updates": [CSR (block x n)] * updates}``, float64. Cost and
    memory ``O(nnz)``: the dense ``m x n`` matrix is never formed.
    """
    p = min(1.0, float(np.sqrt(signal * nnz / (rank * m * n))))
    w = decay ** np.arange(rank, dtype=np.float64)
    cols = [np.flatnonzero(rng.random(n) < p) for _ in range(rank)]
    y = [rng.standard_normal(C.size) for C in cols]
    noise_per_row = (1.0 - signal) * nnz / m
    A = _rows(rng, m, n, cols, y, w, p, noise_per_row, noise)
    blocks = [_rows(rng, block, n, cols, y, w, p, noise_per_row, noise) for _ in range(updates)]
    return {"A": A, "updates": blocks}
