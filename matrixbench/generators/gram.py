"""Gram matrices of Gaussian data (``gram``): the test input of Song, Sebe and Wang.

Y. Song, N. Sebe, W. Wang, "Fast Differentiable Matrix Square Root", ICLR 2022, time
and compare their square-root methods on ``X X^T`` with Gaussian ``X``. Scaled by the
number of samples, ``X X^T / d`` is the sample covariance of ``d`` draws from
``N(0, I_n)`` (a Wishart matrix); its spectrum follows the Marchenko-Pastur law on
``[(1 - sqrt(n/d))^2, (1 + sqrt(n/d))^2]``. The scaling changes nothing for methods
that normalize by ``||A||_F`` first, as the paper's do.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ..registry import generator
from .common import serial_blas, symmetrize


@generator(
    "gram",
    params={
        "n": Param(int, min=1, doc="matrix size"),
        "samples": Param(int, 0, min=0, doc="columns d of X; 0 means d = n"),
        "ridge": Param(float, 0.0, min=0.0, doc="multiple of I added; needed when samples < n"),
        "batch": Param(int, 1, min=1, doc="number of independent matrices"),
    },
)
def gram(
    rng: np.random.Generator,
    n: int,
    samples: int = 0,
    ridge: float = 0.0,
    batch: int = 1,
) -> np.ndarray:
    """Gram matrices X X^T / d + ridge I of n x d standard normal X.

    Returns shape ``(batch, n, n)``, float64, exactly symmetric; each matrix has its own
    ``X``. ``d = samples``, or ``n`` when ``samples`` is 0 (the default, the square case
    of the paper).

    With ``d >= n`` the matrix is positive definite with probability 1. For square
    ``X`` its smallest eigenvalue is of order ``1/n^2`` and the largest about 4, so
    ``kappa_2`` grows like ``n^2``; ``d = 2n`` gives ``kappa_2`` near
    ``((1 + sqrt(1/2)) / (1 - sqrt(1/2)))^2``, about 34, whatever ``n``. With
    ``d < n`` the Gram matrix has rank ``d``: ``ridge > 0`` is required then, and the
    smallest ``n - d`` eigenvalues equal ``ridge`` up to rounding.

    Cost: ``2 n^2 d`` flops per matrix (the product).
    """
    d = n if samples == 0 else samples
    if d < n and ridge <= 0.0:
        raise ValueError(
            f"gram: samples={samples} < n={n} gives a singular matrix of rank {d}; "
            "set samples >= n (or 0, meaning n) or ridge > 0"
        )
    x = rng.standard_normal((batch, n, d))
    with serial_blas():
        a = (x @ np.swapaxes(x, -1, -2)) / d
    if ridge > 0.0:
        a += ridge * np.eye(n)
    return symmetrize(a)


# For the planner's size limit (matrixbench/limits.py): the n x n output and one n x d factor.
gram.estimate_bytes = lambda n, samples=0, batch=1, **_: 8 * (batch * n * n + n * (samples or n))  # type: ignore[attr-defined]
