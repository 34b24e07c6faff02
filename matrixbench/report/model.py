"""What a report shows, computed from run files: plain data, no HTML and no plotting.

- the runs (machine, commit, date, suites) and their environments;
- per task: a summary of winners (the fastest timed cell per problem at each accuracy
  level of the task's primary metric), scaling fits, and the cells that are not ok;
- per problem: one row per cell (the newest run's record of each cell) with speedups
  against the reference and the fastest baseline, metrics, GFLOP/s and share of the
  calibrated peak; the points of the accuracy-against-time plot and its Pareto front;
- history: each cell across runs of one machine, ordered by commit date;
- per task, device and dtype: a roofline (GFLOP/s against FLOPs per byte of compulsory
  traffic) under the calibrated matmul rate and copy bandwidth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .. import registry
from ..fmt import fmt_time
from ..results import (TIMED, baseline_time, ci_text, contended, group_by, latest_records, median_ci, median_time,
                       method_label, pareto_front, reference_time, speedup)
from ..operators import MATVECS
from ..scaling import PowerFit, fit_power_law

Record = dict[str, Any]
LEVELS = (1e-1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12)
#: Errors are drawn no lower than this on log axes (an exact 0, e.g. the reference
#: against itself, would otherwise stretch the axis to 1e-300).
PLOT_FLOOR = 1e-17


@dataclass
class Row:
    record: Record
    label: str
    time: float | None
    iqr: float | None
    vs_reference: float | None
    vs_baseline: float | None
    peak_share: float | None
    peak_source: str | None
    ci: str = "-"  # the median's 95% interval, as ±x%
    ci_range: str = ""  # ... and as its two ends


@dataclass
class Series:
    """Points of one method (its parameter sweep) in one dtype and device."""

    name: str
    dtype: str
    device: str
    points: list[tuple[float, float, str]]  # (time, metric, label)
    #: per point, the 10-90% range of the metric over seeds (cells run with trials), else None
    spread: list[tuple[float, float] | None] = field(default_factory=list)
    method: str = ""  # the method's name: its colour in every plot of a report


@dataclass
class ProblemView:
    key: str
    anchor: str
    generator: str
    params: dict[str, Any]
    task_params: dict[str, Any]
    rows: list[Row]
    metrics: list[str]
    accuracy: list[Series] = field(default_factory=list)
    front: list[tuple[float, float, str]] = field(default_factory=list)
    history: dict[str, list[tuple[str, float | None, dict[str, float]]]] = field(default_factory=dict)
    #: convergence traces of the primary metric: (label, iterations, seconds, values, products
    #: spent up to each iterate or None: :mod:`matrixbench.trace`)
    traces: list[tuple[str, list[int], list[float], list[float], list[int] | None]] = field(default_factory=list)


@dataclass
class ScalingView:
    title: str
    size: str
    series: dict[str, list[tuple[float, float]]]
    fits: dict[str, PowerFit | None]


@dataclass
class ProductsView:
    """The primary metric against the matrix-vector products spent (``matvecs``, counted by
    :mod:`matrixbench.operators`), over a sweep of an integer task parameter (a budget),
    one line per method and dtype."""

    title: str
    metric: str
    sweep: str
    series: dict[str, list[tuple[float, float]]]


@dataclass
class RooflineView:
    """Achieved GFLOP/s against arithmetic intensity for one device and dtype, under the
    machine's calibrated ceilings: ``min(peak, bandwidth x intensity)`` (Williams,
    Waterman and Patterson, "Roofline", CACM 52(4), 2009)."""

    device: str
    dtype: str
    peak_gflops: float
    bandwidth_gbs: float
    source: str
    points: dict[str, list[tuple[float, float, str]]]  # method -> (FLOP/byte, GFLOP/s, label)


@dataclass
class Winner:
    label: str
    backend: str
    dtype: str
    device: str
    time: float
    metric: float | None


@dataclass
class TaskView:
    name: str
    description: str
    primary: str | None
    directions: dict[str, str]
    problems: list[ProblemView]
    levels: list[float]
    winners: dict[str, dict[str, Winner | None]]  # problem key -> level label -> winner
    scaling: list[ScalingView]
    not_ok: list[Record]
    statuses: dict[str, int]
    roofline: list[RooflineView] = field(default_factory=list)
    products: list[ProductsView] = field(default_factory=list)
    scales: dict[str, str] = field(default_factory=dict)  # metric -> scale (registry.Scale)
    colors: dict[str, str] = field(default_factory=dict)  # method name -> its colour in every plot
    summary: list[Any] = field(default_factory=list)  # the answer first: summary.Regime per regime

    @property
    def accuracy_axis(self) -> str:
        """The primary metric as levels and plots show it (its distance from exact)."""
        return axis_label(self.primary or "", self.scales.get(self.primary or "", "error"))


@dataclass
class RunInfo:
    id: str
    machine: str
    commit: str | None
    commit_date: str | None
    dirty: bool | None
    started: str
    suites: list[str]
    cells: int
    complete: bool


@dataclass
class ReportModel:
    runs: list[RunInfo]
    tasks: list[TaskView]
    environments: list[tuple[str, dict[str, Any]]]
    calibration: dict[str, dict[str, Any]]


def level_label(level: float | None) -> str:
    return "any" if level is None else f"≤ {level:.0e}"


def _metric_specs(task: str, records: list[Record], runs: list[dict[str, Any]]
                  ) -> tuple[dict[str, str], dict[str, str], str | None]:
    """Each metric's direction and scale, and the task's primary metric (its first): from the
    registry when the task is loaded, else from the run files' own ``metrics`` table, else
    ``lower`` and ``error`` (older files)."""
    known = registry.TASKS.get(task)
    names = sorted({m for r in records for m in r["metrics"]})
    if known is not None:
        specs = {m.name: {"direction": m.direction, "scale": m.scale} for m in known.metrics}
        primary = known.metrics[0].name if known.metrics else None
    else:
        specs = {}
        for run in runs:
            specs.update((run.get("metrics") or {}).get(task) or {})
        primary = next(iter(specs), None) or ("rel_error" if "rel_error" in names else (names[0] if names else None))
    directions = {n: (specs.get(n) or {}).get("direction", "lower") for n in names}
    scales = {n: (specs.get(n) or {}).get("scale", "error") for n in names}
    return directions, scales, primary


def axis_label(metric: str, scale: str) -> str:
    """What an accuracy axis or level shows: the metric's distance from exact."""
    return {"ratio": f"|{metric} - 1|", "score": f"1 - {metric}"}.get(scale, metric)


def accuracy_of(record: Record, metric: str | None, scale: str) -> float | None:
    """The record's distance from exact on ``metric`` (:func:`registry.distance`), or None
    when the metric is missing, not finite or not ranked (a count or a value)."""
    value = record["metrics"].get(metric or "")
    if value is None or scale in registry.UNRANKED or not math.isfinite(value):
        return None
    return registry.distance(scale, value)


def usable(record: Record) -> bool:
    """A cell whose time can crown a winner: ``ok``, timed and not measured under contention."""
    return record["status"] == "ok" and bool(median_time(record)) and not contended(record)


def _calibration_entry(record: Record, calibration: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The calibration of the cell's device and dtype, at its thread count when there is one."""
    threads = (record.get("threads") or {}).get("requested")
    best = None
    for entry in calibration.values():
        if entry["device"] == record["device"] and entry["dtype"] == record["dtype"]:
            if best is None or entry.get("threads") == threads:
                best = entry
    return best


def _source(entry: dict[str, Any]) -> str:
    return (f"{entry['matmul_gflops']:.1f} GFLOP/s matmul, {entry['bandwidth_gbs']:.1f} GB/s copy ({entry['device']}, "
            f"{entry['dtype']}, {entry['threads']} threads, measured {entry['measured'][:10]})")


def _peak(record: Record, calibration: dict[str, dict[str, Any]]) -> tuple[float | None, str | None]:
    """Share of the calibrated matmul rate of the cell's device and dtype, and its source."""
    if not record.get("gflops"):
        return None, None
    best = _calibration_entry(record, calibration)
    if best is None:
        return None, None
    return record["gflops"] / best["matmul_gflops"], _source(best)


def intensity(record: Record) -> float | None:
    """FLOPs per byte of compulsory traffic (inputs read once, output written once): a
    lower bound on the traffic, so the roofline ceiling at this intensity is an upper
    bound on what the cell could reach."""
    io = record.get("io") or {}
    moved = (io.get("input_bytes") or 0) + (io.get("output_bytes") or 0)
    return record["flops"] / moved if record.get("flops") and moved > 0 else None


def _roofline(records: list[Record], calibration: dict[str, dict[str, Any]]) -> list[RooflineView]:
    """One roofline per device and dtype that has a calibration and cells with FLOPs and traffic."""
    views = []
    usable = [r for r in records if r.get("gflops") and intensity(r) and r["status"] in TIMED]
    for (device, dtype), rs in group_by(usable, lambda r: (r["device"], r["dtype"])).items():
        entry = _calibration_entry(rs[0], calibration)
        if entry is None:
            continue
        points = {}
        for r in rs:
            points.setdefault(r["method"]["name"], []).append((intensity(r), r["gflops"], method_label(r)))
        views.append(RooflineView(device, dtype, entry["matmul_gflops"], entry["bandwidth_gbs"], _source(entry), points))
    return views


def _rows(group: list[Record], calibration: dict[str, dict[str, Any]]) -> list[Row]:
    rows = []
    for r in group:
        t = median_time(r)
        share, source = _peak(r, calibration)
        ci = median_ci(r)
        rows.append(Row(r, method_label(r), t, r["time"]["iqr"] if t is not None else None,
                        speedup(reference_time(r, group), t), speedup(baseline_time(r, group), t), share, source,
                        ci_text(r), f"{fmt_time(ci[0])} to {fmt_time(ci[1])}" if ci else ""))
    return rows


def seed_range(record: Record, metric: str, scale: str = "error") -> tuple[float, float] | None:
    """The 10-90% range of ``metric``'s distance from exact over the seeds of a cell run with trials."""
    spread = ((record.get("trials") or {}).get("spread") or {}).get(metric)
    if not spread:
        return None
    ends = sorted(max(registry.distance(scale, spread[q]), PLOT_FLOOR) for q in ("p10", "p90"))
    return ends[0], ends[1]


def _traces(group: list[Record], primary: str | None
            ) -> list[tuple[str, list[int], list[float], list[float], list[int] | None]]:
    """Each traced cell's primary metric per iteration (finite values, floored for log axes),
    with the products spent up to each iterate where an operator task counted them."""
    out = []
    for r in group:
        trace = r.get("trace") or {}
        values = (trace.get("metrics") or {}).get(primary or "")
        if not values:
            continue
        products = trace.get(MATVECS) or [None] * len(values)
        keep = [(i, t, max(v, PLOT_FLOOR), p)
                for i, t, v, p in zip(trace["iterations"], trace["seconds"], values, products)
                if v is not None and math.isfinite(v)]
        if keep:
            label = f"{method_label(r)} {r['method']['backend']} {r['dtype']} {r['device']}"
            counted = [k[3] for k in keep] if all(k[3] is not None for k in keep) else None
            out.append((label, [k[0] for k in keep], [k[1] for k in keep], [k[2] for k in keep], counted))
    return out


def _accuracy(group: list[Record], primary: str | None, scale: str
              ) -> tuple[list[Series], list[tuple[float, float, str]]]:
    """The accuracy-against-time points: the primary metric's distance from exact (floored
    for log axes) against the median time, one series per method, backend, dtype and device."""
    if primary is None or scale in registry.UNRANKED:
        return [], []
    timed = [r for r in group if median_time(r) and accuracy_of(r, primary, scale) is not None]

    def acc(r: Record) -> float:
        return max(accuracy_of(r, primary, scale) or 0.0, PLOT_FLOOR)

    series = []
    for (name, backend, dtype, device), rs in group_by(
            timed, lambda r: (r["method"]["name"], r["method"]["backend"], r["dtype"], r["device"])).items():
        rs = sorted(rs, key=lambda r: (median_time(r), acc(r)))
        pts = [(median_time(r), acc(r), method_label(r)) for r in rs]
        series.append(Series(f"{name} {backend}", dtype, device, pts, [seed_range(r, primary, scale) for r in rs], name))
    points = [(median_time(r), acc(r), f"{method_label(r)} {r['method']['backend']} {r['dtype']} {r['device']}")
              for r in timed]
    front = [points[i] for i in pareto_front([(p[0], p[1]) for p in points])]
    return series, front


def _history(group_keys: set[str], runs: list[dict[str, Any]]) -> dict[str, list[tuple[str, float | None, dict[str, float]]]]:
    """Per cell: (commit or run label, median time, metrics) across runs of one machine, by commit date."""
    out: dict[str, list[tuple[str, float | None, dict[str, float]]]] = {}
    seen: dict[str, int] = {}
    for run in runs:
        git = run["environment"].get("git") or {}
        label = (git.get("commit") or "")[:8] or run["run"]["id"]
        seen[label] = seen.get(label, 0) + 1
        label = label if seen[label] == 1 else f"{label}#{seen[label]}"  # several runs of one commit
        for r in run["results"]:
            if r["key"] in group_keys:
                out.setdefault(r["key"], []).append((label, median_time(r), dict(r["metrics"])))
    return {k: v for k, v in out.items() if len(v) >= 2}


def _sort_key(run: dict[str, Any]) -> tuple[str, str]:
    git = run["environment"].get("git") or {}
    return (git.get("date") or run["run"]["started"], run["run"]["started"])


def _size_params(records: list[Record]) -> list[str]:
    """Generator parameters that are sizes: integers with at least 3 distinct values."""
    values: dict[str, set[Any]] = {}
    for r in records:
        for k, v in r["problem"]["params"].items():
            if isinstance(v, int) and not isinstance(v, bool):
                values.setdefault(k, set()).add(v)
    return [k for k, vs in values.items() if len(vs) >= 3]


def _scaling(records: list[Record]) -> list[ScalingView]:
    timed = [r for r in records if median_time(r)]
    views = []
    for size in _size_params(timed):
        def fixed(r: Record) -> tuple:
            p = r["problem"]
            rest = tuple(sorted((k, str(v)) for k, v in p["params"].items() if k != size))
            return (p["generator"], rest, tuple(sorted((k, str(v)) for k, v in p["task_params"].items())), r["device"])

        sized = [r for r in timed if size in r["problem"]["params"]]  # other generators may lack it
        for (gen, rest, tparams, device), rs in group_by(sized, fixed).items():
            series: dict[str, list[tuple[float, float]]] = {}
            for r in rs:
                series.setdefault(f"{method_label(r)} {r['method']['backend']} {r['dtype']}", []).append((r["problem"]["params"][size], median_time(r)))
            series = {k: sorted(v) for k, v in series.items() if len({x for x, _ in v}) >= 3}
            if not series:
                continue
            fits = {}
            for name, pts in series.items():
                distinct = len({x for x, _ in pts})
                fits[name] = fit_power_law([x for x, _ in pts], [t for _, t in pts], tail=max(3, math.ceil(distinct / 3)))
            title = f"{gen}({', '.join(f'{k}={v}' for k, v in rest)}) {', '.join(f'{k}={v}' for k, v in tparams)} on {device}"
            views.append(ScalingView(title, size, series, fits))
    return views


def _products(records: list[Record], primary: str | None) -> list[ProductsView]:
    """Error against products: records with ``matvecs``, grouped by everything but the
    integer task parameters that take at least 3 values (the sweep, e.g. a budget)."""
    counted = [r for r in records if r["status"] in TIMED and r["metrics"].get(MATVECS) is not None
               and primary and r["metrics"].get(primary) is not None]
    values: dict[str, set[Any]] = {}
    for r in counted:
        for k, v in r["problem"]["task_params"].items():
            if isinstance(v, int) and not isinstance(v, bool):
                values.setdefault(k, set()).add(v)
    sweeps = [k for k, vs in values.items() if len(vs) >= 3]
    views = []

    def fixed(r: Record) -> tuple:
        p = r["problem"]
        tparams = tuple(sorted((k, str(v)) for k, v in p["task_params"].items() if k not in sweeps))
        return (p["generator"], tuple(sorted((k, str(v)) for k, v in p["params"].items())), tparams, r["device"])

    for (gen, params, tparams, device), rs in group_by(counted, fixed).items():
        series: dict[str, list[tuple[float, float]]] = {}
        for r in rs:
            series.setdefault(f"{method_label(r)} {r['method']['backend']} {r['dtype']}", []).append(
                (float(r["metrics"][MATVECS]), float(r["metrics"][primary])))
        series = {k: sorted(v) for k, v in series.items() if len({x for x, _ in v}) >= 2}
        if series:
            title = (f"{gen}({', '.join(f'{k}={v}' for k, v in params)}) {', '.join(f'{k}={v}' for k, v in tparams)} "
                     f"on {device}")
            views.append(ProductsView(title, primary or "", ", ".join(sweeps), series))
    return views


def build_model(runs: list[dict[str, Any]]) -> ReportModel:
    runs = sorted(runs, key=_sort_key)
    infos = []
    calibration: dict[str, dict[str, Any]] = {}
    for run in runs:
        env = run["environment"]
        git = env.get("git") or {}
        infos.append(RunInfo(run["run"]["id"], (env.get("machine") or {}).get("name", "?"), git.get("commit"),
                             git.get("date"), git.get("dirty"), run["run"]["started"],
                             [s["path"] for s in run["run"]["suites"]], len(run["results"]), run["run"]["complete"]))
        calibration.update(run.get("calibration") or {})
    latest = latest_records(runs)
    machines = {i.machine for i in infos}
    tasks = []
    for task, records in group_by(latest, lambda r: r["task"]).items():
        directions, scales, primary = _metric_specs(task, records, runs)
        scale = scales.get(primary or "", "error")
        problems = []
        keys_with_history: set[str] = set()
        if len(runs) > 1 and len(machines) == 1:
            keys_with_history = {r["key"] for r in records}
        history_all = _history(keys_with_history, runs) if keys_with_history else {}
        statuses: dict[str, int] = {}
        for r in records:
            statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        for i, (pkey, group) in enumerate(group_by(records, lambda r: r["problem"]["key"]).items()):
            metrics = sorted({m for r in group for m in r["metrics"]})
            series, front = _accuracy(group, primary, scale)
            p = group[0]["problem"]
            problems.append(ProblemView(pkey, f"{task}-p{i}", p["generator"], dict(p["params"]), dict(p["task_params"]),
                                        _rows(group, calibration), metrics, series, front,
                                        {r["key"]: history_all[r["key"]] for r in group if r["key"] in history_all},
                                        _traces(group, primary)))
        levels = _levels(records, primary, scale)
        winners = {pv.key: _winners(pv, primary, scale, levels) for pv in problems}
        desc = registry.TASKS[task].description if task in registry.TASKS else ""
        not_ok = [r for r in records if r["status"] not in ("ok", "skipped")]
        view = TaskView(task, desc, primary, directions, problems, levels, winners, _scaling(records), not_ok, statuses,
                        _roofline(records, calibration), _products(records, primary), scales,
                        method_colors(records))
        view.summary = summarize(view)
        tasks.append(view)
    envs = [(run["run"]["id"], run["environment"]) for run in runs]
    return ReportModel(infos, tasks, envs, calibration)


def _levels(records: list[Record], primary: str | None, scale: str) -> list[float]:
    """The accuracy levels worth a column: those at or above the best distance reached."""
    values = [a for r in records if usable(r) and (a := accuracy_of(r, primary, scale)) is not None]
    if not values:
        return []
    best = min(values)
    return [lv for lv in LEVELS if lv >= best]


def _winners(pv: ProblemView, primary: str | None, scale: str, levels: list[float]) -> dict[str, Winner | None]:
    """The fastest usable cell of the problem overall ("any") and at each accuracy level."""
    timed = [row for row in pv.rows if usable(row.record)]
    out: dict[str, Winner | None] = {}
    for level in [None, *levels]:
        ok = [row for row in timed if level is None
              or (a := accuracy_of(row.record, primary, scale)) is not None and a <= level]
        best = min(ok, key=lambda row: row.time) if ok else None
        out[level_label(level)] = (Winner(best.label, best.record["method"]["backend"], best.record["dtype"],
                                          best.record["device"], best.time,
                                          best.record["metrics"].get(primary) if primary else None) if best else None)
    return out


#: 20 distinguishable colours: matplotlib's tab10, then the light halves of tab20
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
           "#dbdb8d", "#9edae5")


def method_colors(records: list[Record]) -> dict[str, str]:
    """One colour per method of a task, the same in every plot of the report: the task's
    method names sorted, then dealt :data:`PALETTE` in turn (a task has fewer than 20)."""
    names = sorted({r["method"]["name"] for r in records})
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


from .summary import summarize  # noqa: E402  (summary reads the views defined above)
