"""Convergence traces: an iterative method's error at every iterate, outside the timed calls.

Papers in this field compare iterative methods by error against iteration and against
time, not by their last iterate alone. A method registered with ``trace=True`` takes a
keyword ``callback``: after each iteration it calls ``callback(iterate)`` with the current
iterate in the form of its output (what it would return if it stopped there). With
``callback=None`` (every timed call) it calls nothing, so the timed method is untouched.

A benchmark with ``trace: true`` (or ``run --trace``) calls each traced cell's method once
more after its timing, with a callback that, per iterate,

1. synchronizes the device and reads the clock: the seconds of the method up to this
   iterate, the callback's own earlier work subtracted;
2. scores the iterate with the task's metrics against the float64 reference (an early
   iterate is inaccurate by nature: its verdict is not the cell's);
3. restarts the clock.

The record's ``trace`` keeps ``iterations`` (1..K), ``seconds`` and, per metric, the
values; the report draws the task's primary metric against iteration and against time,
every traced method of a problem on one plot. An operator task's trace also keeps
``matvecs``, the products spent up to each iterate (:mod:`matrixbench.operators`), and the
report draws the metric against them.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from . import entries, operators, registry


def trace_cell(prepared: Any, sync: Callable[[], None]) -> dict[str, Any] | None:
    """The convergence trace of a prepared cell (:class:`matrixbench.execute.PreparedCell`),
    or None when its method does not trace."""
    cell = prepared.cell
    meth = cell.method_obj
    if not meth.trace:
        return None
    seconds: list[float] = []
    metrics: dict[str, list[float | None]] = {}
    excluded = 0.0
    # an operator task's iterate is also placed by the products spent so far
    task = registry.TASKS[cell.problem.task]
    visible = task.visible(prepared.inputs, meth.kind)
    given, ops = operators.wrap(visible, task.operators) if task.operators else (visible, [])
    given, oracles = entries.wrap(given, task.entry_inputs) if task.entry_inputs else (given, [])
    products: list[int] = []
    evaluated: list[int] = []

    def callback(iterate: Any) -> None:
        nonlocal excluded
        sync()
        now = time.perf_counter()
        seconds.append(now - start - excluded)
        if ops:
            products.append(sum(op.products for op in ops))
        if oracles:
            evaluated.append(sum(o.entries for o in oracles))
        _, scored, _ = prepared.evaluate(iterate)
        for name in set(metrics) | set(scored):
            metrics.setdefault(name, [None] * (len(seconds) - 1)).append(scored.get(name))
        excluded += time.perf_counter() - now

    start = time.perf_counter()
    meth.fn(**given, **dict(cell.method_params), callback=callback)
    out: dict[str, Any] = {"iterations": list(range(1, len(seconds) + 1)), "seconds": seconds, "metrics": metrics}
    if ops:
        out[operators.MATVECS] = products
    if oracles:
        out[entries.ENTRIES] = evaluated
    return out
