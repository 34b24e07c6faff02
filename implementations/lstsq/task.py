"""The ``lstsq`` contract: overdetermined least squares ``x* = argmin_x ||A x - b||_2``.

Inputs: ``A`` (m x n, m >= n, full column rank: :func:`check_inputs`; dense, or SciPy
CSR from a sparse generator) and ``b`` (m,), from a generator returning ``{"A": ..., "b": ...}``
(:mod:`implementations.lstsq.generators`). Output: ``x`` (n,). The reference returns
``{"x": x*, "residual_norm": ||A x* - b||, "sigma_min": s_min(A)}`` so that the metrics
need no factorization of ``A`` per cell.

Metrics (``r* = A x* - b``, ``d = x - x*``):

- ``residual_suboptimality = (||A x - b|| - ||r*||) / ||r*||``: how much worse the fit
  is than the best one (sketch-and-solve guarantees ``<= eps`` with a sketch of
  ``n / eps^2`` rows). Evaluated as ``sqrt(1 + t^2) - 1 = t^2 / (sqrt(1 + t^2) + 1)``
  with ``t = ||A d|| / ||r*||``: since ``r* ⟂ range(A)``, ``||A x - b||^2 = ||r*||^2 +
  ||A d||^2`` (Pythagoras), and subtracting two nearly equal norms directly would lose
  everything below ``1e-16 ||b|| / ||r*||``. Zero residual (a consistent system, among
  them every square one): the denominator ``||r*||`` is replaced by ``||b||``, so the
  metric is the relative residual ``||A x - b|| / ||b||``. "Zero" means ``||r*|| <=
  1e-12 ||b||`` or below the rounding of the computed residual itself, ``10 sqrt(n) u
  (||A||_F ||x*|| + ||b||)`` (:func:`consistent`): a square system with ``kappa(A) =
  1e6`` and a random ``b`` has a computed ``||r*||`` of ``1e-11 ||b||``, pure rounding
  (measured: ``0.2 .. 1`` times ``u (||A||_F ||x*|| + ||b||)`` for n = 10..200,
  ``kappa`` up to 1e10), and dividing by it scored every correct answer O(1).
- ``rel_error = ||x - x*|| / max(||x*||, u ||A^+||_2 ||b|| / rho)``, ``rho = max(||A x*||
  / ||b||, u)`` (:func:`matrixbench.accuracy.relative` with scale ``||A^+|| ||b|| /
  rho``, ``||A^+||_2 = 1 / s_min(A)`` from the reference). The plain ``||x - x*|| /
  ||x*||`` divides by about 0 when ``b`` is (nearly) orthogonal to range(A) (issue 11:
  a correct answer scored 2.95). Why this floor: ``u ||A^+|| ||b||`` is the change in
  ``x*`` that rounding ``b`` alone causes, the least error of any float64 solver, and
  ``rho ||b|| = ||A x*||`` the part of ``b`` that ``x*`` explains. On every ordinary
  problem (``rho`` near 1) the floor is that rounding error, far below ``||x*||`` (the
  default planted problem: ``9e-11`` against ``||x*|| = 9``), and the metric is unchanged. When ``b ⟂
  range(A)`` the reference's ``x*`` is itself rounding (``rho`` about ``u``), the floor
  rises to ``||A^+|| ||b||``, the largest solution a right-hand side of this norm can
  have, and errors are measured in that unit: correct answers then score what they do
  on ordinary problems with a large residual (measured at ``x* = 0`` for ``kappa = 1``
  and ``1e4``: about ``1e-16`` and ``1e-11`` for the gelsd, gelsy, normal-equation and
  SciPy LSQR answers, ``1e-10`` and ``6e-8`` for Blendenpik and LSRN at their ``tol =
  1e-10``; on the same ``A`` with ``||r*|| = ||A x*|| / 2``: ``8e-11`` (gelsy) and
  ``6e-8`` (Blendenpik)), while a wrong one scores its relative size (a sketch-and-solve
  answer, ``||x|| ~ eps ||A^+|| ||b||``, about ``eps``: 0.35 to 60). In between the
  floor passes ``||x*||`` near ``rho = sqrt(u)``, where the least-squares condition
  number ``kappa^2 ||r*|| / (||A|| ||x*||)`` is about ``1 / rho``: a backward-stable
  answer's relative error is then genuinely about ``kappa sqrt(u)``.
- ``linf_error``, the normalized infinity-norm error of Price, Song & Woodruff (ICALP
  2017) and of "A Nearly-Optimal Bound for Fast Regression with l_infinity Guarantee"
  (Song, Ye, Yu et al., 2023), whose guarantee reads ``||x - x*||_inf <= (eps / sqrt(n))
  ||A x* - b||_2 ||A^+||_2``. We report the ``eps`` achieved:
  ``linf_error = sqrt(n) ||x - x*||_inf s_min(A) / ||r*||`` (``||A^+||_2 = 1 / s_min``),
  with ``||b||`` in place of ``||r*||`` for a consistent system as above. A dense sketch
  of ``eps^-2 n log^3(m / delta)`` rows achieves ``eps`` with probability ``1 - delta``.
  At ``x* = 0`` (``r* = -b``) its unit is ``||A^+|| ||b||`` already.
- ``iterations``: reported by the iterative methods through ``WithInfo``.

Preconditions (:func:`check_inputs`; the problem is ``invalid`` otherwise): ``m >= n``,
finite ``A`` and ``b``, and ``A`` of full column rank (``x*`` unique), judged from the
singular values of ``A`` itself when ``m <= 4 n`` and of a sparse sign sketch of
``4 n`` rows otherwise (:func:`condition_estimate`). Output (:func:`check_output`): ``x``
of shape ``(n,)``, or ``(n, 1)`` (one right-hand side as a column, as LAPACK and
``torch.linalg.lstsq`` return it); the reference's dict must hold such an ``x``.

All lower is better. The FLOP models use the counts of Golub & Van Loan, *Matrix
Computations*, 4th ed., 2013: Householder QR of m x n ``2 n^2 (m - n/3)``, applying
``Q^T`` to a vector ``4 m n - 2 n^2``, triangular solve ``n^2``, Cholesky ``n^3 / 3``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import scipy.sparse

from matrixbench.accuracy import FLOOR_EPS, relative
from matrixbench.registry import Metric, Task, register_task

#: Below ``ZERO_RESIDUAL * ||b||`` the optimal residual counts as zero (a consistent system);
#: so does one below the rounding of the computed residual (:func:`consistent`).
ZERO_RESIDUAL = 1e-12

#: ``c`` in the rounding level ``c sqrt(n) u (||A||_F ||x*|| + ||b||)`` of a computed residual.
ROUNDING_FACTOR = 10.0

#: Rows of the sketch whose singular values estimate those of ``A`` (:func:`condition_estimate`).
RANK_SKETCH_FACTOR = 4


def make_inputs(matrix: Any) -> dict[str, Any]:
    """``{"A": (m, n), "b": (m,)}`` from a regression generator (dense or CSR ``A``).

    Only the structure is checked here; ``m >= n`` and full rank are preconditions of
    the problem (:func:`check_inputs`).
    """
    if not isinstance(matrix, Mapping) or set(matrix) != {"A", "b"}:
        got = sorted(matrix) if isinstance(matrix, Mapping) else type(matrix).__name__
        raise ValueError(f"lstsq needs a generator returning {{'A', 'b'}} (see implementations/lstsq/generators.py); got {got}")
    A, b = matrix["A"], np.ascontiguousarray(np.asarray(matrix["b"], dtype=np.float64).ravel())
    if len(A.shape) != 2 or b.shape != (A.shape[0],):
        raise ValueError(f"lstsq needs A of shape (m, n) and b of shape (m,); got {A.shape}, {b.shape}")
    return {"A": A, "b": b}


def _finite(x: Any) -> bool:
    return bool(np.all(np.isfinite(x.data if scipy.sparse.issparse(x) else x)))


def condition_estimate(A: Any) -> tuple[float, float, str]:
    """``(s_max, s_min, how)``: the extreme singular values of ``A`` or of a sketch of it.

    ``m <= 4 n``: of ``A`` itself (LAPACK ``gesdd``, values only; about ``4 m n^2``
    flops, as much as the reference's QR). Otherwise of ``S A`` for a sparse sign sketch
    ``S`` of ``4 n`` rows (8 nonzeros per column, seed 0; ``implementations.common.sketching``):
    an oblivious subspace embedding with distortion about ``sqrt(n / k) = 1/2``
    (Clarkson & Woodruff, "Low rank approximation and regression in input sparsity time",
    STOC 2013; Meng & Mahoney 2013), so each singular value is kept within a factor of
    about 2 and ``kappa`` within about 3, at ``8 nnz(A)`` flops for the sketch and
    ``O(n^3)`` for its values, a small fraction of the reference's ``2 m n^2``.
    """
    m, n = A.shape
    if m <= RANK_SKETCH_FACTOR * n:
        dense = A.toarray() if scipy.sparse.issparse(A) else np.asarray(A, dtype=np.float64)
        s = np.linalg.svd(dense, compute_uv=False)
        how = "singular values of A"
    else:
        from implementations.common.sketching import sketch_for

        k = RANK_SKETCH_FACTOR * n
        SA = np.asarray(sketch_for(A, "sparse_sign", k, seed=0).apply(A), dtype=np.float64)
        s = np.linalg.svd(SA, compute_uv=False)
        how = f"singular values of a {k}-row sparse sign sketch of A"
    return float(s[0]), float(s[-1]), how


def rank_tolerance(m: int, n: int) -> float:
    """Relative size below which a singular value counts as 0, as ``numpy.linalg.matrix_rank``
    decides (``max(rows, n) eps``, ``eps = 2^-52``) for the matrix whose values are computed
    (``A`` when ``m <= 4 n``, else the ``4 n``-row sketch), and at least ``sqrt(m) eps``:
    forming ``S A`` sums about ``2 m / n`` entries per value, whose rounding an exactly
    rank-deficient ``A`` shows as a singular value of that relative size."""
    rows = m if m <= RANK_SKETCH_FACTOR * n else RANK_SKETCH_FACTOR * n
    return max(rows, n, math.sqrt(m)) * 2.0 * FLOOR_EPS


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """``m >= n``, finite ``A`` and ``b``, ``A`` of full column rank (else ``x*`` is not unique).

    The rank is the numerical one of :func:`condition_estimate`'s values against
    :func:`rank_tolerance`. An ill-conditioned but full-rank ``A`` (the planted problems,
    ``kappa`` about 2e5) is valid: its accuracy is what the benchmark measures.
    """
    A, b = inputs["A"], inputs["b"]
    m, n = A.shape
    if m < n:
        return f"lstsq needs m >= n (an overdetermined or square system); A is {m} x {n}"
    if not _finite(A):
        return "A has NaN or Inf entries"
    if not _finite(b):
        return "b has NaN or Inf entries"
    s_max, s_min, how = condition_estimate(A)
    if s_max == 0.0:
        return "A is zero: every x is a least-squares solution"
    tol = rank_tolerance(m, n)
    if s_min <= tol * s_max:
        return (f"A is numerically rank-deficient: s_min / s_max = {s_min / s_max:.2g} <= {tol:.2g} ({how}); "
                f"the least-squares solution is not unique")
    return None


def solution(output: Any) -> np.ndarray:
    """``x`` from a method's output (an array) or the reference's dict."""
    x = output["x"] if isinstance(output, Mapping) else output
    return np.asarray(x, dtype=np.float64).ravel()


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    """``x`` of shape ``(n,)`` or ``(n, 1)``; a dict (the reference's) must hold it as ``"x"``."""
    n = inputs["A"].shape[1]
    if isinstance(output, Mapping):
        if "x" not in output:
            return f"lstsq output is a dict without 'x' (keys {sorted(output)})"
        output = output["x"]
    try:
        shape = np.shape(output)
        np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        return f"lstsq output is not a numeric array ({exc})"
    if tuple(shape) not in {(n,), (n, 1)}:
        return f"lstsq output x has shape {tuple(shape)}; expected ({n},) (or ({n}, 1), one column)"
    return None


def consistent(r_star: float, b_norm: float, a_norm: float, x_norm: float, n: int) -> bool:
    """Whether ``||r*||`` is zero up to rounding: ``<= ZERO_RESIDUAL ||b||``, or ``<=`` the
    rounding ``10 sqrt(n) u (||A||_F ||x*|| + ||b||)`` of computing ``A x* - b`` (module
    docstring)."""
    rounding = ROUNDING_FACTOR * math.sqrt(n) * FLOOR_EPS * (a_norm * x_norm + b_norm)
    return r_star <= max(ZERO_RESIDUAL * b_norm, rounding)


def solution_scale(b_norm: float, fit_norm: float, sigma_min: float) -> float:
    """``||A^+|| ||b|| / rho``, ``rho = max(||A x*|| / ||b||, u)``: the scale whose ``u``
    multiple floors ``rel_error``'s denominator (module docstring). 0 when ``b = 0`` or
    ``sigma_min`` is 0 (a rank-deficient ``A``, which :func:`check_inputs` rejects)."""
    if b_norm == 0.0 or not sigma_min > 0.0:
        return 0.0
    rho = max(fit_norm / b_norm, FLOOR_EPS)
    return b_norm / (sigma_min * rho)


def _fro(A: Any) -> float:
    data = A.data if scipy.sparse.issparse(A) else np.asarray(A)
    return float(np.linalg.norm(np.ravel(data)))


def score(output: Any, reference: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, float]:
    problem = check_output(output, reference, inputs)
    if problem:
        raise ValueError(problem)
    x, x_star = solution(output), solution(reference)
    if x.shape != x_star.shape:
        raise ValueError(f"lstsq output has shape {x.shape}, expected {x_star.shape}")
    A, b = inputs["A"], inputs["b"]
    n = x.shape[0]
    d = x - x_star
    r_star = float(reference["residual_norm"])
    sigma_min = float(reference["sigma_min"])
    b_norm, x_star_norm = float(np.linalg.norm(b)), float(np.linalg.norm(x_star))
    is_consistent = consistent(r_star, b_norm, _fro(A), x_star_norm, n)
    scale = b_norm if is_consistent else r_star
    if scale == 0.0:  # b = 0 (then x* = 0): absolute residuals
        scale = 1.0
    if is_consistent:  # the relative residual ||A x - b|| / ||b|| (r* is rounding only)
        suboptimality = float(np.linalg.norm(A @ x - b)) / scale
    else:
        t = float(np.linalg.norm(A @ d)) / scale
        suboptimality = t * t / (np.sqrt(1.0 + t * t) + 1.0)
    fit_norm = float(np.linalg.norm(A @ x_star))
    return {
        "residual_suboptimality": suboptimality,
        "rel_error": float(relative(np.linalg.norm(d), x_star_norm, solution_scale(b_norm, fit_norm, sigma_min))),
        "linf_error": float(np.sqrt(n) * np.max(np.abs(d)) * sigma_min / scale) if n else 0.0,
    }


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"rel_error": {"float64": 0.05, "float32": 0.05}}

TASK = register_task(
    Task(
        name="lstsq",
        description="Overdetermined least squares min ||A x - b|| (m >> n), dense or sparse A.",
        metrics=(
            Metric("residual_suboptimality", "lower", doc="(||A x - b|| - ||A x* - b||) / ||A x* - b|| (||b|| if r* = 0)"),
            Metric("rel_error", "lower", doc="||x - x*|| / ||x*||, ||x*|| floored at u ||A^+|| ||b|| / max(||A x*|| / ||b||, u)"),
            Metric("linf_error", "lower", doc="sqrt(n) ||x - x*||_inf / (||A x* - b|| ||A^+||_2): the l_inf guarantee's eps"),
            Metric("iterations", "lower", doc="iterations of an iterative solver (LSQR)", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "lstsq_gaussian", "params": {"m": 400, "n": 10}},
        example_gates=EXAMPLE_GATES,
        reference="reference",
        check_inputs=check_inputs,
        check_output=check_output,
    )
)
