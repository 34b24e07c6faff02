"""The ``trace_logdet`` contract: inputs, metrics and scoring.

Given a symmetric positive semidefinite ``A`` (``n x n``), a ``quantity`` and a ``budget``
of matrix-vector products, estimate

- ``trace``: ``tr(A) = sum_i l_i``;
- ``logdet``: ``log det(A) = tr(log A) = sum_i log l_i`` (``A`` positive definite).

Methods get ``A`` as a :class:`matrixbench.operators.LinearOperator` (the task lists it in
``operators``): products ``A @ V`` only, each counted, so the record's ``matvecs`` is what
the method spent; a method must spend at most ``budget`` (its docstring says how it
splits it). ``A`` comes in two forms (task parameter ``form``):

- ``dense``: the generated matrix, plus ``shift I`` when ``shift > 0``;
- ``gram``: the generator gives a factor ``J`` (``m x n``) and ``A = J^T J + shift I`` is
  applied as ``J^T (J V) + shift V``, never formed: the Gauss-Newton matrix of a model is
  known through its Jacobian.

Preconditions (:func:`check_inputs`): finite; for ``dense``, square and symmetric to
``1e-12``; positive semidefinite for ``trace``, positive definite beyond the rounding level
for ``logdet`` (:mod:`implementations.common.spd_checks`); ``budget <= n`` is not required
(an estimator may spend more products than ``n``, though the exact trace then costs ``n``).

Metrics: ``rel_error = |t - t_ref| / |t_ref|`` (the denominator floored at ``2^-53
sum_i |f(l_i)|``, so a log-determinant that cancels to about 0 is not divided by 0), and
``matvecs`` (the engine's count).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative
from matrixbench.operators import MATVECS, dense
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import check_definite, check_finite, check_symmetric

QUANTITIES = ("trace", "logdet")
FORMS = ("dense", "gram")


def make_inputs(matrix: np.ndarray, quantity: str = "trace", budget: int = 100, form: str = "dense",
                shift: float = 0.0) -> dict[str, Any]:
    """``A`` (dense, with the shift added) or ``{"gram_factor": J, "shift": shift}``."""
    M = np.asarray(matrix, dtype=np.float64)
    if M.ndim == 3 and M.shape[0] == 1:  # a batch of one from the generic generators
        M = M[0]
    if M.ndim != 2:
        raise ValueError(f"trace_logdet needs one matrix, shape (n, n) or a factor (m, n); got {M.shape}")
    if form == "gram":
        A: Any = {"gram_factor": np.ascontiguousarray(M), "shift": float(shift)}
    else:
        if M.shape[0] != M.shape[1]:
            raise ValueError(f"form: dense needs a square matrix, got {M.shape}; a factor J needs form: gram")
        A = np.ascontiguousarray(M + shift * np.eye(M.shape[0]) if shift else M)
    return {"A": A, "quantity": quantity, "budget": int(budget)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    A = inputs["A"]
    raw = A["gram_factor"] if isinstance(A, Mapping) else A
    bad = check_finite(np.asarray(raw), name="J" if isinstance(A, Mapping) else "A")
    if bad:
        return bad
    M = dense(A)
    logdet = inputs["quantity"] == "logdet"
    return check_symmetric(M[None]) or check_definite(
        M[None], definite=logdet, why=" (log det needs a positive definite A; the task parameter shift adds shift I)"
        if logdet else "")


def _estimate(output: Any) -> Any:
    """A method's number; the reference's own output (a dict) is its ``value``."""
    return output["value"] if isinstance(output, Mapping) and "value" in output else output


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    output = _estimate(output)
    if isinstance(output, Mapping) or np.size(output) != 1:
        return f"expected one number (the estimate), got an output of shape {np.shape(output)}"
    return None


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    est = float(np.asarray(_estimate(output), dtype=np.float64).reshape(()))
    value, size = float(reference["value"]), float(reference["abs_sum"])
    return {"rel_error": float(relative(abs(est - value), abs(value), size))}


def product_flops(inputs: Mapping[str, Any]) -> float:
    """FLOPs of one product ``A v``: ``2 n^2`` dense, ``4 m n`` through a factor ``J``."""
    A = inputs["A"]
    if isinstance(A, Mapping):
        m, n = np.shape(A["gram_factor"])
        return 4.0 * m * n
    return 2.0 * np.shape(A)[0] ** 2


def budget_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    """The products' FLOPs, the dominant term of every estimator here (its own QR and small
    factorizations cost ``O(n budget^2)`` on top)."""
    return inputs["budget"] * product_flops(inputs)


TASK = register_task(
    Task(
        name="trace_logdet",
        description="tr(A) and log det(A) of an SPD matrix seen through a budget of products A V.",
        metrics=(
            Metric("rel_error", "lower", doc="|estimate - exact| / |exact| (exact: float64 eigenvalues)"),
            Metric(MATVECS, "lower", unit="products", doc="matrix-vector products the method asked for", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        operators=("A",),
        example={"generator": "trace_spectrum", "params": {"n": 40, "spectrum": "flat"},
                 "task_params": {"budget": 24}},
        example_gates={"rel_error": {"float64": 0.5, "float32": 0.5}},
        params={
            "quantity": Param(str, "trace", choices=QUANTITIES, doc="trace: tr(A); logdet: log det(A) = tr(log A)"),
            "budget": Param(int, 100, min=1, doc="matrix-vector products a method may spend"),
            "form": Param(str, "dense", choices=FORMS, omit_default=True,
                          doc="dense: the generated matrix; gram: the generator gives J and A = J^T J"),
            "shift": Param(float, 0.0, min=0.0, omit_default=True, doc="A + shift I"),
        },
    )
)
