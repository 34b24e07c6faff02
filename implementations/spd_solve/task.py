"""The ``spd_solve`` contract: inputs, metrics and scoring.

Given a symmetric positive definite ``A`` (``n x n``, dense or sparse) and ``b`` (``n``),
find ``x`` with ``A x = b``. Methods get ``A`` as a :class:`matrixbench.operators.LinearOperator`:
Krylov methods use its products (counted as ``matvecs``); direct and splitting methods
(Cholesky, Gauss-Seidel, the Jacobi and incomplete-Cholesky preconditioners) read its
entries from ``A.matrix`` and say so. Iterative methods stop when their residual
``||b - A x_t|| <= tol ||b||`` or when ``budget`` products are spent.

Task parameters:

- ``shift`` (``mu``): ``A + mu I`` is solved, and methods are told ``mu``: a kernel ridge
  regression system ``(K + mu I) alpha = y`` is known as a positive semidefinite ``K``
  plus a regularization, which the Nyström preconditioner uses (Frangella, Tropp and
  Udell 2023);
- ``budget``: products an iterative method may spend (its iteration cap);
- ``tol``: the relative residual at which iterative methods stop; 0 means the dtype's
  default, :data:`DEFAULT_TOL` (float32 cannot go much below ``1e-6``).

The right-hand side is the generator's ``b`` when it gives one (``{"A": ..., "b": ...}``:
a regression's labels), else a fixed standard Gaussian vector scaled to unit norm (seed
0, so a problem's ``b`` depends only on ``n``).

Preconditions (:func:`check_inputs`): ``A`` finite, square, symmetric to ``1e-12`` and
positive definite beyond the rounding level ``n eps ||A||`` (dense: Cholesky, then
eigenvalues on failure, :mod:`implementations.common.spd_checks`; sparse: the pivots of
a symmetric ``LDL^T`` ordering, :func:`implementations.spd_solve.reference.sparse_pivots`);
``b`` finite with ``n`` entries.

Output: ``x`` (``n``). Metrics, lower is better, in float64:

- ``rel_residual``: ``||b - A x||_2 / ||b||_2`` (what an iterative method controls);
- ``backward_error``: ``||b - A x||_inf / (||A||_inf ||x||_inf + ||b||_inf)``, the smallest
  ``e`` such that ``(A + dA) x = b + db`` with ``||dA|| <= e ||A||`` and ``||db|| <= e ||b||``
  (Rigal and Gaches 1967; Higham, *Accuracy and Stability of Numerical Algorithms*, 2002,
  Theorem 7.1): a backward-stable solver's is about ``n u`` whatever ``kappa(A)``, while
  its relative residual can reach ``n u kappa(A)`` for a ``b`` that excites the small
  eigenvalues, so the suites gate on this one;
- ``rel_error``: ``||x - x*||_2 / ||x*||_2``, ``x*`` the float64 reference (at most
  ``kappa(A)`` times the residual);
- ``iterations`` (reported by the method) and ``matvecs`` (the engine's count).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse as sp

from matrixbench.operators import MATVECS
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import check_definite, check_finite, check_symmetric

#: the relative residual iterative methods stop at, per dtype (``tol: 0``)
DEFAULT_TOL = {"float64": 1e-10, "float32": 1e-5}


def stop_tolerance(tol: float, dtype: Any) -> float:
    """``tol``, or the default of ``dtype`` (a torch or NumPy dtype) when ``tol`` is 0."""
    if tol > 0:
        return float(tol)
    return DEFAULT_TOL["float32" if "32" in str(dtype) else "float64"]


def right_hand_side(n: int) -> np.ndarray:
    """The fixed ``b`` of a problem without one: Gaussian, seed 0, unit norm."""
    b = np.random.default_rng(0).standard_normal(n)
    return b / np.linalg.norm(b)


def make_inputs(matrix: Any, budget: int = 500, tol: float = 0.0, shift: float = 0.0) -> dict[str, Any]:
    """``A + shift I`` (dense or CSR), ``b``, and the solver's parameters."""
    given = matrix if isinstance(matrix, Mapping) else {"A": matrix}
    A = given["A"]
    if sp.issparse(A):
        A = sp.csr_matrix(A, dtype=np.float64)
        if shift:
            A = (A + shift * sp.identity(A.shape[0], format="csr")).tocsr()
        A.sort_indices()
    else:
        A = np.asarray(A, dtype=np.float64)
        A = A[0] if A.ndim == 3 and A.shape[0] == 1 else A  # a batch of one from the generic generators
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"spd_solve needs one square matrix, got shape {A.shape}")
        A = np.ascontiguousarray(A + shift * np.eye(A.shape[0]) if shift else A)
    b = np.asarray(given["b"], dtype=np.float64).ravel() if "b" in given else right_hand_side(A.shape[0])
    return {"A": A, "b": np.ascontiguousarray(b), "shift": float(shift), "budget": int(budget), "tol": float(tol)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    from .reference import sparse_definite

    A, b = inputs["A"], inputs["b"]
    n = A.shape[0]
    bad = check_finite(A.data if sp.issparse(A) else A) or check_finite(b, name="b")
    if bad:
        return bad
    if A.shape != (n, n):
        return f"A must be square, got {A.shape}"
    if b.shape != (n,):
        return f"b must have n = {n} entries, got shape {b.shape}"
    if not np.any(b):
        return "b is zero: the solution is 0 and every relative error is undefined"
    if sp.issparse(A):
        return sparse_definite(A)
    return check_symmetric(A[None]) or check_definite(A[None], definite=True,
                                                      why=" (the task parameter shift adds shift I)")


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    n = inputs["b"].shape[0]
    x = output["x"] if isinstance(output, Mapping) else output
    if np.shape(x) != (n,):
        return f"expected x of shape ({n},), got {np.shape(x)}"
    return None


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    x = np.asarray(output["x"] if isinstance(output, Mapping) else output, dtype=np.float64)
    want = np.asarray(reference["x"], dtype=np.float64)
    A, b = inputs["A"], inputs["b"]
    r = b - A @ x
    norm_inf = float(abs(A).sum(axis=1).max()) if sp.issparse(A) else float(np.abs(A).sum(axis=1).max())
    scale = norm_inf * np.abs(x).max() + np.abs(b).max()
    return {"rel_residual": float(np.linalg.norm(r) / np.linalg.norm(b)),
            "backward_error": float(np.abs(r).max() / scale) if scale > 0 else float("inf"),
            "rel_error": float(np.linalg.norm(x - want) / np.linalg.norm(want))}


TASK = register_task(
    Task(
        name="spd_solve",
        description="A x = b for symmetric positive definite A: Cholesky, CG and preconditioned CG, SOR, AMG.",
        metrics=(
            Metric("rel_residual", "lower", doc="||b - A x|| / ||b||, in float64"),
            Metric("backward_error", "lower", doc="||b - A x||_inf / (||A||_inf ||x||_inf + ||b||_inf), in float64"),
            Metric("rel_error", "lower", doc="||x - x*|| / ||x*||, x* from float64 Cholesky"),
            Metric(MATVECS, "lower", unit="products", doc="matrix-vector products the method asked for", scale="count"),
            Metric("iterations", "lower", unit="steps", doc="iterations (or refinement steps) a method ran", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        operators=("A",),
        example={"generator": "spd", "params": {"n": 40, "cond": 100.0}, "task_params": {"budget": 400}},
        example_gates={"rel_residual": {"float64": 1e-8, "float32": 1e-4}},
        params={
            "budget": Param(int, 500, min=1, doc="matrix-vector products an iterative method may spend"),
            "tol": Param(float, 0.0, min=0.0, omit_default=True,
                         doc="relative residual to stop at (0: 1e-10 in float64, 1e-5 in float32)"),
            "shift": Param(float, 0.0, min=0.0, omit_default=True, doc="solve (A + shift I) x = b"),
        },
    )
)
