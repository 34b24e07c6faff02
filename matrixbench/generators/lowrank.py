"""Low-rank-plus-tail matrices for truncated SVD and its updates: ``lowrank_decay``.

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

``sparse_lowrank`` (the sparse case of ``svd_topk``) is in that task's folder.
"""

from __future__ import annotations

import math

import numpy as np

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
