"""Matrix Pade Approximant (MPA) for the square root and inverse square root.

Song, Sebe & Wang, "Fast Differentiable Matrix Square Root", ICLR 2022, section 3.2.

Algorithm (degree K = m + n, numerator degree ``m = ceil(K/2)``, denominator degree
``n = floor(K/2)``; the paper's ``[M/N]`` with ``M = N = K/2``, e.g. ``[5/5]`` for K = 10)::

    c = ||A||_F;  Z = I - A / c
    p, q = the [m/n] Pade coefficients of sqrt(1 - z), normalized q_0 = 1
    P = sum_{k<=m} p_k Z^k;  Q = sum_{k<=n} q_k Z^k
    A^{1/2}  ~ sqrt(c) Q^{-1} P        (solve Q X = P; P and Q commute)
    A^{-1/2} ~ P^{-1} Q / sqrt(c)      (solve P X = Q)

The inverse root inverts the approximant, as the paper does. No accuracy is lost by
that choice: ``Q/P`` is exactly the [n/m] Pade approximant of ``(1 - z)^{-1/2}`` (the
Pade approximant of ``1/f`` is the reciprocal of that of ``f``; Baker & Graves-Morris,
*Pade Approximants*, 2nd ed., 1996, section 1.5).

The coefficients are solved for exactly in rational arithmetic and cached: the Pade
linear system is ill-conditioned in floating point (``scipy.interpolate.pade`` is off by
about 1e-9 relative at [7/7] already).

Cost per matrix: the powers ``Z^2 .. Z^{max(m, n)}`` (``max(m, n) - 1`` products,
``2 n^3`` each) and one solve with ``n`` right-hand sides (an LU, ``2/3 n^3``, plus
``2 n^3`` for the triangular solves): ``2 n^3 (ceil(K/2) - 1) + 8/3 n^3``.

Accuracy: as for MTP the eigenvalues of Z lie in ``[0, 1 - l_min / c]``, but the Pade
approximant converges much faster near the branch point ``z = 1``. For m = n it is
``r(z) = s ((1+s)^N + (1-s)^N) / ((1+s)^N - (1-s)^N)`` with ``s = sqrt(1-z)``,
``N = 2m + 1``, so its relative error is ``2 rho^N / (1 - rho^N)``,
``rho = (1 - s) / (1 + s)``. The zeros of P and Q lie in ``(1, inf)``, so both solves are
well defined for SPD A. Rounding: P and Q in the monomial basis nearly vanish near
``z = 1`` while their coefficients do not, and the loss grows with K: at float64 the
rounding error reaches the truncation error near K ~ 40, at float32 near K ~ 16 (for
K <= 10, the paper's range, it is negligible against the truncation error).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method


def pade_degrees(degree: int) -> tuple[int, int]:
    """(numerator degree m, denominator degree n) with m + n = degree."""
    return (degree + 1) // 2, degree // 2


@lru_cache(maxsize=None)
def pade_coefficients(m: int, n: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Coefficients (p_0..p_m, q_0..q_n), q_0 = 1, of the [m/n] Pade approximant of sqrt(1-z).

    Q(z) f(z) - P(z) = O(z^{m+n+1}) for the Taylor coefficients f_k of sqrt(1 - z):
    the coefficients of z^{m+1} .. z^{m+n} of Q f vanish (n equations for q_1..q_n), the
    lower ones give P. Solved by exact Gaussian elimination over the rationals.
    """
    f = [Fraction(1)]
    for k in range(1, m + n + 1):
        f.append(f[-1] * Fraction(2 * k - 3, 2 * k))  # (-1)^k binom(1/2, k)

    def fk(k: int) -> Fraction:
        return f[k] if k >= 0 else Fraction(0)

    # sum_{j=1}^{n} q_j f_{m+i-j} = -f_{m+i},  i = 1..n
    rows = [[fk(m + i - j) for j in range(1, n + 1)] + [-fk(m + i)] for i in range(1, n + 1)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                ratio = rows[r][col] / rows[col][col]
                rows[r] = [x - ratio * y for x, y in zip(rows[r], rows[col])]
    q = [Fraction(1)] + [rows[i][n] / rows[i][i] for i in range(n)]
    p = [sum(q[j] * fk(k - j) for j in range(min(k, n) + 1)) for k in range(m + 1)]
    return tuple(map(float, p)), tuple(map(float, q))


def mpa_flops(inputs: Mapping[str, Any], degree: int = 10) -> float:
    batch, n, _ = inputs["A"].shape
    products = max(pade_degrees(degree)) - 1
    return batch * (products * 2 * n**3 + 2 * n**3 / 3 + 2 * n**3)


@method(
    "sqrtm",
    "mpa",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={"degree": Param(int, 10, min=1, doc="K = m + n, the [ceil(K/2) / floor(K/2)] Pade approximant")},
    flops=mpa_flops,
)
def mpa(A: torch.Tensor, inverse: bool = False, degree: int = 10) -> torch.Tensor:
    """Matrix Pade Approximant of sqrt(1 - z), one linear solve (Song, Sebe, Wang, ICLR 2022)."""
    p, q = pade_coefficients(*pade_degrees(degree))
    c = torch.linalg.matrix_norm(A, keepdim=True)  # ||A||_F, shape (batch, 1, 1)
    # The zero matrix: divide by 1, not 0. Z = I, the approximant is a finite multiple of
    # I and sqrt(c) times it is 0, the exact root (the inverse root comes out Inf: it does
    # not exist, and check_inputs rejects such A).
    Z = -A / torch.where(c > 0, c, 1.0)
    Z.diagonal(dim1=-2, dim2=-1).add_(1.0)  # Z = I - A / c
    P = torch.zeros_like(A)
    Q = torch.zeros_like(A)
    P.diagonal(dim1=-2, dim2=-1).fill_(p[0])
    Q.diagonal(dim1=-2, dim2=-1).fill_(q[0])
    Z_k = Z
    for k in range(1, max(len(p), len(q))):
        if k > 1:
            Z_k = Z_k @ Z  # the only matrix products: powers of Z shared by P and Q
        if k < len(p):
            P = P + p[k] * Z_k
        if k < len(q):
            Q = Q + q[k] * Z_k
    # solve_ex: no host sync for an error check (a singular system gives inf/NaN instead).
    if inverse:
        return torch.linalg.solve_ex(P, Q)[0] / c.sqrt()
    return torch.linalg.solve_ex(Q, P)[0] * c.sqrt()
