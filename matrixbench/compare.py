"""Compare two runs cell by cell: what got slower, less accurate, or broke, and whether
the head run can be judged at all.

Before anything is compared, :func:`check_comparable` says whether the two runs *can* be
compared (the same run-file schema, a base with results, the same machine, at least one
cell in common); the CLI exits 2 with its message when they cannot. Then
:func:`compare_runs` judges the head in two layers.

**Run-level problems** (:attr:`Comparison.problems`): a head that cannot vouch for
itself fails the comparison whatever its cells say, because a broken commit must not
pass by producing nothing to compare:

- the head is incomplete (``run.complete`` is false, or it holds fewer results than
  ``run.planned``): it crashed or was killed midway, or is still running;
- the head has no results at all;
- the head has cells but none was timed (every one errored, crashed, timed out...);
- every timed head cell has a null or NaN time, or every metric of its timed cells is
  null or NaN;
- the head skipped every cell that was ``ok`` in the base, so nothing was compared.

Each problem is also a :class:`Change` of kind ``"run"`` (key ``"run <head id>"``) in
:attr:`Comparison.changes`, so :attr:`Comparison.regressions` and
:attr:`Comparison.failed` are true for it (exit 1).

**Cells** are matched by key. Four kinds of change are reported:

- **status**: statuses rank ``ok`` > ``inaccurate`` > a failure (``error``,
  ``crashed``, ``timeout``, ``nan``, ``invalid``). A cell whose rank drops is a
  regression (``ok`` -> ``error``, ``ok`` -> ``inaccurate``, ``inaccurate`` ->
  ``crashed``), one whose rank rises an improvement; the note is the head's reason (the
  base's for an improvement). Two failures of different kinds are not a change.
  ``skipped`` on either side is not compared: a skipped cell measured nothing. A cell
  ``ok`` in the base and ``skipped`` in the head is listed in
  :attr:`Comparison.skipped` with the head's reason, as a note and **not** a
  regression: a skip is a decision about where a method runs (a dependency not
  installed here, a new ``applies`` rule, no GPU), not a wrong or slow answer, and
  failing CI on it would punish narrowing a method's scope. The note keeps it visible,
  and a head that skipped *everything* the base had ``ok`` is a run-level problem
  (above), so skipping cannot hide a broken commit.
- **missing**: a cell ``ok`` in the base (or ``inaccurate``: it was measured) that the
  head does not hold at all is a regression (kind ``"missing"``), with a note saying
  why it may be absent (the head stopped early; the runs selected different cells).
- **time**: a regression needs both evidence and size. Evidence: a one-sided
  Mann-Whitney U test on the raw samples says the head is slower (``p < alpha``); size: the
  ratio of the chosen statistic (``min`` by default, or ``median``) is past
  ``1 + threshold``. The minimum is the default because interference on a shared machine
  (another tenant, a descheduled vCPU) only ever adds time, so the fastest of the samples
  pooled over a run's rounds is the most repeatable estimate of a cell's cost: on the
  2-core VM this was written on, two runs of the same code on ``suites/ci.yaml`` gave
  min ratios within [0.94, 1.02] (10th-90th percentile) where medians spread over
  [0.85, 1.12]. Either alone is not enough: on a shared
  machine a significant 2% is noise in practice, and a 15% ratio from three samples is
  not evidence. With fewer than 3 samples on a side no test is possible and the ratio
  alone decides (the table says so). A timed head cell with no finite time where the
  base had one is a regression (the head value is ``None``).
- **accuracy**: a metric that got worse by more than ``accuracy_threshold`` relative to
  the base *and* by more than a floor of ``64 * eps(dtype)`` (so that rounding-level
  changes of a float64 error near 1e-16 do not count). Metric values may be ``None``
  (JSON null: the engine stores a NaN or Inf metric so): a base ``None`` is not compared;
  a head ``None`` where the base had a number is a regression (the head value is the
  string ``"null"``). The direction of each metric (lower or higher is better) comes from
  the run files' own ``metrics`` table when they record one (see :func:`run_directions`),
  else from the ``directions`` argument, else ``lower``; a metric whose direction differs
  between the two files is not compared (a note says so).

A method whose version (its source hash) differs between the runs is flagged, so that a
change is never read as if the code were the same. Run-level remarks that do not fail the
comparison (a base that is itself incomplete, runs on different machines compared on
purpose, different cell selections) are in :attr:`Comparison.notes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from scipy.stats import mannwhitneyu

from .results import contended
from .tradeoff import DEFAULT_FAIL_ON, CellVerdict, judge
from .trials import ALPHA as SEED_ALPHA, seed_test
from .verdict import TIMED

EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
#: Statuses that are not compared at all.
UNCOMPARED = ("skipped",)
#: Rank of a status for the status comparison; any other (error, crashed, timeout, nan,
#: invalid, or a status this version does not know) ranks 0.
STATUS_RANK = {"ok": 2, "inaccurate": 1}
#: Fields of ``environment.machine`` that identify a machine (see :func:`check_comparable`).
MACHINE_FIELDS = ("name", "cpu", "arch", "cores_logical", "gpus")
#: ``run.options`` that select cells: runs that differ in them hold different cells.
SELECTION_OPTIONS = ("methods", "filter", "entry", "device", "quick")
STATISTICS = ("min", "median")
#: ``Change.test`` of a time change that is not judged because of contention.
UNRELIABLE = "unreliable (contention)"


@dataclass
class Change:
    key: str
    kind: str  # time | accuracy | status | missing | run | skipped
    what: str  # "time (min)", the metric name, "status", or the run-level finding
    base: Any
    head: Any
    ratio: float | None = None
    p_value: float | None = None
    test: str = ""
    regression: bool = False
    improvement: bool = False
    method_changed: bool = False
    note: str = ""


@dataclass
class Comparison:
    base_id: str
    head_id: str
    threshold: float
    alpha: float
    accuracy_threshold: float
    statistic: str = "min"
    matched: int = 0
    #: matched cells that are not skipped on either side (the cells actually judged)
    compared: int = 0
    only_base: list[str] = field(default_factory=list)
    only_head: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    time_ratios: list[float] = field(default_factory=list)
    #: run-level findings that fail the comparison (each is also a ``kind="run"`` change)
    problems: list[str] = field(default_factory=list)
    #: run-level remarks that do not fail it
    notes: list[str] = field(default_factory=list)
    #: cells ``ok`` in the base and ``skipped`` in the head (kind ``"skipped"``), not regressions
    skipped: list[Change] = field(default_factory=list)
    #: time changes not judged because a side was timed under contention
    unreliable: list[Change] = field(default_factory=list)
    #: every compared cell's joint speed-and-accuracy verdict (:mod:`matrixbench.tradeoff`)
    cells: list[CellVerdict] = field(default_factory=list)
    #: the cell verdicts that fail the comparison
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    #: what made it (``compare``, ``ab``) and how its time and accuracy were judged, for reports
    title: str = "compare"
    method: str = ""

    def verdicts(self, *names: str) -> list[CellVerdict]:
        """The cells whose joint verdict is one of ``names``."""
        return [c for c in self.cells if c.verdict in names]

    def tally(self) -> str:
        """``"1 regressed, 2 unreliable"``: the count of every verdict but ``unchanged``
        (``regressed`` always, so that a reader sees the zero)."""
        return ", ".join(f"{len(self.verdicts(v))} {v}" for v in ("regressed", "traded", "improved", "unreliable",
                                                                  "inconclusive") if v == "regressed" or self.verdicts(v))

    def _of(self, verdict: str) -> set[str]:
        return {c.key for c in self.cells if c.verdict == verdict}

    @property
    def geomean_ratio(self) -> float:
        """Geometric mean of head/base time ratios (the chosen statistic) over all timed matched cells."""
        return float(np.exp(np.mean(np.log(self.time_ratios)))) if self.time_ratios else float("nan")

    @property
    def regressions(self) -> list[Change]:
        """The changes of cells whose verdict is ``regressed``, and run-level problems (kind ``"run"``)."""
        bad = self._of("regressed")
        return [c for c in self.changes if c.kind == "run" or (c.key in bad and c.regression)]

    @property
    def improvements(self) -> list[Change]:
        """The changes of cells whose verdict is ``improved``."""
        good = self._of("improved")
        return [c for c in self.changes if c.key in good and c.improvement]

    @property
    def failed(self) -> bool:
        """True when the comparison fails (exit 1): a run-level problem, or a cell whose
        verdict is in :attr:`fail_on` (by default a regression)."""
        return bool(self.problems) or any(c.verdict in self.fail_on for c in self.cells)


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _time_stat(record: Mapping[str, Any], statistic: str) -> float | None:
    time = record.get("time")
    return finite(time.get(statistic)) if isinstance(time, Mapping) else None


def _samples(record: Mapping[str, Any]) -> list[float]:
    time = record.get("time")
    raw = time.get("samples") if isinstance(time, Mapping) else None
    return [v for v in (finite(s) for s in (raw or [])) if v is not None]


# ------------------------------------------------------------------ can they be compared?

def _results(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    results = run.get("results")
    return list(results) if isinstance(results, list) else []


def _run_id(run: Mapping[str, Any]) -> str:
    meta = run.get("run")
    return str(meta.get("id", "?")) if isinstance(meta, Mapping) else "?"


def _machine(run: Mapping[str, Any]) -> Mapping[str, Any]:
    env = run.get("environment")
    machine = env.get("machine") if isinstance(env, Mapping) else None
    return machine if isinstance(machine, Mapping) else {}


def _identity(machine: Mapping[str, Any], name: str) -> Any:
    value = machine.get(name)
    if name == "gpus" and isinstance(value, list):  # the models, not their free memory or driver
        return sorted(str(g.get("name")) if isinstance(g, Mapping) else str(g) for g in value)
    return value


def machine_differences(base_run: Mapping[str, Any], head_run: Mapping[str, Any]) -> list[str]:
    """The :data:`MACHINE_FIELDS` of ``environment.machine`` that both runs record and that
    differ, as ``"cpu 'A' vs 'B'"``. A field recorded on one side only is not compared, nor
    are GPUs when one side lists none (a CPU build of torch on a GPU machine lists none)."""
    b, h = _machine(base_run), _machine(head_run)
    out = []
    for name in MACHINE_FIELDS:
        if name == "gpus" and not (b.get(name) and h.get(name)):
            continue  # an empty list says only that this torch build sees no GPU
        if name in b and name in h and b[name] is not None and h[name] is not None:
            bv, hv = _identity(b, name), _identity(h, name)
            if bv != hv:
                out.append(f"{name} {bv!r} vs {hv!r}")
    return out


def selection_differences(base_run: Mapping[str, Any], head_run: Mapping[str, Any]) -> list[str]:
    """How the two runs chose their cells differently: their suite files (by name and
    sha256) and the :data:`SELECTION_OPTIONS` of ``run.options``."""
    b, h = base_run.get("run") or {}, head_run.get("run") or {}

    def suites(meta: Mapping[str, Any]) -> dict[str, Any]:
        return {str(s.get("name")): s.get("sha256") for s in meta.get("suites") or [] if isinstance(s, Mapping)}

    bs, hs = suites(b), suites(h)
    out = []
    if bs and hs:
        changed = sorted(n for n in set(bs) & set(hs) if bs[n] != hs[n])
        if changed:
            out.append("suite file changed: " + ", ".join(changed))
        if set(bs) != set(hs):
            out.append(f"suites differ: base {', '.join(sorted(bs))}, head {', '.join(sorted(hs))}")
    bo, ho = b.get("options") or {}, h.get("options") or {}
    for name in SELECTION_OPTIONS:
        if bo.get(name) != ho.get(name):
            out.append(f"--{name} {bo.get(name)!r} vs {ho.get(name)!r}")
    return out


def check_comparable(base_run: Mapping[str, Any], head_run: Mapping[str, Any], *,
                     allow_different_machines: bool = False) -> str | None:
    """Why ``base_run`` and ``head_run`` (run files' contents) cannot be compared, or None.

    The checks, in order (the first that fails is the answer):

    1. **schema**: both files name the same run-file schema (``schema``) and the same
       ``schema_version``: results written under another schema may carry other fields or
       mean other things (a status, a null), and are not read as if they were the same.
       Re-run the base with the head's matrixbench to compare across a schema change.
    2. **base results**: the base holds at least one result: there is nothing to compare
       against otherwise. (An empty *head* is not refused here: it is a run-level problem
       of :func:`compare_runs`, exit 1, because that is what a broken commit produces.)
    3. **machine**: unless ``allow_different_machines``, the two runs ran on the same
       machine: every field of :data:`MACHINE_FIELDS` that both record in
       ``environment.machine`` is equal: the machine name (``MATRIXBENCH_MACHINE`` or the
       host name, also the folder results are filed under), the CPU model, the
       architecture, the logical core count and the GPU models (when both list GPUs).
       Times from two machines measure the machines, not the commit. Fields recorded on
       one side only are not compared (older files); memory size, OS, software and BLAS
       are not identity (a comparison across a NumPy upgrade is a legitimate question).
    4. **cells in common**: when both runs hold results, at least one key is in both:
       disjoint runs are two different experiments (another suite, or a change of the
       cell-key format), not a base and its head.
    """
    b_schema = (base_run.get("schema"), base_run.get("schema_version"))
    h_schema = (head_run.get("schema"), head_run.get("schema_version"))
    if b_schema != h_schema:
        return (f"the runs use different run-file schemas: base {_run_id(base_run)} is {b_schema[0]!r} version "
                f"{b_schema[1]!r}, head {_run_id(head_run)} is {h_schema[0]!r} version {h_schema[1]!r}; "
                "re-run the base with this matrixbench to compare them")
    base, head = _results(base_run), _results(head_run)
    if not base:
        return f"base run {_run_id(base_run)} has no results: there is nothing to compare against"
    if not allow_different_machines:
        diff = machine_differences(base_run, head_run)
        if diff:
            return (f"base {_run_id(base_run)} and head {_run_id(head_run)} ran on different machines ("
                    + "; ".join(diff) + "): their times are not comparable; "
                    "compare them anyway with --allow-different-machines")
    if head and not {r.get("key") for r in base} & {r.get("key") for r in head}:
        why = selection_differences(base_run, head_run)
        return (f"base {_run_id(base_run)} and head {_run_id(head_run)} have no cell in common"
                + (f" ({'; '.join(why)})" if why else " (the cell keys differ)") + ": nothing to compare")
    return None


# ------------------------------------------------------------------ metric directions

def run_directions(run: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{task: {metric: "lower" | "higher"}}`` from a run file's own top-level ``metrics``
    table, ``{task: {metric: {"direction": "lower" | "higher", "unit": str}}}``, or ``{}``
    when it has none (older files). Entries without a valid direction are ignored."""
    table = run.get("metrics")
    out: dict[str, dict[str, str]] = {}
    for task, metrics in (table.items() if isinstance(table, Mapping) else ()):
        if not isinstance(metrics, Mapping):
            continue
        for name, spec in metrics.items():
            direction = spec.get("direction") if isinstance(spec, Mapping) else None
            if direction in ("lower", "higher"):
                out.setdefault(str(task), {})[str(name)] = direction
    return out


def _merged_directions(base_run: Mapping[str, Any], head_run: Mapping[str, Any],
                       given: Mapping[str, Mapping[str, str]] | None) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Directions for the comparison (the files' own, head first, over ``given``) and the
    ``task/metric`` names whose direction the two files disagree on (not compared)."""
    base_dirs, head_dirs = run_directions(base_run), run_directions(head_run)
    out: dict[str, dict[str, str]] = {t: dict(m) for t, m in (given or {}).items()}
    for dirs in (base_dirs, head_dirs):  # head last: it wins
        for task, metrics in dirs.items():
            out.setdefault(task, {}).update(metrics)
    conflicts = sorted(f"{t}/{m}" for t, ms in head_dirs.items() for m, d in ms.items()
                       if base_dirs.get(t, {}).get(m, d) != d)
    return out, conflicts


# ------------------------------------------------------------------ cell changes

def time_change(key: str, base: dict, head: dict, threshold: float, alpha: float,
                statistic: str = "min") -> Change | None:
    """The time change of a cell timed on both sides; None when the base has no finite
    time (nothing to judge against). A head without a finite time is a regression. A
    cell timed under contention on either side is neither (``test`` says ``unreliable``):
    its time measured the other processes."""
    b, h = _time_stat(base, statistic), _time_stat(head, statistic)
    what = f"time ({statistic})"
    if b is None:
        return None
    sides = [side for side, r in (("base", base), ("head", head)) if contended(r)]
    if sides and h is not None:
        return Change(key, "time", what, b, h, ratio=h / b if b > 0 else None, test=UNRELIABLE,
                      note=f"timed under contention in the {' and '.join(sides)}: the time is not judged")
    if h is None:
        return Change(key, "time", what, b, None, test="no finite time in the head", regression=True,
                      note="the head cell is timed but recorded no finite time")
    bs, hs = _samples(base), _samples(head)
    ratio = h / b if b > 0 else (1.0 if h == 0 else math.inf)
    change = Change(key, "time", what, b, h, ratio=ratio)
    if len(bs) >= 3 and len(hs) >= 3:
        slower = mannwhitneyu(hs, bs, alternative="greater").pvalue
        faster = mannwhitneyu(hs, bs, alternative="less").pvalue
        change.test = "Mann-Whitney U, one-sided"
        change.p_value = float(slower if ratio >= 1 else faster)
        significant = change.p_value < alpha
    else:
        change.test = "ratio only (fewer than 3 samples)"
        significant = True
    change.regression = significant and ratio > 1 + threshold
    change.improvement = significant and ratio < 1 / (1 + threshold)
    return change


def metric_changes(key: str, base: dict, head: dict, directions: Mapping[str, str], accuracy_threshold: float,
                   skip: frozenset[str] | set[str] = frozenset()) -> list[Change]:
    """Accuracy changes of the metrics both cells report (``skip``: names not compared)."""
    floor = 64 * EPS.get(head.get("dtype", ""), 2.0**-52)
    bm, hm = base.get("metrics") or {}, head.get("metrics") or {}
    out = []
    for name in sorted((set(bm) & set(hm)) - set(skip)):
        b, h = finite(bm[name]), finite(hm[name])
        if b is None:  # nothing to judge against
            continue
        if h is None:
            out.append(Change(key, "accuracy", name, b, "null", test="null (NaN or Inf) in the head", regression=True,
                              note=f"{name} is null (NaN or Inf) in the head"))
            continue
        sign = -1.0 if directions.get(name, "lower") == "higher" else 1.0
        worse = sign * (h - b)  # > 0 when the head is worse
        rel = abs(h - b) / abs(b) if b != 0 else (math.inf if h != b else 0.0)
        big = rel > accuracy_threshold and abs(h - b) > floor
        ratio = h / b if b != 0 else None
        test = f"relative change > {accuracy_threshold:g} and > {floor:.2g} absolute"
        p = seed_test(base, head, name) if big else None
        if p is not None:  # both have trials: the seed distributions must differ too
            big = p < SEED_ALPHA
            test += f"; medians over seeds, Mann-Whitney p = {p:.2g} (< {SEED_ALPHA:g} counts)"
        if big:
            out.append(Change(key, "accuracy", name, b, h, ratio=ratio, test=test,
                              regression=worse > 0, improvement=worse < 0))
    return out


def status_change(key: str, base: dict, head: dict) -> Change | None:
    """The status change of a cell compared on both sides (neither skipped), by rank."""
    bs, hs = base["status"], head["status"]
    rb, rh = STATUS_RANK.get(bs, 0), STATUS_RANK.get(hs, 0)
    if rb == rh:
        return None
    return Change(key, "status", "status", bs, hs, regression=rh < rb, improvement=rh > rb,
                  note=str(head.get("reason", "")) if rh < rb else str(base.get("reason", "")))


# ------------------------------------------------------------------ run-level findings

def _incomplete(run: Mapping[str, Any]) -> str | None:
    """Why a run is incomplete, as ``"18 of 42 cells"``, or None."""
    meta = run.get("run") or {}
    have = len(_results(run))
    planned = meta.get("planned")
    planned = planned if isinstance(planned, int) and not isinstance(planned, bool) else None
    short = planned is not None and planned > have
    if meta.get("complete", True) is not False and not short:
        return None
    why = f"{have} of {planned} cells" if planned is not None else f"{have} cells recorded, the planned count unknown"
    if meta.get("complete") is False:
        why += "; it did not finish" + (" (interrupted)" if meta.get("interrupted")
                                        else " (crashed, killed or still running)")
    return why


def run_problems(head_run: Mapping[str, Any], statistic: str = "min") -> list[tuple[str, str]]:
    """The head's own run-level problems (see the module docstring) as ``(what, message)``."""
    head = _results(head_run)
    meta = head_run.get("run") or {}
    if not head:
        planned = meta.get("planned")
        return [("no results", "head run has no results" + (f" (0 of {planned} planned cells)" if planned else ""))]
    problems = []
    incomplete = _incomplete(head_run)
    if incomplete:
        problems.append(("incomplete", f"head run is incomplete: {incomplete}"))
    timed = [r for r in head if r.get("status") in TIMED]
    ran = [r for r in head if r.get("status") not in UNCOMPARED]
    if ran and not timed:
        counts: dict[str, int] = {}
        for r in ran:
            counts[str(r.get("status"))] = counts.get(str(r.get("status")), 0) + 1
        problems.append(("no timed cell", f"head run has no timed cell: of its {len(ran)} cells that ran, "
                         + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))))
    if timed and all(_time_stat(r, statistic) is None for r in timed):
        problems.append(("no finite time", f"head run has no finite time: all {len(timed)} timed cells (ok or "
                         f"inaccurate) have null or NaN times ({statistic})"))
    values = [v for r in timed for v in (r.get("metrics") or {}).values()]
    if values and all(finite(v) is None for v in values):
        problems.append(("no finite metric", f"head run has no finite metric: all {len(values)} metric values of "
                         "its timed cells are null or NaN"))
    return problems


# ------------------------------------------------------------------ compare

def compare_runs(base_run: dict, head_run: dict, *, threshold: float = 0.10, alpha: float = 0.05,
                 accuracy_threshold: float = 0.5, directions: dict[str, dict[str, str]] | None = None,
                 min_time: float = 0.0, statistic: str = "min",
                 fail_on: tuple[str, ...] = DEFAULT_FAIL_ON) -> Comparison:
    """Compare two run files' contents (see the module docstring).

    ``directions[task][metric]`` is ``"lower"`` or ``"higher"``; the run files' own
    ``metrics`` tables take precedence (:func:`run_directions`). Time changes of cells whose
    base time (median) is under ``min_time`` seconds are not reported. This function does
    not refuse incomparable runs: call :func:`check_comparable` first.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    base = {r["key"]: r for r in _results(base_run)}
    head = {r["key"]: r for r in _results(head_run)}
    cmp = Comparison(_run_id(base_run), _run_id(head_run), threshold, alpha, accuracy_threshold, statistic,
                     fail_on=tuple(fail_on))
    cmp.method = (f"Time: ratio of the {statistic} past {threshold:.0%} (or the benchmark's own threshold) and a "
                  f"one-sided Mann-Whitney U test with p < {alpha:g}; accuracy: relative change past "
                  f"{accuracy_threshold:g}.")
    cmp.only_base = sorted(set(base) - set(head))
    cmp.only_head = sorted(set(head) - set(base))
    dirs, conflicts = _merged_directions(base_run, head_run, directions)
    if conflicts:
        cmp.notes.append("metric direction differs between the run files, not compared: " + ", ".join(conflicts))
    conflicted: dict[str, set[str]] = {}
    for name in conflicts:
        task, metric = name.split("/", 1)
        conflicted.setdefault(task, set()).add(metric)

    base_ok = 0
    for key in [k for k in head if k in base]:
        b, h = base[key], head[key]
        cmp.matched += 1
        base_ok += b["status"] == "ok"
        if b["status"] in UNCOMPARED or h["status"] in UNCOMPARED:
            if b["status"] == "ok" and h["status"] == "skipped":
                cmp.skipped.append(Change(key, "skipped", "status", "ok", "skipped", note=str(h.get("reason", ""))))
            continue
        cmp.compared += 1
        changed = (b.get("method") or {}).get("version") != (h.get("method") or {}).get("version")
        own = {**(b.get("regression") or {}), **(h.get("regression") or {})}  # the suite's, head first
        t_thr, a_thr = own.get("threshold", threshold), own.get("accuracy_threshold", accuracy_threshold)
        found: list[Change] = []
        status = status_change(key, b, h)
        if status is not None:
            found.append(status)
        time_state, time_ratio = "n/a", None
        if b["status"] in TIMED and h["status"] in TIMED:
            change = time_change(key, b, h, t_thr, alpha, statistic)
            if change is not None:
                time_ratio = change.ratio
                if change.test == UNRELIABLE:
                    time_state = "unreliable"
                    cmp.unreliable.append(change)
                elif change.ratio is not None and math.isfinite(change.ratio) and change.ratio > 0:
                    cmp.time_ratios.append(change.ratio)
                base_median = _time_stat(b, "median")
                if change.test != UNRELIABLE and (change.head is None or base_median is None
                                                  or base_median >= min_time):
                    found.append(change)
                    time_state = "slower" if change.regression else "faster" if change.improvement else "same"
            found += metric_changes(key, b, h, dirs.get(h.get("task", ""), {}), a_thr,
                                    conflicted.get(h.get("task", ""), set()))
        for c in found:
            c.method_changed = changed
            if c.regression or c.improvement:
                cmp.changes.append(c)
        moved = "dropped" if status is not None and status.regression else "rose" if status is not None else "same"
        cmp.cells.append(judge(key, time_state, found, time_ratio=time_ratio, status=moved,
                               note="method source changed" if changed else ""))

    # cells measured in the base that the head does not hold
    why_missing = ["not in the head run"]
    incomplete = _incomplete(head_run)
    if incomplete:
        why_missing.append(f"the head run is incomplete ({incomplete})")
    selection = selection_differences(base_run, head_run)
    if selection:
        why_missing.append("the runs selected different cells: " + "; ".join(selection))
    for key in cmp.only_base:
        if base[key]["status"] in TIMED:
            cmp.changes.append(Change(key, "missing", "status", base[key]["status"], "missing", regression=True,
                                      note="; ".join(why_missing)))
            cmp.cells.append(judge(key, "n/a", [], status="missing", note="; ".join(why_missing)))

    # run-level findings
    findings = run_problems(head_run, statistic)
    if base_ok and cmp.compared == 0:  # every matched cell ok in the base is skipped in the head
        first = cmp.skipped[0].note if cmp.skipped else ""
        findings.append(("nothing compared", f"head run skipped all {base_ok} cells that were ok in the base: "
                         "nothing was compared" + (f" (first reason: {first})" if first else "")))
    for what, message in findings:
        cmp.problems.append(message)
        cmp.changes.append(Change(f"run {cmp.head_id}", "run", what, "", "", regression=True, note=message))
    if cmp.unreliable:
        cmp.notes.append(f"{len(cmp.unreliable)} cell(s) were timed under contention (other processes used the "
                         "CPU): their times are unreliable and not judged")
    if cmp.skipped:
        cmp.notes.append(f"{len(cmp.skipped)} cell(s) ok in the base are skipped in the head "
                         "(not compared; see skipped)")
    base_incomplete = _incomplete(base_run)
    if base_incomplete:
        cmp.notes.append(f"base run is incomplete ({base_incomplete}): only the cells it holds are compared")
    machines = machine_differences(base_run, head_run)
    if machines:
        cmp.notes.append("the runs are from different machines (" + "; ".join(machines) + "): time changes "
                         "measure the machines as much as the code")
    if selection:
        cmp.notes.append("the runs selected different cells: " + "; ".join(selection))
    cmp.changes.sort(key=lambda c: (not c.regression, c.kind != "run", c.kind, c.key))
    return cmp
