"""Classical SPD test matrices: ``hilbert``, ``lehmer``, ``pascal``.

Definitions as in N. J. Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd
ed., SIAM 2002, chapter 28 ("A Gallery of Test Matrices"), and MATLAB's ``hilb``,
``pascal`` and ``gallery('lehmer')``. They are fixed matrices: the ``rng`` argument is
accepted for the generator protocol and not used. Indices below are 1-based.

Their conditioning differs by orders of magnitude, which is the point of having them
(``kappa_2``; the Hilbert and Pascal values computed in 80-digit arithmetic):

- Lehmer: mild, ``kappa_2`` about ``n^2`` (86 at ``n = 10``, 1.1e6 at ``n = 1000``);
- Hilbert: exponential, about 33 times more per extra row (1.6e13 at ``n = 10``,
  1.7e16 at ``n = 12``, 2.5e28 at ``n = 20``);
- Pascal: exponential, about 15 times more per extra row, tending to 16 (4.2e9 at
  ``n = 10``, 2.8e15 at ``n = 15``, 2.2e21 at ``n = 20``).

Hilbert passes ``1/eps`` (4.5e15) at ``n = 12`` and Pascal at ``n = 16``: from there on
the float64 matrix is no longer a faithful SPD problem (its computed eigenvalues can
be tiny or negative, Cholesky may fail) and a benchmark measures only the methods'
robustness. Such sizes are allowed on purpose.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..params import Param
from ..registry import generator

#: Largest Pascal order whose entries are finite in float64: the largest entry,
#: ``binomial(2n - 2, n - 1)``, exceeds the float64 maximum from ``n = 516`` on.
PASCAL_MAX_N = 515


@generator("hilbert", params={"n": Param(int, min=1, doc="matrix size")})
def hilbert(rng: np.random.Generator, n: int) -> np.ndarray:
    """The Hilbert matrix H_ij = 1 / (i + j - 1).

    Shape ``(n, n)``. Entries are rounded to float64 (``1/3`` is not representable), so the stored
    matrix is ``H + E`` with ``|E| <= eps |H|``; its exact inverse is the integer
    matrix ``scipy.linalg.invhilbert(n)`` only up to that perturbation.
    """
    return np.ascontiguousarray(scipy.linalg.hilbert(n), dtype=np.float64)


@generator("lehmer", params={"n": Param(int, min=1, doc="matrix size")})
def lehmer(rng: np.random.Generator, n: int) -> np.ndarray:
    """The Lehmer matrix A_ij = min(i, j) / max(i, j).

    Shape ``(n, n)``. SPD with a tridiagonal inverse (M. Newman and J. Todd, "The evaluation of matrix
    inversion programs", J. SIAM 6, 1958); MATLAB ``gallery('lehmer', n)``.
    """
    i = np.arange(1, n + 1, dtype=np.float64)
    return np.ascontiguousarray(np.minimum.outer(i, i) / np.maximum.outer(i, i))


@generator("pascal", params={"n": Param(int, min=1, max=PASCAL_MAX_N, doc="matrix size")})
def pascal(rng: np.random.Generator, n: int) -> np.ndarray:
    """The symmetric Pascal matrix P_ij = binomial(i + j - 2, j - 1).

    Shape ``(n, n)``. ``P = L L^T`` with ``L`` the lower-triangular Pascal matrix of unit determinant, so
    ``det P = 1`` and ``P^{-1}`` has integer entries (Higham §28.4). Built with exact
    integer arithmetic (Pascal's rule ``P_ij = P_(i-1)j + P_i(j-1)``) and rounded once to
    float64: entries are exact up to ``n = 29`` (all below ``2^53``), correctly rounded
    beyond.
    """
    rows: list[list[int]] = [[1] * n]
    for _ in range(1, n):
        prev = rows[-1]
        row = [1] * n
        for j in range(1, n):
            row[j] = row[j - 1] + prev[j]
        rows.append(row)
    # float(int) rounds correctly (to nearest, ties to even); object -> float64 uses it.
    return np.ascontiguousarray(np.array(rows, dtype=object).astype(np.float64))
