"""Matrix Taylor Polynomial (MTP) for the square root and inverse square root.

Song, Sebe & Wang, "Fast Differentiable Matrix Square Root", ICLR 2022, section 3.1.

Algorithm (degree K)::

    c = ||A||_F;  Z = I - A / c
    A^{1/2}  ~ sqrt(c) * sum_{k=0}^{K} a_k Z^k,   a_k = (-1)^k binom(1/2, k)   (sqrt(1-z))
    A^{-1/2} ~ sum_{k=0}^{K} b_k Z^k / sqrt(c),   b_k = (-1)^k binom(-1/2, k)  ((1-z)^{-1/2})

evaluated by Horner's rule: ``K - 1`` matrix products, ``2 n^3 (K - 1)`` flops per matrix.

Accuracy: a truncated power series, not an iteration. For SPD A the eigenvalues of Z
lie in ``[0, 1 - l_min / c]`` (``c >= l_max``), where both series converge, but slowly
near ``z = 1``: the error at an eigenvalue z is about the tail ``sum_{k>K} |a_k| z^k``
with ``|a_k| ~ k^{-3/2} / (2 sqrt(pi))`` (``|b_k| ~ k^{-1/2} / sqrt(pi)`` for the
inverse, slower still). Since ``c >= sqrt(n) l_min``, even a well-conditioned large
matrix has eigenvalues of Z close to 1: MTP is cheap and modestly accurate, never exact.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method


@lru_cache(maxsize=None)
def taylor_coefficients(degree: int, inverse: bool = False) -> tuple[float, ...]:
    """Coefficients of ``(1 - z)^e`` up to ``z^degree``, ``e = -1/2`` if inverse else ``1/2``.

    ``(-1)^k binom(e, k) = (-1)^{k-1} binom(e, k-1) * (k - 1 - e) / k``.
    """
    e = -0.5 if inverse else 0.5
    coeffs = [1.0]
    for k in range(1, degree + 1):
        coeffs.append(coeffs[-1] * (k - 1 - e) / k)
    return tuple(coeffs)


def mtp_flops(inputs: Mapping[str, Any], degree: int = 10) -> float:
    batch, n, _ = inputs["A"].shape
    return batch * max(degree - 1, 0) * 2 * n**3


@method(
    "sqrtm",
    "mtp",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={"degree": Param(int, 10, min=1, doc="K: the polynomial's degree (K - 1 matrix products)")},
    flops=mtp_flops,
)
def mtp(A: torch.Tensor, inverse: bool = False, degree: int = 10) -> torch.Tensor:
    """Matrix Taylor Polynomial of sqrt(1 - z) (Song, Sebe, Wang, ICLR 2022)."""
    a = taylor_coefficients(degree, inverse)
    c = torch.linalg.matrix_norm(A, keepdim=True)  # ||A||_F, shape (batch, 1, 1)
    # The zero matrix: divide by 1, not 0. Z = I, the approximant is a finite multiple of
    # I and sqrt(c) times it is 0, the exact root (the inverse root comes out Inf: it does
    # not exist, and check_inputs rejects such A).
    Z = -A / torch.where(c > 0, c, 1.0)
    Z.diagonal(dim1=-2, dim2=-1).add_(1.0)  # Z = I - A / c
    # Horner: S = a_K Z + a_{K-1} I, then S <- Z S + a_k I for k = K-2, ..., 0.
    S = a[degree] * Z
    S.diagonal(dim1=-2, dim2=-1).add_(a[degree - 1])
    for k in range(degree - 2, -1, -1):
        S = Z @ S
        S.diagonal(dim1=-2, dim2=-1).add_(a[k])
    return S / c.sqrt() if inverse else S * c.sqrt()
