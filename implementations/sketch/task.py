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
  Lower is better.
- ``s_min``, ``s_max``: the extreme singular values of ``S U`` (higher / lower is better).
- ``cond = s_max / s_min``: the condition number of ``A`` preconditioned by the R factor
  of ``S A`` (Blendenpik, LSRN): what sketch-and-precondition solvers pay for. Lower is
  better.

Task parameters: ``k`` (the sketch size) or, when ``k = 0``, ``ratio`` (``k = ceil(ratio d)``).
The time to apply ``S`` is the figure that matters; the methods draw ``S`` once and keep it
(see ``_common``), as a solver that sketches many right-hand sides would.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from scipy.linalg import solve_triangular

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task


def make_inputs(matrix: Any, k: int = 0, ratio: float = 4.0) -> dict[str, Any]:
    """``A`` as generated (dense float64 array or SciPy CSR) and the sketch size ``k``."""
    if isinstance(matrix, dict):
        matrix = matrix["A"]
    if len(matrix.shape) != 2:
        raise ValueError(f"sketch needs a matrix A (n, d); got shape {matrix.shape}")
    n, d = matrix.shape
    size = int(k) if k > 0 else int(math.ceil(ratio * d))
    if not d <= size <= n:
        raise ValueError(f"sketch size k={size} must lie in [d, n] = [{d}, {n}] (k < d embeds no d-dim subspace)")
    return {"A": matrix, "k": size}


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
    s = embedding_singular_values(SA, R)
    s_min, s_max = float(s.min()), float(s.max())
    return {
        "distortion": float(np.max(np.abs(s - 1.0))),
        "s_min": s_min,
        "s_max": s_max,
        "cond": s_max / s_min if s_min > 0 else math.inf,
    }


TASK = register_task(
    Task(
        name="sketch",
        description="Oblivious subspace embedding S A of a tall n x d matrix (k x d): distortion and time to apply.",
        metrics=(
            Metric("distortion", "lower", doc="max_i |s_i(S U) - 1|, U an orthonormal basis of range(A)"),
            Metric("s_min", "higher", doc="smallest singular value of S U"),
            Metric("s_max", "lower", doc="largest singular value of S U"),
            Metric("cond", "lower", doc="s_max / s_min: kappa(A R_sketch^{-1}), the preconditioned condition number"),
        ),
        make_inputs=make_inputs,
        score=score,
        reference="reference",
        params={
            "k": Param(int, 0, min=0, doc="sketch size (rows of S A); 0: ceil(ratio * d)"),
            "ratio": Param(float, 4.0, min=0.0, doc="k / d when k = 0"),
        },
    )
)
