"""The ``lstsq`` contract: overdetermined least squares ``x* = argmin_x ||A x - b||_2``.

Inputs: ``A`` (m x n, m >= n, full column rank; dense, or SciPy CSR from a sparse
generator) and ``b`` (m,), from a generator returning ``{"A": ..., "b": ...}``
(:mod:`matrixbench.generators.regression`). Output: ``x`` (n,). The reference returns
``{"x": x*, "residual_norm": ||A x* - b||, "sigma_min": s_min(A)}`` so that the metrics
need no factorization of ``A`` per cell.

Metrics (``r* = A x* - b``, ``d = x - x*``):

- ``residual_suboptimality = (||A x - b|| - ||r*||) / ||r*||``: how much worse the fit
  is than the best one (sketch-and-solve guarantees ``<= eps`` with a sketch of
  ``n / eps^2`` rows). Evaluated as ``sqrt(1 + t^2) - 1 = t^2 / (sqrt(1 + t^2) + 1)``
  with ``t = ||A d|| / ||r*||``: since ``r* ⟂ range(A)``, ``||A x - b||^2 = ||r*||^2 +
  ||A d||^2`` (Pythagoras), and subtracting two nearly equal norms directly would lose
  everything below ``1e-16 ||b|| / ||r*||``. Zero residual (a consistent system, ``||r*||
  <= 1e-12 ||b||``): the denominator ``||r*||`` is replaced by ``||b||``, so the metric
  is the relative residual ``||A x - b|| / ||b||``.
- ``rel_error = ||x - x*|| / ||x*||``.
- ``linf_error``, the normalized infinity-norm error of Price, Song & Woodruff (ICALP
  2017) and of "A Nearly-Optimal Bound for Fast Regression with l_infinity Guarantee"
  (Song, Ye, Yu et al., 2023), whose guarantee reads ``||x - x*||_inf <= (eps / sqrt(n))
  ||A x* - b||_2 ||A^+||_2``. We report the ``eps`` achieved:
  ``linf_error = sqrt(n) ||x - x*||_inf s_min(A) / ||r*||`` (``||A^+||_2 = 1 / s_min``),
  with ``||b||`` in place of ``||r*||`` for a consistent system as above. A dense sketch
  of ``eps^-2 n log^3(m / delta)`` rows achieves ``eps`` with probability ``1 - delta``.
- ``iterations``: reported by the iterative methods through ``WithInfo``.

All lower is better. The FLOP models use the counts of Golub & Van Loan, *Matrix
Computations*, 4th ed., 2013: Householder QR of m x n ``2 n^2 (m - n/3)``, applying
``Q^T`` to a vector ``4 m n - 2 n^2``, triangular solve ``n^2``, Cholesky ``n^3 / 3``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.registry import Metric, Task, register_task

#: Below ``ZERO_RESIDUAL * ||b||`` the optimal residual counts as zero (a consistent system).
ZERO_RESIDUAL = 1e-12


def make_inputs(matrix: Any) -> dict[str, Any]:
    """``{"A": (m, n), "b": (m,)}`` from a regression generator (dense or CSR ``A``)."""
    if not isinstance(matrix, Mapping) or set(matrix) != {"A", "b"}:
        got = sorted(matrix) if isinstance(matrix, Mapping) else type(matrix).__name__
        raise ValueError(f"lstsq needs a generator returning {{'A', 'b'}} (see generators/regression.py); got {got}")
    A, b = matrix["A"], np.ascontiguousarray(np.asarray(matrix["b"], dtype=np.float64).ravel())
    m, n = A.shape
    if m < n or b.shape != (m,):
        raise ValueError(f"lstsq needs A of shape (m, n) with m >= n and b of shape (m,); got {A.shape}, {b.shape}")
    return {"A": A, "b": b}


def solution(output: Any) -> np.ndarray:
    """``x`` from a method's output (an array) or the reference's dict."""
    x = output["x"] if isinstance(output, Mapping) else output
    return np.asarray(x, dtype=np.float64).ravel()


def score(output: Any, reference: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, float]:
    x, x_star = solution(output), solution(reference)
    if x.shape != x_star.shape:
        raise ValueError(f"lstsq output has shape {x.shape}, expected {x_star.shape}")
    A, b = inputs["A"], inputs["b"]
    n = x.shape[0]
    d = x - x_star
    r_star = float(reference["residual_norm"])
    consistent = r_star <= ZERO_RESIDUAL * float(np.linalg.norm(b))
    scale = float(np.linalg.norm(b)) if consistent else r_star
    if consistent:  # the relative residual ||A x - b|| / ||b|| (r* is rounding only)
        suboptimality = float(np.linalg.norm(A @ x - b)) / scale
    else:
        t = float(np.linalg.norm(A @ d)) / scale
        suboptimality = t * t / (np.sqrt(1.0 + t * t) + 1.0)
    return {
        "residual_suboptimality": suboptimality,
        "rel_error": float(np.linalg.norm(d) / np.linalg.norm(x_star)),
        "linf_error": float(np.sqrt(n) * np.max(np.abs(d)) * float(reference["sigma_min"]) / scale),
    }


TASK = register_task(
    Task(
        name="lstsq",
        description="Overdetermined least squares min ||A x - b|| (m >> n), dense or sparse A.",
        metrics=(
            Metric("residual_suboptimality", "lower", doc="(||A x - b|| - ||A x* - b||) / ||A x* - b|| (||b|| if r* = 0)"),
            Metric("rel_error", "lower", doc="||x - x*|| / ||x*||"),
            Metric("linf_error", "lower", doc="sqrt(n) ||x - x*||_inf / (||A x* - b|| ||A^+||_2): the l_inf guarantee's eps"),
            Metric("iterations", "lower", doc="iterations of an iterative solver (LSQR)"),
        ),
        make_inputs=make_inputs,
        score=score,
        reference="reference",
    )
)
