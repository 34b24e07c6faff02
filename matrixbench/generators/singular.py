"""Rectangular matrices with a controlled spectrum: ``singular``, ``lowrank_noise``, ``gaussian``.

The inputs of orthogonalization (polar factors, the Muon optimizer), truncated SVD and
sketching are ``m x n`` matrices, not SPD ones. ``singular`` is MATLAB's
``gallery('randsvd')`` (N. J. Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., SIAM 2002, section 28.3) for rectangular shapes:
``G = U diag(s) V^T`` with ``U`` (``m x k``) and ``V`` (``n x k``), ``k = min(m, n)``,
Haar-random orthonormal frames and singular values ``s`` in ``[1/kappa, 1]``, the
largest exactly 1 and the smallest exactly ``1/kappa``. Log-uniform random singular
values in ``[1/kappa, 1]`` with ``kappa`` in {1e2, 1e3, 1e4} are the test matrices of
Amsel, Persson, Musco and Gower, "The Polar Express" (2025).

``lowrank_noise`` models a gradient: a rank-``r`` signal plus Gaussian noise.
``gaussian`` is a plain matrix of independent standard normals, the usual random input.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ..registry import generator
from .common import serial_blas

DECAYS: tuple[str, ...] = ("loguniform", "geometric", "polynomial")

#: Largest ``kappa`` offered. Forming ``U diag(s) V^T`` in float64 moves every singular
#: value by about ``eps ||G||_2`` (Weyl), so the smallest, ``1/kappa``, is off by a
#: relative ``eps * kappa``: six correct digits up to 1e10.
MAX_KAPPA = 1.0e10


def singular_values(k: int, kappa: float, decay: str, rng: np.random.Generator | None = None) -> np.ndarray:
    """The ``k`` singular values of :func:`singular`, descending, in ``[1/kappa, 1]``.

    - ``loguniform``: ``k - 2`` values drawn independently and log-uniformly in
      ``[1/kappa, 1]`` (``exp`` of a uniform draw in ``[-ln kappa, 0]``), plus the two
      endpoints; the only mode that uses ``rng``;
    - ``geometric``: ``s_i = kappa^(-i/(k-1))``, i = 0..k-1 (``randsvd`` mode 3);
    - ``polynomial``: ``s_i = (i + 1)^(-p)`` with ``p = ln(kappa) / ln(k)``, so that
      ``s_{k-1} = 1/kappa``: the power-law decay of trained weights.

    In every mode the first value is exactly 1 and the last exactly ``1/kappa`` (for
    ``k = 1`` the only value is 1).
    """
    if k == 1:
        return np.ones(1)
    i = np.arange(k, dtype=np.float64)
    if decay == "loguniform":
        if rng is None:
            raise ValueError("the loguniform decay draws random values: pass rng")
        s = np.exp(rng.uniform(-np.log(kappa), 0.0, size=k))
        s = np.sort(s)[::-1].copy()
    elif decay == "geometric":
        s = kappa ** (-i / (k - 1))
    elif decay == "polynomial":
        s = (i + 1.0) ** (-np.log(kappa) / np.log(k))
    else:
        raise ValueError(f"decay must be one of {DECAYS}, found {decay!r}")
    s[0], s[-1] = 1.0, 1.0 / kappa  # exact endpoints: ||G||_2 = 1 and kappa_2(G) = kappa
    return s


def haar_frame(rng: np.random.Generator, n: int, k: int, batch: int) -> np.ndarray:
    """``batch`` Haar-random ``n x k`` matrices with orthonormal columns (``k <= n``).

    The reduced QR ``Z = Q R`` of an ``n x k`` standard normal ``Z`` with column ``j`` of
    ``Q`` multiplied by ``sign(R[j, j])`` is uniformly distributed on the Stiefel
    manifold (the argument of F. Mezzadri, Notices of the AMS 54(5), 2007, for the
    square case applies column by column). Cost: ``4 n k^2`` flops (QR and Q).
    """
    z = rng.standard_normal((batch, n, k))
    q, r = np.linalg.qr(z)
    signs = np.where(np.diagonal(r, axis1=-2, axis2=-1) < 0.0, -1.0, 1.0)
    return q * signs[..., None, :]


@generator(
    "singular",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns"),
        "kappa": Param(float, 100.0, min=1.0, max=MAX_KAPPA, doc="2-norm condition number s_max / s_min"),
        "decay": Param(str, "loguniform", choices=DECAYS, doc="distribution of the singular values"),
        "batch": Param(int, 1, min=1, doc="number of independent matrices"),
    },
)
def singular(
    rng: np.random.Generator,
    m: int,
    n: int,
    kappa: float = 100.0,
    decay: str = "loguniform",
    batch: int = 1,
) -> np.ndarray:
    """Random m x n matrices U diag(s) V^T with singular values s in [1/kappa, 1].

    Returns shape ``(batch, m, n)``, float64, C-contiguous. Each matrix has its own
    Haar-random frames ``U`` (``m x k``) and ``V`` (``n x k``), ``k = min(m, n)``; with
    ``decay = loguniform`` each also draws its own singular values, otherwise all share
    :func:`singular_values` ``(k, kappa, decay)``. ``||G||_2 = 1`` and
    ``kappa_2(G) = kappa`` up to the rounding of the product (see :data:`MAX_KAPPA`).

    Cost: ``4 (m + n) k^2 + 2 m n k`` flops per matrix.
    """
    k = min(m, n)
    with serial_blas():
        u = haar_frame(rng, m, k, batch)
        v = haar_frame(rng, n, k, batch)
        s = np.stack([singular_values(k, kappa, decay, rng) for _ in range(batch)])
        return np.ascontiguousarray((u * s[:, None, :]) @ np.swapaxes(v, -1, -2))


@generator(
    "lowrank_noise",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns"),
        "rank": Param(int, 8, min=1, doc="rank r of the signal (at most min(m, n))"),
        "noise": Param(float, 1e-2, min=0.0, doc="spectral norm of the noise, relative to the signal's"),
        "batch": Param(int, 1, min=1, doc="number of independent matrices"),
    },
)
def lowrank_noise(
    rng: np.random.Generator,
    m: int,
    n: int,
    rank: int = 8,
    noise: float = 1e-2,
    batch: int = 1,
) -> np.ndarray:
    """A rank-r signal U V^T (unit singular values) plus Gaussian noise of norm about ``noise``.

    ``G = U V^T + noise * E / (sqrt(m) + sqrt(n))`` with Haar-random ``U`` (``m x r``),
    ``V`` (``n x r``) and ``E`` of independent standard normals. ``||E||_2`` is close to
    ``sqrt(m) + sqrt(n)`` (S. Geman, Ann. Probab. 8, 1980), so the noise has spectral
    norm about ``noise``: ``r`` singular values near 1 and ``min(m, n) - r`` at the noise
    level, spread over ``[noise (sqrt(M) - sqrt(N)) / (sqrt(M) + sqrt(N)), noise]``
    (``M >= N`` the larger and smaller side, the Marchenko-Pastur edges). This is the
    shape of a gradient or momentum matrix in training: a few strong directions over a
    noise floor that orthogonalization lifts to 1 too.

    Returns shape ``(batch, m, n)``, float64, C-contiguous. ``noise = 0`` gives an exactly
    rank-``r`` matrix, whose polar factor is not unique when ``r < min(m, n)``.
    Cost: ``4 (m + n) r^2 + 2 m n r`` flops per matrix.
    """
    if rank > min(m, n):
        raise ValueError(f"rank {rank} exceeds min(m, n) = {min(m, n)}")
    with serial_blas():
        u = haar_frame(rng, m, rank, batch)
        v = haar_frame(rng, n, rank, batch)
        e = rng.standard_normal((batch, m, n))
        g = u @ np.swapaxes(v, -1, -2)
    g += (noise / (np.sqrt(m) + np.sqrt(n))) * e
    return np.ascontiguousarray(g)


@generator(
    "gaussian",
    params={
        "m": Param(int, min=1, doc="rows"),
        "n": Param(int, min=1, doc="columns"),
        "batch": Param(int, 1, min=1, doc="number of independent matrices"),
    },
)
def gaussian(rng: np.random.Generator, m: int, n: int, batch: int = 1) -> np.ndarray:
    """Matrices of independent standard normal entries.

    Returns shape ``(batch, m, n)``, float64. Its singular values fill the
    Marchenko-Pastur support ``[sqrt(M) - sqrt(N), sqrt(M) + sqrt(N)]`` (``M >= N`` the
    two sides), so a square one is ill-conditioned (``kappa`` of order ``n``: its
    smallest singular value is about ``1/sqrt(n)``; A. Edelman, SIAM J. Matrix Anal.
    Appl. 9, 1988) while a 1:4 one has ``kappa`` near 3.
    """
    return rng.standard_normal((batch, m, n))
