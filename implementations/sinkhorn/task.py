"""The ``sinkhorn`` contract: inputs, metrics and scoring.

Entropic optimal transport: given weights ``a`` (``n``, positive) and ``b`` (``m``,
positive, the same total mass), a cost ``C`` (``n x m``, nonnegative) and ``reg > 0``,
return the plan

    G* = argmin { <C, G> - reg H(G) :  G >= 0,  G 1 = a,  G^T 1 = b },  H(G) = -sum G log G,

(``n x m``). Methods get ``a``, ``b``, ``C``, ``reg`` and two task parameters, ``tol``
(stop when both marginal errors are at most this, in the 1-norm; default ``1e-7``, POT's
benchmark's ``stopThr``; ``0`` means the dtype's floor, :data:`DEFAULT_TOL`) and
``max_iter`` (an iteration cap; a Sinkhorn iteration updates all ``n + m`` scalings, and
methods count in those units). A method that stops short of ``tol`` says so
(``inaccurate`` with the reason: the cap, a stall at its rounding floor, underflow), and
returns a finite plan.

The exact transport cost ``emd = min <C, G>`` over the same plans (no entropy) is
computed when the problem is made (:mod:`.emd`) and is a hidden input: only the
reference and the scoring see it. The reference plan ``G*`` is a float64 log-domain
run polished by Newton steps (:mod:`.reference`), to a marginal error below ``1e-10``.

Metrics, lower is better, in float64 on the returned plan ``G``:

- ``marginal_error``: ``||G^T 1 - b||_1``, the violation of ``b`` (the marginal POT's
  stopping rule watches; POT measures it in the 2-norm, ``||.||_1 <= sqrt(m) ||.||_2``);
- ``marginal_error_a``: ``||G 1 - a||_1`` (after a row update it is at rounding level;
  Greenkhorn and Sinkhorn-Newton-Sparse leave both marginals off);
- ``cost_error``: ``|<C, G> - <C, G*>| / <C, G*>``, against the entropic optimum;
- ``emd_error``: ``|<C, G> - emd| / emd``, against the exact transport cost (the
  entropic bias: it does not go to 0 with ``tol``, only with ``reg``);
- ``plan_error``: ``||G - G*||_1`` over all entries (total variation, times 2);
- ``iterations`` (reported by the method, in Sinkhorn iterations).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from .emd import emd_cost

#: what ``tol: 0`` means, per dtype: float32 plans carry a few units of its rounding in
#: each row sum, so ``1e-7`` in the 1-norm is at or under its floor
DEFAULT_TOL = {"float64": 1e-7, "float32": 1e-5}
#: relative mismatch of the total masses tolerated (rounding of the weights)
MASS_TOL = 1e-9


def tolerance(tol: float, dtype: Any) -> float:
    """``tol``, or the default of ``dtype`` (a torch or NumPy dtype) when ``tol`` is 0."""
    return float(tol) if tol > 0 else DEFAULT_TOL["float32" if "32" in str(dtype) else "float64"]


def make_inputs(problem: Mapping[str, Any], reg: float = 1.0, tol: float = 1e-7, max_iter: int = 1000
                ) -> dict[str, Any]:
    """``a``, ``b``, ``C`` from the generator, the parameters, and the hidden ``emd``."""
    if not isinstance(problem, Mapping) or not {"a", "b", "C"} <= set(problem):
        raise ValueError("sinkhorn needs a problem {'a': weights, 'b': weights, 'C': cost} (a sinkhorn generator)")
    a = np.ascontiguousarray(np.asarray(problem["a"], dtype=np.float64).ravel())
    b = np.ascontiguousarray(np.asarray(problem["b"], dtype=np.float64).ravel())
    C = np.ascontiguousarray(np.asarray(problem["C"], dtype=np.float64))
    inputs = {"a": a, "b": b, "C": C, "reg": float(reg), "tol": float(tol), "max_iter": int(max_iter)}
    inputs["emd"] = emd_cost(a, b, C) if check_inputs({**inputs, "emd": 1.0}) is None else float("nan")
    return inputs


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    a, b, C, reg = inputs["a"], inputs["b"], inputs["C"], inputs["reg"]
    for name, x in (("a", a), ("b", b), ("C", C)):
        if not np.all(np.isfinite(x)):
            return f"{name} holds {int((~np.isfinite(x)).sum())} non-finite values"
    if C.shape != (a.shape[0], b.shape[0]):
        return f"C must be n x m = {a.shape[0]} x {b.shape[0]} (the lengths of a and b), got {C.shape}"
    if a.size == 0 or b.size == 0:
        return "a and b must have at least one entry"
    if (a <= 0).any() or (b <= 0).any():
        return (f"a and b must be positive ({int((a <= 0).sum())} and {int((b <= 0).sum())} entries are not): "
                f"the log-domain methods need log a and log b; drop the points of zero mass")
    if abs(a.sum() - b.sum()) > MASS_TOL * a.sum():
        return f"a and b must have the same total mass, got {a.sum():.12g} and {b.sum():.12g}"
    if (C < 0).any():
        return f"C must be nonnegative (a cost), its smallest entry is {C.min():.3g}"
    if not reg > 0:
        return f"reg must be positive, got {reg}"
    if not inputs["emd"] > 0:
        return "the exact transport cost is 0 (the measures coincide): every relative error is undefined"
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    want = inputs["C"].shape
    got = np.shape(output)
    return None if got == want else f"expected a plan G of shape {want}, got {got}"


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    G = np.asarray(output, dtype=np.float64)
    G_star = np.asarray(reference, dtype=np.float64)
    a, b, C, emd = inputs["a"], inputs["b"], inputs["C"], inputs["emd"]
    cost, optimum = float((C * G).sum()), float((C * G_star).sum())
    return {"marginal_error": float(np.abs(G.sum(axis=0) - b).sum()),
            "marginal_error_a": float(np.abs(G.sum(axis=1) - a).sum()),
            "cost_error": abs(cost - optimum) / optimum,
            "emd_error": abs(cost - emd) / emd,
            "plan_error": float(np.abs(G - G_star).sum())}


TASK = register_task(
    Task(
        name="sinkhorn",
        description="Entropic optimal transport: Sinkhorn (scaling, log domain, epsilon scaling), Greenkhorn, "
                    "Sinkhorn-Newton-Sparse, POT and GeomLoss.",
        metrics=(
            Metric("marginal_error", "lower", doc="||G^T 1 - b||_1 (the marginal POT's stopping rule watches)"),
            Metric("marginal_error_a", "lower", doc="||G 1 - a||_1"),
            Metric("cost_error", "lower", doc="|<C, G> - <C, G*>| / <C, G*>, G* the entropic optimum"),
            Metric("emd_error", "lower", doc="|<C, G> - emd| / emd, emd the exact transport cost"),
            Metric("plan_error", "lower", doc="||G - G*||_1 over all entries"),
            Metric("iterations", "lower", unit="iterations", doc="Sinkhorn iterations (or their equivalent) run", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        hidden=("emd",),
        example={"generator": "point_clouds", "params": {"n": 30, "m": 40},
                 "task_params": {"reg": 0.05, "tol": 0.0, "max_iter": 5000}},
        example_gates={"marginal_error": {"float64": 1e-3, "float32": 1e-3},
                       "cost_error": {"float64": 1e-2, "float32": 1e-2}},
        params={
            "reg": Param(float, 1.0, min=0.0, doc="entropic regularization (in the units of C)"),
            "tol": Param(float, 1e-7, min=0.0,
                         doc="marginal error (1-norm) to stop at; 0: 1e-7 in float64, 1e-5 in float32"),
            "max_iter": Param(int, 1000, min=1, doc="iteration cap, in Sinkhorn iterations"),
        },
    )
)
