"""The ``nystrom_cur`` contract: inputs, metrics and scoring.

Given ``A`` (``m x n``) and a rank ``k``, return an approximation ``A_hat`` of rank at most
``k`` in factored form:

- ``{"F": F}`` (``n x r``, ``r <= k``): ``A_hat = F F^T``, a Nyström approximation of a
  positive semidefinite ``A`` (``F F^T = C W^+ C^T`` for the sampled columns ``C`` and
  their rows ``W``);
- ``{"left": L, "right": R}`` (``m x r`` and ``r x n``): ``A_hat = L R`` (a CUR
  decomposition as ``L = C U``, ``R``; an interpolative decomposition as ``L = C``,
  ``R = T``).

Methods get ``A`` as a :class:`matrixbench.entries.EntryMatrix`: a kernel matrix of
points or an explicit matrix, read by blocks of entries, every entry counted (the metric
``entries``). The task's inputs also say whether ``A`` is positive semidefinite
(``psd``): kernel matrices are; an explicit matrix is when it is symmetric to ``1e-12``
and its smallest eigenvalue is above ``-n eps ||A||_2``. Nyström methods apply to those
only; CUR and interpolative decompositions to any matrix.

Metrics, lower is better, in float64:

- ``trace_error``: ``tr(A - A_hat) / tr(A)`` (positive semidefinite ``A`` only), the
  figure of merit of Chen, Epperly, Tropp and Webber (CPAM 2025) for Nyström
  approximations (the trace norm of ``A - A_hat``, which is PSD for a Nyström ``A_hat``);
- ``fro_ratio``: ``||A - A_hat||_F / ||A - A_k||_F``, ``A_k`` the best rank-``k``
  approximation (Eckart-Young): 1 is optimal; the CUR papers' measure (Sorensen and
  Embree, SISC 2016). A tail below the rounding level ``n eps ||A||_F`` (``A`` of rank at
  most ``k``) is replaced by that level, so an exact recovery scores about 1, not infinity;
- ``rel_error``: ``||A - A_hat||_F / ||A||_F``: below 1 for any approximation better than
  none (the suites gate on it: above 1 is a wrong answer, not a poor one);
- ``entries``: entries of ``A`` the method evaluated (the engine's count).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.entries import ENTRIES, dense, is_kernel
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

EPS = float(np.finfo(np.float64).eps)


def definite_enough(A: np.ndarray) -> bool:
    """Symmetric to ``1e-12`` and no eigenvalue below ``-n eps ||A||_2`` (rounding)."""
    if A.shape[0] != A.shape[1] or not np.all(np.isfinite(A)):  # check_inputs reports the non-finite
        return False
    norm = float(np.linalg.norm(A))
    if norm == 0:
        return True
    if float(np.linalg.norm(A - A.T)) > 1e-12 * norm:
        return False
    w = np.linalg.eigvalsh((A + A.T) / 2)
    return bool(w[0] >= -A.shape[0] * EPS * max(abs(w[0]), abs(w[-1])))


def make_inputs(matrix: Any, k: int = 10) -> dict[str, Any]:
    """The matrix (a kernel's points, or the explicit matrix), ``k`` and whether it is PSD."""
    if is_kernel(matrix):
        A = {"points": np.ascontiguousarray(np.asarray(matrix["points"], dtype=np.float64)),
             "kernel": str(matrix["kernel"]), "bandwidth": float(matrix["bandwidth"])}
        return {"A": A, "k": int(k), "psd": True}
    A = dense(matrix)
    if A.ndim != 2:
        raise ValueError(f"nystrom_cur needs one matrix, got shape {A.shape}")
    return {"A": np.ascontiguousarray(A), "k": int(k), "psd": definite_enough(A)}


def shape_of(inputs: Mapping[str, Any]) -> tuple[int, int]:
    A = inputs["A"]
    if is_kernel(A):
        n = int(np.shape(A["points"])[0])
        return n, n
    return int(A.shape[0]), int(A.shape[1])


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    A, k = inputs["A"], inputs["k"]
    values = np.asarray(A["points"]) if is_kernel(A) else np.asarray(A)
    if not np.all(np.isfinite(values)):
        return f"{'the points' if is_kernel(A) else 'A'} hold {int((~np.isfinite(values)).sum())} non-finite values"
    if is_kernel(A) and not float(A["bandwidth"]) > 0:
        return f"the kernel's bandwidth must be positive, got {A['bandwidth']}"
    m, n = shape_of(inputs)
    if not 1 <= k < min(m, n):
        return f"k = {k} must be at least 1 and below min(m, n) = {min(m, n)}"
    if not np.any(values) and not is_kernel(A):
        return "A is the zero matrix: every relative error is undefined"
    return None


def factors(output: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(L, R)`` with ``A_hat = L R``."""
    if "F" in output:
        F = np.asarray(output["F"], dtype=np.float64)
        return F, F.T
    return np.asarray(output["left"], dtype=np.float64), np.asarray(output["right"], dtype=np.float64)


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    m, n = shape_of(inputs)
    k = inputs["k"]
    if not isinstance(output, Mapping) or not ("F" in output or {"left", "right"} <= set(output)):
        return "expected {'F': F} or {'left': L, 'right': R}"
    if "F" in output:
        F = np.shape(output["F"])
        if len(F) != 2 or F[0] != n or m != n:
            return f"expected F of shape ({n}, r), got {F}"
        r = F[1]
    else:
        L, R = np.shape(output["left"]), np.shape(output["right"])
        if len(L) != 2 or len(R) != 2 or L[0] != m or R[1] != n or L[1] != R[0]:
            return f"expected left ({m}, r) and right (r, {n}), got {L} and {R}"
        r = L[1]
    if r > k:
        return f"rank {r} exceeds k = {k}"
    return None


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    A = dense(inputs["A"])
    L, R = factors(output)
    Lk, Rk = factors(reference)
    err = float(np.linalg.norm(A - L @ R))
    floor = max(A.shape) * EPS * float(np.linalg.norm(A))  # the rounding level of L R
    tail = max(float(np.linalg.norm(A - Lk @ Rk)), floor)
    norm = float(np.linalg.norm(A))
    out = {"fro_ratio": err / tail if tail > 0 else float("inf"), "rel_error": err / norm}
    if inputs["psd"]:
        trace = float(np.trace(A))
        out["trace_error"] = (trace - float(np.einsum("ij,ji->", L, R))) / trace if trace > 0 else float("inf")
    return out


TASK = register_task(
    Task(
        name="nystrom_cur",
        description="Low-rank approximation from a few entries: Nyström (randomly pivoted Cholesky...), CUR, ID.",
        metrics=(
            Metric("trace_error", "lower", doc="tr(A - A_hat) / tr(A), positive semidefinite A only"),
            Metric("fro_ratio", "lower", doc="||A - A_hat||_F / ||A - A_k||_F, A_k the best rank-k approximation"),
            Metric("rel_error", "lower", doc="||A - A_hat||_F / ||A||_F"),
            Metric(ENTRIES, "lower", unit="entries", doc="entries of A the method evaluated", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        entry_inputs=("A",),
        example={"generator": "kernel_curve", "params": {"curve": "smile", "n": 300, "bandwidth": 2.0},
                 "task_params": {"k": 20}},
        example_gates={"rel_error": {"float64": 0.9, "float32": 0.9}},
        params={"k": Param(int, 10, min=1, doc="the rank of the approximation (columns, pivots)")},
    )
)
