"""The test matrices of Shampoo's inverse-root tests: tridiagonal SPD matrices and
accumulated gradient statistics.

- ``tridiagonal(n, alpha, beta)``: ``alpha`` on the diagonal, ``beta`` beside it, the
  grid of Distributed Shampoo's matrix-root tests (alpha, beta in {1e-3, ..., 100},
  ``2 beta <= alpha``). Its eigenvalues are known in closed form,
  ``alpha + 2 beta cos(k pi / (n + 1))``, k = 1..n, so it is positive definite exactly
  when ``alpha > 2 |beta| cos(pi / (n + 1))``, which ``2 |beta| <= alpha`` guarantees.
- ``grad_stats(n, d, steps, rank, noise)``: ``(1/T) sum_t G_t G_t^T``, the left
  preconditioner statistic Shampoo accumulates, for gradients ``G_t = L R_t + noise N_t``
  (``n x d``) with a fixed ``n x rank`` signal subspace ``L``: ``rank`` large eigenvalues
  (about ``n d / rank``) over a Marchenko-Pastur noise floor (about
  ``noise^2 d (1 +- sqrt(n / (T d)))^2``), the spectrum preconditioners meet in training.
  Its condition number is about ``n / (rank noise^2 (1 - sqrt(n / (T d)))^2)``: 1e4 at
  n = 256 and 1.8e5 at n = 1024 for d = 64, T = 32, rank = 8, noise = 0.1 (seed 0).
"""

from __future__ import annotations

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import generator
from matrixbench.generators.common import serial_blas, symmetrize


@generator(
    "tridiagonal",
    task="inv_root",
    params={
        "n": Param(int, min=2, doc="matrix size"),
        "alpha": Param(float, 1.0, min=0.0, doc="diagonal entry"),
        "beta": Param(float, 0.1, doc="off-diagonal entry; 2 |beta| <= alpha keeps the matrix positive definite"),
        "batch": Param(int, 1, min=1, doc="copies (the matrix is deterministic)"),
    },
)
def tridiagonal(rng: np.random.Generator, n: int, alpha: float = 1.0, beta: float = 0.1, batch: int = 1) -> np.ndarray:
    """The symmetric tridiagonal Toeplitz matrix ``tridiag(beta, alpha, beta)``, shape (batch, n, n).

    Raises ValueError when ``2 |beta| > alpha`` (not positive definite for large n).
    """
    if 2 * abs(beta) > alpha:
        raise ValueError(f"tridiagonal: 2 |beta| = {2 * abs(beta):g} > alpha = {alpha:g}, not positive definite")
    a = np.diag(np.full(n, alpha)) + np.diag(np.full(n - 1, beta), 1) + np.diag(np.full(n - 1, beta), -1)
    return np.ascontiguousarray(np.broadcast_to(a, (batch, n, n)))


@generator(
    "grad_stats",
    task="inv_root",
    params={
        "n": Param(int, min=1, doc="matrix size (rows of each gradient)"),
        "d": Param(int, 32, min=1, doc="columns of each gradient"),
        "steps": Param(int, 16, min=1, doc="number of accumulated gradients T"),
        "rank": Param(int, 4, min=1, doc="dimension of the signal subspace"),
        "noise": Param(float, 0.1, min=0.0, doc="size of the noise entries relative to the signal's"),
        "batch": Param(int, 1, min=1, doc="number of independent statistics"),
    },
)
def grad_stats(rng: np.random.Generator, n: int, d: int = 32, steps: int = 16, rank: int = 4, noise: float = 0.1,
               batch: int = 1) -> np.ndarray:
    """``(1/T) sum_t G_t G_t^T`` with ``G_t = L R_t / sqrt(rank) + noise N_t``.

    ``L`` (n x rank), ``R_t`` (rank x d) and ``N_t`` (n x d) are standard Gaussian, so
    the entries of the signal part have variance 1 and those of the noise ``noise^2``.
    Positive definite when ``T d >= n`` and ``noise > 0``. Shape (batch, n, n), exactly
    symmetric.
    """
    out = np.empty((batch, n, n))
    with serial_blas():
        for b in range(batch):
            L = rng.standard_normal((n, rank))
            acc = np.zeros((n, n))
            for _ in range(steps):
                G = L @ rng.standard_normal((rank, d)) / np.sqrt(rank) + noise * rng.standard_normal((n, d))
                acc += G @ G.T
            out[b] = acc / steps
    return symmetrize(out)


# For the planner's size limit (matrixbench/limits.py): the n x n output, accumulator and one gradient.
grad_stats.estimate_bytes = lambda n, d=32, batch=1, **_: 8 * (batch * n * n + n * n + n * d)  # type: ignore[attr-defined]
