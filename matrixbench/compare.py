"""Compare two runs cell by cell: what got slower, less accurate, or broke.

Cells are matched by key. Three kinds of change are reported:

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
  alone decides (the table says so).
- **accuracy**: a metric that got worse by more than ``accuracy_threshold`` relative to
  the base *and* by more than a floor of ``64 * eps(dtype)`` (so that rounding-level
  changes of a float64 error near 1e-16 do not count).
- **status**: a cell that was ``ok`` and is not any more (a gate newly fails, it raises,
  returns NaN...) is a regression; the reverse an improvement. ``skipped`` on either side
  is not compared.

A method whose version (its source hash) differs between the runs is flagged, so that a
change is never read as if the code were the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import mannwhitneyu

EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
TIMED = ("ok", "inaccurate")


@dataclass
class Change:
    key: str
    kind: str  # time | accuracy | status
    what: str  # "time" or the metric name or "status"
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
    only_base: list[str] = field(default_factory=list)
    only_head: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    time_ratios: list[float] = field(default_factory=list)

    @property
    def geomean_ratio(self) -> float:
        """Geometric mean of head/base time ratios (the chosen statistic) over all timed matched cells."""
        return float(np.exp(np.mean(np.log(self.time_ratios)))) if self.time_ratios else float("nan")

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]

    @property
    def improvements(self) -> list[Change]:
        return [c for c in self.changes if c.improvement]


STATISTICS = ("min", "median")


def time_change(key: str, base: dict, head: dict, threshold: float, alpha: float, statistic: str = "min") -> Change:
    bs, hs = base["time"]["samples"], head["time"]["samples"]
    b, h = base["time"][statistic], head["time"][statistic]
    ratio = h / b if b > 0 else float("inf")
    change = Change(key, "time", f"time ({statistic})", b, h, ratio=ratio)
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


def metric_changes(key: str, base: dict, head: dict, directions: dict[str, str], accuracy_threshold: float) -> list[Change]:
    floor = 64 * EPS.get(head["dtype"], 2.0**-52)
    out = []
    for name in sorted(set(base["metrics"]) & set(head["metrics"])):
        b, h = base["metrics"][name], head["metrics"][name]
        sign = -1.0 if directions.get(name, "lower") == "higher" else 1.0
        worse = sign * (h - b)  # > 0 when the head is worse
        rel = abs(h - b) / abs(b) if b != 0 else (float("inf") if h != b else 0.0)
        big = rel > accuracy_threshold and abs(h - b) > floor
        ratio = h / b if b != 0 else None
        if big:
            out.append(Change(key, "accuracy", name, b, h, ratio=ratio, test=f"relative change > {accuracy_threshold:g} and > {floor:.2g} absolute",
                              regression=worse > 0, improvement=worse < 0))
    return out


def compare_runs(base_run: dict, head_run: dict, *, threshold: float = 0.10, alpha: float = 0.05,
                 accuracy_threshold: float = 0.5, directions: dict[str, dict[str, str]] | None = None,
                 min_time: float = 0.0, statistic: str = "min") -> Comparison:
    """Compare two run files' contents; ``directions[task][metric]`` is lower/higher."""
    base = {r["key"]: r for r in base_run["results"]}
    head = {r["key"]: r for r in head_run["results"]}
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    cmp = Comparison(base_run["run"]["id"], head_run["run"]["id"], threshold, alpha, accuracy_threshold, statistic)
    cmp.only_base = sorted(set(base) - set(head))
    cmp.only_head = sorted(set(head) - set(base))
    for key in [k for k in head if k in base]:
        b, h = base[key], head[key]
        cmp.matched += 1
        changed = b["method"]["version"] != h["method"]["version"]
        found: list[Change] = []
        if "skipped" in (b["status"], h["status"]):
            continue
        if b["status"] != h["status"] and "ok" in (b["status"], h["status"]):
            found.append(Change(key, "status", "status", b["status"], h["status"], regression=b["status"] == "ok",
                                improvement=h["status"] == "ok", note=h["reason"] if b["status"] == "ok" else b["reason"]))
        if b["status"] in TIMED and h["status"] in TIMED and b["time"] and h["time"]:
            change = time_change(key, b, h, threshold, alpha, statistic)
            cmp.time_ratios.append(change.ratio)
            if b["time"]["median"] >= min_time:
                found.append(change)
            found += metric_changes(key, b, h, (directions or {}).get(h["task"], {}), accuracy_threshold)
        for c in found:
            c.method_changed = changed
            if c.regression or c.improvement:
                cmp.changes.append(c)
    cmp.changes.sort(key=lambda c: (not c.regression, c.kind, c.key))
    return cmp
