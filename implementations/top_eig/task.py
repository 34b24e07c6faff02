"""The ``top_eig`` contract: inputs, metrics and scoring.

Given a symmetric ``A`` (``n x n``), ``k`` and a ``budget`` of matrix-vector products, find
the ``k`` algebraically largest eigenvalues ``l_1 >= ... >= l_k`` and an orthonormal basis
of their eigenvectors. Methods get ``A`` as a :class:`matrixbench.operators.LinearOperator`
(products only, counted as ``matvecs``) and spend at most ``budget`` products (Oja's
streaming method reads the rows of a covariance's data instead: zero products, one pass).

Forms of ``A`` (task parameter ``form``): ``dense`` (the generated matrix, dense or
sparse, as is); ``covariance`` (the generator gives data rows ``X`` (``N x n``) and ``A =
(X - mean)^T (X - mean) / N`` is applied through the centered factor, never formed).

Preconditions (:func:`check_inputs`): finite, symmetric to ``1e-12``, ``k < n``, and a
gap ``l_k - l_{k+1}`` above ``1e-10 |l_1|``: without one the top-``k`` eigenspace is not
determined and no method's subspace can be scored.

Output: ``{"values": (k,), "vectors": (n, k)}``. Metrics, lower is better:

- ``value_error``: ``max_i |m_i - l_i| / |l_1|`` (both sorted descending);
- ``angle``: the sine of the largest principal angle between ``span(vectors)`` and the true
  eigenspace, ``||(I - V V^T) Q||_2`` with ``Q`` an orthonormal basis of the output (1 when
  the output's columns are dependent);
- ``matvecs`` (the harness's count) and ``iterations`` (reported by the method).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse as sp

from matrixbench.operators import MATVECS, dense
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import SYMMETRY_TOL

FORMS = ("dense", "covariance")
GAP_TOL = 1e-10


def make_inputs(matrix: Any, k: int = 1, budget: int = 200, form: str = "dense") -> dict[str, Any]:
    """``A`` as generated (dense or sparse), or ``{"gram_factor": (X - mean) / sqrt(N)}``."""
    if form == "covariance":
        X = np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float64)
        X = X[0] if X.ndim == 3 and X.shape[0] == 1 else X  # a batch of one from the generic generators
        A: Any = {"gram_factor": np.ascontiguousarray((X - X.mean(axis=0)) / np.sqrt(X.shape[0])), "shift": 0.0}
    elif sp.issparse(matrix):
        A = sp.csr_matrix(matrix, dtype=np.float64)
    else:
        A = np.asarray(matrix, dtype=np.float64)
        A = A[0] if A.ndim == 3 and A.shape[0] == 1 else A
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"top_eig needs a square matrix (form: dense), got {A.shape}; data rows need form: covariance")
    return {"A": A, "k": int(k), "budget": int(budget)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    M = dense(inputs["A"])
    if not np.all(np.isfinite(M)):
        return "A is not finite"
    scale = np.linalg.norm(M)
    asym = np.linalg.norm(M - M.T) / scale if scale > 0 else 0.0
    if asym > SYMMETRY_TOL:
        return f"A is not symmetric: ||A - A^T||_F/||A||_F = {asym:.3g} (tolerance {SYMMETRY_TOL:g})"
    n, k = M.shape[0], inputs["k"]
    if not 1 <= k < n:
        return f"k = {k} must be at least 1 and below n = {n}"
    lam = np.linalg.eigvalsh(0.5 * (M + M.T))[::-1]
    top = max(abs(lam[0]), abs(lam[-1]))
    if lam[k - 1] - lam[k] <= GAP_TOL * top:
        return (f"no gap after the k = {k} largest eigenvalues: l_k - l_(k+1) = {lam[k - 1] - lam[k]:.3g} "
                f"(relative {(lam[k - 1] - lam[k]) / top if top else 0:.3g}): the top-k eigenspace is not determined")
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    if not isinstance(output, Mapping) or set(output) < {"values", "vectors"}:
        return "expected {'values': (k,), 'vectors': (n, k)}"
    k, n = inputs["k"], np.shape(reference["vectors"])[0]
    if np.shape(output["values"]) != (k,) or np.shape(output["vectors"]) != (n, k):
        return (f"expected values of shape ({k},) and vectors of shape ({n}, {k}); got {np.shape(output['values'])} "
                f"and {np.shape(output['vectors'])}")
    return None


def sine_largest_angle(V: np.ndarray, W: np.ndarray) -> float:
    """``||(I - V V^T) Q||_2``, ``Q`` an orthonormal basis of ``W``; ``V`` orthonormal."""
    Q, R = np.linalg.qr(W)
    d = np.abs(np.diag(R))
    if d.size and d.min() <= 1e-12 * max(d.max(), 1e-300):
        return 1.0
    return float(min(1.0, np.linalg.norm(Q - V @ (V.T @ Q), 2)))


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    got = np.sort(np.asarray(output["values"], dtype=np.float64))[::-1]
    want = np.asarray(reference["values"], dtype=np.float64)
    top = np.abs(want).max() if want.size else 1.0
    return {"value_error": float(np.max(np.abs(got - want)) / (top if top > 0 else 1.0)),
            "angle": sine_largest_angle(np.asarray(reference["vectors"]), np.asarray(output["vectors"], dtype=np.float64))}


def budget_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    """The budget's products (the dominant term): ``2 nnz`` (dense: ``2 n^2``), or ``4 N n`` through a factor."""
    A = inputs["A"]
    if isinstance(A, Mapping):
        N, n = np.shape(A["gram_factor"])
        return inputs["budget"] * 4.0 * N * n
    return inputs["budget"] * 2.0 * (A.nnz if sp.issparse(A) else np.shape(A)[0] ** 2)


TASK = register_task(
    Task(
        name="top_eig",
        description="The k largest eigenpairs of a symmetric matrix seen through a budget of products A V.",
        metrics=(
            Metric("value_error", "lower", doc="max_i |computed - exact eigenvalue| / |largest eigenvalue|"),
            Metric("angle", "lower", doc="sine of the largest principal angle to the true top-k eigenspace"),
            Metric(MATVECS, "lower", unit="products", doc="matrix-vector products the method asked for", scale="count"),
            Metric("iterations", "lower", unit="steps", doc="iterations (or cycles) a method ran", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        operators=("A",),
        example={"generator": "gap_spectrum", "params": {"n": 60, "k": 2, "gap": 0.5}, "task_params": {"k": 2, "budget": 60}},
        example_gates={"value_error": {"float64": 1e-3, "float32": 1e-3}, "angle": {"float64": 0.1, "float32": 0.1}},
        params={
            "k": Param(int, 1, min=1, doc="eigenpairs wanted"),
            "budget": Param(int, 200, min=1, doc="matrix-vector products a method may spend"),
            "form": Param(str, "dense", choices=FORMS, omit_default=True,
                          doc="dense: the generated matrix; covariance: the generator gives data rows"),
        },
    )
)
