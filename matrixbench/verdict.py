"""Every verdict of a cell is decided here, and nowhere else.

A cell's status is one of :data:`STATUSES`. The functions below are the only places that
produce one; the runner, the worker, the bridges and the reports only carry them:

- :func:`check`: every reason a cell does not run (a missing dependency, a dtype or
  device the method does not support, a device this machine lacks, a sparse problem
  for a dense-only method, a method that does not apply to the problem) gives
  ``skipped``; a problem that breaks its task's preconditions gives ``invalid``. It runs
  twice: in the runner without the inputs (what can be known from names alone), and in
  the worker with them.
- :func:`judge`: the output of a method that returned: ``error`` (wrong structure,
  shape or dtype; wrote into its input; scoring raised), ``nan`` (NaN or Inf in the
  output or in a metric, named), ``inaccurate`` (the method flagged its own failure, or
  a gate is missed), else ``ok``.
- :func:`failed`: a method that did not return: ``error`` (it raised), ``timeout``,
  ``crashed`` (the worker died).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from . import registry
from .backends import device_available, has_sparse
from .modes import not_applicable

STATUSES = ("ok", "inaccurate", "invalid", "nan", "error", "timeout", "crashed", "skipped")
#: Statuses whose cells were timed and scored.
TIMED = ("ok", "inaccurate")
#: Statuses that do not make a run fail: the cell could not, or need not, run here.
NOT_FAILURES = ("ok", "skipped")


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")


OK = Verdict("ok")


def _missing_modules(mods: Iterable[str]) -> list[str]:
    return [m for m in mods if importlib.util.find_spec(m) is None]


def check(cell: Any, inputs: Mapping[str, Any] | None = None, violation: str | None = None) -> Verdict | None:
    """Why ``cell`` does not run, or None. Without ``inputs`` only what names tell;
    with the problem's float64 ``inputs`` (and its precondition violation, from
    :func:`preconditions`), also what the problem tells."""
    meth = cell.method_obj
    missing = _missing_modules(meth.requires)
    if missing:
        return Verdict("skipped", f"method {meth.name!r} needs {', '.join(missing)}, which is not installed")
    gen = registry.GENERATORS[cell.problem.generator]
    missing = _missing_modules(gen.requires)
    if missing:
        return Verdict("skipped", f"generator {gen.name!r} needs {', '.join(missing)}, which is not installed")
    if cell.dtype not in meth.dtypes:
        return Verdict("skipped", f"method {meth.name!r} does not support {cell.dtype} (supports {', '.join(meth.dtypes)})")
    if cell.device not in meth.devices:
        return Verdict("skipped", f"method {meth.name!r} does not run on {cell.device} (runs on {', '.join(meth.devices)})")
    reason = device_available(cell.backend, cell.device) or not_applicable(cell)
    if reason:
        return Verdict("skipped", reason)
    if inputs is None:
        return None
    if violation:
        return invalid(violation)
    if has_sparse(dict(inputs)) and not meth.sparse:
        return Verdict("skipped", f"method {meth.name!r} takes dense inputs only and this problem is sparse")
    if meth.applies is not None:
        visible = registry.TASKS[cell.problem.task].visible(inputs, meth.kind)
        reason = meth.applies(visible, **dict(cell.method_params))
        if reason:
            return Verdict("skipped", f"method {meth.name!r} does not apply: {reason}")
    return None


def preconditions(task: registry.Task, inputs: Mapping[str, Any]) -> str | None:
    """The task's precondition violation on one problem's inputs, or None."""
    if task.check_inputs is None:
        return None
    return task.check_inputs(inputs) or None


def invalid(violation: str) -> Verdict:
    """The verdict of every cell of a problem that breaks its task's preconditions."""
    return Verdict("invalid", violation)


def gate_failures(metrics: Mapping[str, float | None], gates: Mapping[str, float], task: registry.Task) -> list[str]:
    """Human-readable list of the gates that ``metrics`` miss."""
    failures = []
    for name, limit in gates.items():
        value = metrics.get(name)
        direction = task.metric(name).direction if task.metric(name) else "lower"
        if value is None:
            failures.append(f"{name} missing (gate {limit:.3g})")
        elif direction == "lower" and not value <= limit:
            failures.append(f"{name} {value:.3g} > gate {limit:.3g}")
        elif direction == "higher" and not value >= limit:
            failures.append(f"{name} {value:.3g} < gate {limit:.3g}")
    return failures


def judge(*, output_problem: str | None, finite: bool, metrics: Mapping[str, float | None] | None,
          scoring_error: str | None, own_failure: str | None, gates: Mapping[str, float],
          task: registry.Task) -> Verdict:
    """The verdict of a method that returned an output.

    ``output_problem``: what is wrong with the output's structure, shape or dtype, or
    with the method's conduct (it wrote into its input); ``finite``: the output has no
    NaN or Inf; ``metrics``: the scores (None where non-finite); ``scoring_error``: the
    scoring raised; ``own_failure``: the method's own flag (:class:`~.registry.WithInfo`).
    """
    if output_problem:
        return Verdict("error", output_problem)
    if not finite:
        return Verdict("nan", "the output has NaN or Inf entries")
    if scoring_error:
        return Verdict("error", "scoring failed: " + scoring_error)
    metrics = metrics or {}
    bad = [k for k, v in metrics.items() if v is None]
    if bad:
        return Verdict("nan", "a metric is NaN or Inf: " + ", ".join(bad))
    failures = ([own_failure] if own_failure else []) + gate_failures(metrics, gates, task)
    if failures:
        return Verdict("inaccurate", "; ".join(failures))
    return OK


def failed(kind: str, reason: str) -> Verdict:
    """A method (or its problem's reference) that did not return: kind is ``raised``,
    ``timeout`` or ``crashed``."""
    return Verdict({"raised": "error", "timeout": "timeout", "crashed": "crashed"}[kind], reason)


def finite_or_none(value: Any) -> float | None:
    """A metric as stored: a float, or None (JSON null) when NaN or Inf."""
    value = float(value)
    return value if math.isfinite(value) else None
