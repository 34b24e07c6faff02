"""Pure helpers over result records: labels, reference and baseline times, latest cells, Pareto fronts.

Shared by the console tables, the HTML/Markdown report and compare, so that "speedup" and
"winner" mean the same thing everywhere.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, TypeVar

from .verdict import TIMED  # noqa: F401 - statuses whose cells were timed and scored

Record = dict[str, Any]
T = TypeVar("T")


def method_label(record: Record) -> str:
    """``name(param=value,...)``: the method with its parameters, as in the cell key, and
    its mode when not ``forward`` (``[backward]``)."""
    params = record["method"]["params"]
    inner = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    mode = record["method"].get("mode", "forward")
    return record["method"]["name"] + (f"({inner})" if inner else "") + (f" [{mode}]" if mode != "forward" else "")


def median_time(record: Record) -> float | None:
    t = record.get("time")
    return t["median"] if t and record["status"] in TIMED else None


def median_ci(record: Record) -> tuple[float, float] | None:
    """The 95% bootstrap interval of the cell's median time, where recorded."""
    t = record.get("time")
    ci = t.get("median_ci") if t and record["status"] in TIMED else None
    return (ci[0], ci[1]) if ci else None


def ci_text(record: Record) -> str:
    """The interval of the median as ``±x%`` of the median (its larger side), or ``-``."""
    ci, t = median_ci(record), median_time(record)
    if not ci or not t:
        return "-"
    return f"±{max(t - ci[0], ci[1] - t) / t:.1%}"


def contended(record: Record) -> bool:
    """True when the cell was timed while other processes used the CPU (see
    :mod:`matrixbench.contention`): its time says little about the code."""
    c = record.get("contention")
    throttled = bool((record.get("gpu") or {}).get("throttled"))  # a GPU that slowed its clock
    return (bool(isinstance(c, dict) and c.get("contended")) or throttled) and record.get("status") in TIMED


def reference_time(record: Record, group: list[Record]) -> float | None:
    """Median time of the reference on the same problem: same dtype and device if present,
    else the float64 CPU reference, else any."""
    refs = [r for r in group if r["method"]["kind"] == "reference" and median_time(r)]
    same = [r for r in refs if r["dtype"] == record["dtype"] and r["device"] == record["device"]]
    pick = same or [r for r in refs if r["dtype"] == "float64" and r["device"] == "cpu"] or refs
    return median_time(pick[0]) if pick else None


def baseline_time(record: Record, group: list[Record]) -> float | None:
    """Median time of the fastest ``ok`` baseline on the same problem, dtype and device."""
    times = [median_time(r) for r in group if r["method"]["kind"] == "baseline" and r["status"] == "ok"
             and r["dtype"] == record["dtype"] and r["device"] == record["device"] and median_time(r)]
    return min(times) if times else None


def speedup(base: float | None, time: float | None) -> float | None:
    return base / time if base and time else None


def group_by(items: Iterable[T], key: Callable[[T], Any]) -> dict[Any, list[T]]:
    """Group preserving first-seen order."""
    out: dict[Any, list[T]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


def latest_records(runs: list[dict[str, Any]]) -> list[Record]:
    """Each cell once, from the newest run (by start time) that holds it; runs' order kept."""
    newest: dict[str, tuple[str, Record]] = {}
    order: list[str] = []
    for run in runs:
        started = run["run"]["started"]
        for r in run["results"]:
            if r["key"] not in newest:
                order.append(r["key"])
            if r["key"] not in newest or started >= newest[r["key"]][0]:
                newest[r["key"]] = (started, {**r, "run_id": run["run"]["id"]})
    return [newest[k][1] for k in order]


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats in both coordinates (both: lower is better),
    sorted by the first coordinate. Ties keep the first point."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front, best = [], float("inf")
    for i in order:
        if points[i][1] < best:
            front.append(i)
            best = points[i][1]
    return front
