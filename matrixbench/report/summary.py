"""The answer first: a task's results said in a few sentences, computed from the run.

A *regime* is what a reader chooses between methods for: one generator and task
parameters, on one device, in one dtype. Its problems differ in their generator
parameters (a size, a condition number). For each regime and each accuracy level (any
``ok`` cell, then each level of the primary metric's distance from exact that some
problem reaches), the winner of a problem is its fastest *usable* cell (``ok``, timed,
not contended: :func:`model.usable`) that reaches the level. Consecutive problems with
the same winner form a *stretch*; a sentence names each stretch's winner with its time,
its speedup over the reference and over the fastest baseline, and its accuracy, and
says where the winner changes. A level whose winners are those of the looser level
before it adds nothing and is left out. Every number is read from the records; nothing
is written by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..fmt import fmt_num, fmt_time
from ..results import baseline_time, group_by, median_time, method_label, reference_time, speedup
from .model import TaskView, accuracy_of, level_label, usable

Record = dict[str, Any]


@dataclass
class Stretch:
    """Problems of a regime, consecutive in its order, won by one method."""

    winner: str  # the method label, as in the tables
    kind: str  # reference, optimized or baseline
    problems: list[str]  # problem keys
    where: str  # the problems in words: "n = 256 to 1024", "kappa=100, n=256"
    times: list[float]
    vs_reference: list[float | None]
    vs_baseline: list[float | None]
    accuracy: list[float | None]  # the primary metric's distance from exact


@dataclass
class Level:
    label: str  # "any" or "≤ 1e-04"
    stretches: list[Stretch]
    missing: list[str] = field(default_factory=list)  # problems with no cell at this level
    through: str = ""  # the strictest level with the same winners (merged into this one)


@dataclass
class Regime:
    title: str  # generator, task parameters, dtype, device
    generator: str
    task_params: dict[str, Any]
    dtype: str
    device: str
    problems: list[str]  # keys, in the regime's order
    levels: list[Level]

    def sentences(self, accuracy_axis: str) -> list[str]:
        return [sentence(lv, len(self.problems), accuracy_axis) for lv in self.levels]


def _order(records: list[Record]) -> tuple[list[str], list[str], dict[str, dict[str, Any]]]:
    """The regime's problems ordered by their varying generator parameters (numbers as
    numbers), those parameters' names, and each problem's parameters."""
    params = {r["problem"]["key"]: r["problem"]["params"] for r in records}
    names = sorted({k for p in params.values() for k in p})
    varying = [k for k in names if len({repr(p.get(k)) for p in params.values()}) > 1]

    def key(pkey: str) -> tuple:
        return tuple((0, v, "") if isinstance(v := params[pkey].get(k), (int, float)) and not isinstance(v, bool)
                     else (1, 0, repr(v)) for k in varying)

    return sorted(params, key=key), varying, params


def _value(v: Any) -> str:
    return fmt_num(v) if isinstance(v, float) else str(v)


def _where(keys: list[str], order: list[str], varying: list[str], params: dict[str, dict[str, Any]]) -> str:
    """The problems of a stretch in words: a range when one parameter varies, "every
    problem but ..." when it holds most of them, else the list."""
    total = len(order)
    if len(keys) == total:
        return "every problem" if total > 1 else "the problem"

    def one(p: str) -> str:
        return ", ".join(f"{k}={_value(params[p].get(k))}" for k in varying)

    if len(varying) == 1:
        name = varying[0]
        lo, hi = _value(params[keys[0]].get(name)), _value(params[keys[-1]].get(name))
        return f"{name} = {lo}" if len(keys) == 1 else f"{name} = {lo} to {hi}"
    if len(keys) > 2 and 2 * len(keys) > total:
        return "every problem but " + "; ".join(f"({one(p)})" for p in order if p not in keys)
    return "; ".join(f"({one(p)})" if len(keys) > 1 else one(p) for p in keys)


def _winner(records: list[Record], primary: str | None, scale: str, level: float | None) -> Record | None:
    ok = [r for r in records if usable(r)
          and (level is None or (a := accuracy_of(r, primary, scale)) is not None and a <= level)]
    return min(ok, key=median_time) if ok else None


def regimes(task: TaskView, records: list[Record]) -> list[Regime]:
    """Every regime of the task's latest records, with its levels' stretches."""
    primary = task.primary
    scale = task.scales.get(primary or "", "error")
    by_problem = group_by(records, lambda r: r["problem"]["key"])
    out = []
    for (gen, tparams, dtype, device), rs in group_by(
            records, lambda r: (r["problem"]["generator"], repr(sorted(r["problem"]["task_params"].items())),
                                r["dtype"], r["device"])).items():
        if not any(usable(r) for r in rs):
            continue
        order, varying, params = _order(rs)
        cells = group_by(rs, lambda r: r["problem"]["key"])
        levels: list[Level] = []
        previous: list[Any] | None = None
        for level in [None, *task.levels]:
            winners = {p: _winner(cells[p], primary, scale, level) for p in order}
            if not any(winners.values()):
                continue
            signature = [w["key"] if w else None for w in winners.values()]
            if signature == previous:
                levels[-1].through = level_label(level)
                continue
            previous = signature
            stretches: list[Stretch] = []
            for p in order:
                w = winners[p]
                if w is None:
                    continue
                label = method_label(w) + ("" if w["method"]["backend"] == "torch" else f" ({w['method']['backend']})")
                group = by_problem[p]
                t = median_time(w)
                facts = (t, speedup(reference_time(w, group), t), speedup(baseline_time(w, group), t),
                         accuracy_of(w, primary, scale))
                if stretches and stretches[-1].winner == label and order.index(stretches[-1].problems[-1]) == order.index(p) - 1:
                    s = stretches[-1]
                    s.problems.append(p)
                else:
                    s = Stretch(label, w["method"]["kind"], [p], "", [], [], [], [])
                    stretches.append(s)
                s.times.append(facts[0])
                s.vs_reference.append(facts[1])
                s.vs_baseline.append(facts[2])
                s.accuracy.append(facts[3])
            for s in stretches:
                s.where = _where(s.problems, order, varying, params)
            levels.append(Level(level_label(level), stretches, [p for p in order if winners[p] is None]))
        tp = ", ".join(f"{k}={v}" for k, v in sorted(rs[0]["problem"]["task_params"].items()))
        title = f"{gen}" + (f" ({tp})" if tp else "") + f", {dtype} on {device}"
        out.append(Regime(title, gen, dict(rs[0]["problem"]["task_params"]), dtype, device, order, levels))
    return out


def _span(values: list[float | None], fmt: Any, suffix: str = "") -> str | None:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    return f"{fmt(lo)}{suffix}" if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}{suffix}"


def describe(s: Stretch, accuracy_axis: str) -> str:
    """One stretch in words: the winner, where, its time, speedups and accuracy."""
    facts = [_span(s.times, fmt_time)]
    if s.kind == "reference":
        facts.append("the reference itself")
    else:
        ref = _span(s.vs_reference, fmt_num, "x")
        facts.append(f"speed {ref} the reference's" if ref else "no reference time")
    if s.kind != "baseline":
        base = _span(s.vs_baseline, fmt_num, "x")
        if base:
            facts.append(f"{base} the best baseline's")
    acc = _span(s.accuracy, fmt_num)
    if acc:
        facts.append(f"{accuracy_axis} {acc}")
    return f"{s.winner} on {s.where} ({'; '.join(f for f in facts if f)})"


def sentence(level: Level, total: int, accuracy_axis: str) -> str:
    head = "Fastest ok cell" if level.label == "any" else f"Fastest with {accuracy_axis} {level.label}"
    if level.through:
        head += f" (the same down to {accuracy_axis} {level.through})"
    parts = [describe(s, accuracy_axis) for s in level.stretches]
    text = f"{head}: " + "; then ".join(parts) + "."
    if level.missing:
        text += f" No cell reaches it on {len(level.missing)} of {total} problems."
    return text


def summarize(task: TaskView) -> list[Regime]:
    records = [row.record for pv in task.problems for row in pv.rows]
    return regimes(task, records)
