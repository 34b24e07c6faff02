"""The ``sketch`` contract: oblivious subspace embeddings ``A -> S A``.

Given a tall ``A`` (``n x d``, ``n >> d``; dense or sparse) and a sketch size ``k``, return
``S A`` (``k x d``) for a random ``k x n`` operator ``S`` drawn without looking at ``A``.
``S`` is a subspace embedding for range(A) with distortion ``eps`` when
``(1 - eps) ||A x|| <= ||S A x|| <= (1 + eps) ||A x||`` for every ``x`` (Sarlos 2006;
Woodruff, "Sketching as a Tool for Numerical Linear Algebra", 2014, Def. 2.2).

Metrics (no reference is exact: a random ``S`` has no "right answer"; see ``reference``):

- ``distortion = max_i |s_i(S U) - 1|`` for an orthonormal basis ``U`` of range(A): the
  smallest ``eps`` above. With ``A = U R`` (thin QR), ``S U = (S A) R^{-1}``, so it needs
  only the method's ``S A`` and the ``R`` that the reference returns: no ``S``, no ``U``.
  Lower is better. The reference itself scores rounding (``S U = [I; 0]``).
- ``s_min``, ``s_max``: the extreme singular values of ``S U`` (higher / lower is better).
- ``cond = s_max / s_min``: the condition number of ``A`` preconditioned by the R factor
  of ``S A`` (Blendenpik, LSRN): what sketch-and-precondition solvers pay for. Lower is
  better. A sketch that annihilates a direction of range(A) (``s_min <= 2^-53 s_max``,
  ``S A = 0`` included) scores the cap ``COND_CAP = 2^53``, the largest condition number
  float64 resolves, never Inf or NaN (the ``s_min`` gate is what fails such a cell).

Preconditions (``check_inputs``; a problem that breaks one is ``invalid``, its cells do
not run):

- ``d <= k <= n``: ``k < d`` embeds no ``d``-dimensional subspace, ``k > n`` compresses
  nothing (and SRHT samples ``k`` distinct rows of an ``n``-point transform);
- ``A`` has full column rank, numerically: ``kappa_2(A) <= MAX_COND = 1e10``. The
  distortion reads ``S U = (S A) R^{-1}``; the float64 ``R`` of a backward-stable QR
  puts an error of about ``eps_64 kappa(A) ||S||`` into it, ``1e-6`` at the limit, well
  below any distortion worth measuring. For a singular ``A`` ``R^{-1}`` does not exist.
  ``kappa(A)`` is estimated, not computed: the reference's ``R`` would give it exactly but
  preconditions are checked before the reference exists (and the reference is cached
  between runs, the check is not), so ``condition_estimate`` takes the singular values
  of a sparse sign sketch ``S' A`` (``k' = 4 d`` rows, 8 non-zeros per column, a fixed
  seed): ``16 nnz(A)`` flops plus an SVD of ``4d x d``, against ``2 n d^2`` for the QR
  (0.44 s against 3.3 s for a 10^5 x 100 Gaussian ``A`` on the 2-core VM). ``S'`` is a
  subspace embedding, so each singular value is kept within a constant factor and
  ``kappa`` within a small one (2.9 for that ``A``, whose ``kappa`` is 1.06; 1.3 to 1.5
  on the coherent suite problems, ``kappa`` 6 and 23), irrelevant against a 1e10 limit;
  an exactly rank-deficient ``A`` gives an exactly rank-deficient ``S' A``. Small
  problems (``n <= 4d``) take the singular values of ``A`` itself.

Float32 cells measure the distortion of their float32 ``S A`` against the float64 ``R``:
the rounding of ``S A`` (about ``eps_32 kappa(A)``) is part of what they score.

Task parameters: ``k`` (the sketch size) or, when ``k = 0``, ``ratio`` (``k = ceil(ratio d)``).
The time to apply ``S`` is the figure that matters; the methods draw ``S`` once and keep it
(see ``_common``), as a solver that sketches many right-hand sides would.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from scipy.linalg import solve_triangular

from implementations.common.sketching import sketch
from matrixbench.accuracy import FLOOR_EPS
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

#: Largest condition number of ``A`` the distortion is measured on (see the module docstring).
MAX_COND = 1e10
#: ``cond`` of a sketch that annihilates a direction of range(A): ``1 / 2^-53``.
COND_CAP = 1.0 / FLOOR_EPS
#: Seed of the sketch that estimates ``kappa(A)`` (any fixed value: the estimate is deterministic).
ESTIMATE_SEED = 20140214


def make_inputs(matrix: Any, k: int = 0, ratio: float = 4.0) -> dict[str, Any]:
    """``A`` as generated (dense float64 array or SciPy CSR) and the sketch size ``k``
    (``k``, or ``ceil(ratio d)`` when ``k = 0``); its range is checked by ``check_inputs``."""
    if isinstance(matrix, dict):
        matrix = matrix["A"]
    if len(matrix.shape) != 2:
        raise ValueError(f"sketch needs a matrix A (n, d); got shape {matrix.shape}")
    d = matrix.shape[1]
    return {"A": matrix, "k": int(k) if k > 0 else int(math.ceil(ratio * d))}


def condition_estimate(A: Any) -> float:
    """``kappa_2(A)`` (``inf`` for a rank-deficient or zero ``A``) from the singular values of
    a sparse sign sketch of ``4 d`` rows, or of ``A`` itself when ``n <= 4 d``."""
    n, d = A.shape
    if n <= 4 * d:
        M = A.toarray() if hasattr(A, "toarray") else np.asarray(A, dtype=np.float64)
    else:
        M = np.asarray(sketch("sparse_sign", 4 * d, n, seed=ESTIMATE_SEED, backend="numpy", dtype=np.float64).apply(A))
    s = np.linalg.svd(M, compute_uv=False)
    if not np.all(np.isfinite(s)):
        return math.inf
    return float(s[0] / s[-1]) if s[-1] > FLOOR_EPS * s[0] else math.inf


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """The preconditions of the module docstring: ``d <= k <= n``; ``A`` finite and of full
    column rank with ``kappa(A) <= MAX_COND`` (estimated)."""
    A, k = inputs["A"], inputs["k"]
    n, d = A.shape
    if not d <= k <= n:
        return f"sketch size k={k} must lie in [d, n] = [{d}, {n}] (k < d embeds no d-dimensional subspace)"
    values = A.data if hasattr(A, "data") and hasattr(A, "nnz") else A
    if not np.all(np.isfinite(values)):
        return "A has NaN or Inf entries"
    if not np.any(values):
        return "A is zero: range(A) is {0}, there is no subspace to embed"
    cond = condition_estimate(A)
    if cond == math.inf:
        return ("A is rank-deficient: a sparse sign sketch of it has a singular value under 2^-53 of its largest, "
                "so R^{-1} does not exist")
    if not cond <= MAX_COND:
        return (f"A is numerically rank-deficient: kappa(A) is about {cond:.3g} (estimated from a sparse sign sketch), "
                f"over {MAX_COND:.0e}: the distortion needs A = U R with R safely invertible")
    return None


def embedding_singular_values(SA: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Singular values of ``S U = (S A) R^{-1}``, ``A = U R`` (``k >= d``: ``d`` of them)."""
    SU = solve_triangular(R, SA.T, trans="T", lower=False).T  # (R^{-T} (SA)^T)^T
    return np.linalg.svd(SU, compute_uv=False)


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    SA = np.asarray(output, dtype=np.float64)
    d = inputs["A"].shape[1]
    if SA.shape != (inputs["k"], d):
        raise ValueError(f"sketch output has shape {SA.shape}, expected {(inputs['k'], d)}")
    R = np.asarray(reference, dtype=np.float64)[:d]  # the reference is [R; 0]
    diag = np.abs(np.diag(R))
    if not diag.size or not diag.min() > FLOOR_EPS * diag.max():  # check_inputs keeps these out
        raise ValueError("the reference R is singular: A is rank-deficient, its distortion is undefined")
    s = embedding_singular_values(SA, R)
    s_min, s_max = float(s.min()), float(s.max())
    return {
        "distortion": float(np.max(np.abs(s - 1.0))),
        "s_min": s_min,
        "s_max": s_max,
        "cond": s_max / s_min if s_min > FLOOR_EPS * s_max else COND_CAP,
    }


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"distortion": {"float64": 0.8, "float32": 0.8}}

TASK = register_task(
    Task(
        name="sketch",
        description="Oblivious subspace embedding S A of a tall n x d matrix (k x d): distortion and time to apply.",
        metrics=(
            Metric("distortion", "lower", doc="max_i |s_i(S U) - 1|, U an orthonormal basis of range(A)"),
            Metric("s_min", "higher", doc="smallest singular value of S U", scale="ratio"),
            Metric("s_max", "lower", doc="largest singular value of S U", scale="ratio"),
            Metric("cond", "lower", doc="s_max / s_min: kappa(A R_sketch^{-1}), the preconditioned condition number "
                                        "(capped at 2^53)", scale="ratio"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "tall_gaussian", "params": {"n": 1024, "d": 8}},
        example_gates=EXAMPLE_GATES,
        check_inputs=check_inputs,
        reference="reference",
        params={
            "k": Param(int, 0, min=0, doc="sketch size (rows of S A); 0: ceil(ratio * d)"),
            "ratio": Param(float, 4.0, min=0.0, doc="k / d when k = 0"),
        },
    )
)
