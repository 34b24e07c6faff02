"""Chebyshev interpolation of the quantity in a scalar parameter.

Offline: the quantity (``A(mu)^-1 B`` or ``log det A(mu)``, one Cholesky each) at the
``d + 1`` Chebyshev-Lobatto points ``mu_j = c + h cos(j pi / d)`` of the parameter interval
``[c - h, c + h]``; online, the degree-``d`` interpolant by the second barycentric formula
(Berrut and Trefethen, "Barycentric Lagrange interpolation", SIAM Review 2004: weights
``(-1)^j``, halved at the ends): ``O(d n k)`` per parameter, ``O(d)`` for a log-determinant.
If the quantity is analytic in the Bernstein ellipse ``E_R`` of the interval and bounded
there by ``M``, the error is at most ``4 M R^-d / (R - 1)`` (Trefethen, *Approximation
Theory and Approximation Practice*, 2013, Theorem 8.2): ``A(mu)^-1`` is analytic away from
the parameters where ``A(mu)`` is singular, so the rate is set by the nearest of them.

Nonintrusive and needs ``A(mu)`` at the nodes only: it finds them in the training set,
which for a one-parameter problem is the Chebyshev-Lobatto grid of degree ``T - 1``, whose
points of degree ``d`` are a subset when ``d`` divides ``T - 1``. One parameter only: a
problem with ``d > 1`` parameters is skipped (tensor grids grow as ``(d + 1)^dims``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._affine import Clock
from .reference import solve_all


def lobatto(degree: int) -> np.ndarray:
    """``cos(j pi / degree)``, ``j = 0..degree``, on ``[-1, 1]`` (descending)."""
    return np.cos(np.pi * np.arange(degree + 1) / degree) if degree > 0 else np.array([1.0])


def node_rows(mu_train: np.ndarray, domain: np.ndarray, degree: int) -> np.ndarray | None:
    """The training rows at the degree-``degree`` Lobatto points of the domain, or None."""
    c, h = domain[0].mean(), (domain[0, 1] - domain[0, 0]) / 2.0
    nodes = c + h * lobatto(degree)
    gap = np.abs(mu_train[:, 0][None, :] - nodes[:, None])
    rows = gap.argmin(axis=1)
    tol = 100 * np.finfo(mu_train.dtype).eps * max(abs(h), abs(c), 1e-300)
    return rows if np.all(gap[np.arange(len(nodes)), rows] <= tol) else None


def applies(inputs: dict[str, Any], degree: int = 16) -> str | None:
    if inputs["mu_train"].shape[1] != 1:
        return f"Chebyshev interpolation here is in one parameter; the problem has {inputs['mu_train'].shape[1]}"
    if node_rows(inputs["mu_train"], inputs["domain"], degree) is None:
        return (f"the training set does not hold the degree-{degree} Chebyshev-Lobatto points of the domain "
                f"(it holds those of degree {inputs['mu_train'].shape[0] - 1}: choose a degree dividing it)")
    return None


def barycentric(x: np.ndarray, values: np.ndarray, t: float) -> np.ndarray:
    """The interpolant through ``(x_j, values_j)`` (Lobatto points) at ``t``."""
    w = (-1.0) ** np.arange(len(x))
    w[0] /= 2.0
    w[-1] /= 2.0
    diff = t - x
    hit = np.flatnonzero(diff == 0)
    if hit.size:
        return values[hit[0]]
    c = (w / diff).astype(values.dtype)
    return np.tensordot(c, values, axes=1) / c.sum()


def cheb_flops(inputs: dict[str, Any], degree: int = 16) -> float | None:
    """Online flops: ``S (d + 1) (2 n k + 4)``."""
    n, k = inputs["B"].shape
    return inputs["theta_test"].shape[0] * (degree + 1) * (2.0 * n * k + 4.0)


@method("parametric", "chebyshev", kind="optimized", backends=("numpy",), dtypes=("float64", "float32"),
        sparse=True, applies=applies, flops=cheb_flops,
        params={"degree": Param(int, 16, min=1, doc="degree d of the interpolant (d + 1 solves offline)")})
def chebyshev(terms: Sequence[Any], theta_train: np.ndarray, theta_test: np.ndarray, mu_train: np.ndarray,
              mu_test: np.ndarray, domain: np.ndarray, B: np.ndarray, quantity: str = "solve",
              degree: int = 16) -> WithInfo:
    """Degree-``d`` Chebyshev-Lobatto interpolation of the quantity in ``mu``."""
    clock = Clock()
    with clock.phase("offline"):
        rows = node_rows(mu_train, domain, degree)
        if rows is None:
            raise ValueError(applies({"mu_train": mu_train, "domain": domain}, degree))
        x = ((mu_train[rows, 0] - domain[0].mean()) / ((domain[0, 1] - domain[0, 0]) / 2.0)).astype(np.float64)
        values = solve_all(terms, theta_train[rows], B, quantity)
    out = []
    with clock.phase("online"):
        c, h = float(domain[0].mean()), float(domain[0, 1] - domain[0, 0]) / 2.0
        for mu in mu_test[:, 0]:
            out.append(barycentric(x, values, (float(mu) - c) / h))
    return WithInfo(np.asarray(out, dtype=B.dtype),
                    clock.info(len(theta_test), size=degree + 1, train_points=degree + 1))
