"""Trials: a randomized method run with several seeds, its accuracy as a distribution.

For a randomized SVD, a sketch or a sampler the spread over seeds *is* the result: one
seed can be lucky. A method is **randomized** when it has a ``seed`` parameter (the
convention of every seeded method here); a benchmark's ``trials: N`` (or ``run
--trials N``) runs such a cell with the seeds ``s, s+1, ..., s+N-1`` (``s`` its own
``seed``). Deterministic methods run once, whatever ``trials`` says.

Per cell, the first seed is timed as usual (its samples are the cell's time); each
further seed is called once (its seconds are kept, never mixed into the samples) and
scored. The record's ``metrics`` are the **medians over seeds**, and ``trials`` keeps
every seed's metrics and seconds and, per metric, the 10th and 90th percentiles. A seed
whose output fails (NaN, a gate, an exception) makes the cell's status that failure,
with the seed in the reason: a method that is wrong one time in twenty is not ``ok``.

``compare`` judges an accuracy change of two cells with trials on the seed
distributions: the median must move past the threshold *and* a Mann-Whitney U test
must find the two samples different (``scipy.stats.mannwhitneyu``, p < 0.01).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

from .verdict import Verdict, failed

SEED_PARAM = "seed"
#: the significance level of the seed-distribution test in ``compare``
ALPHA = 0.01


def randomized(cell: Any) -> bool:
    """True when the cell's method takes a ``seed``."""
    return SEED_PARAM in cell.method_obj.params


def seeds(cell: Any) -> list[int]:
    """The seeds of the cell's trials (one, its own, for a deterministic method or ``trials: 1``)."""
    base = int(dict(cell.method_params).get(SEED_PARAM, 0))
    return [base + i for i in range(cell.trials if randomized(cell) else 1)]


def with_seed(cell: Any, seed: int) -> Any:
    """The cell with another seed (same key otherwise: it is a trial of the cell)."""
    params = dict(cell.method_params)
    params[SEED_PARAM] = seed
    return replace(cell, method_params=tuple(sorted(params.items())))


@dataclass
class Trials:
    """Every seed's metrics and seconds; the summary the record shows."""

    seeds: list[int]
    metrics: dict[str, list[float | None]] = field(default_factory=dict)
    seconds: list[float | None] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    def add(self, seed_metrics: dict[str, float | None], seconds: float | None) -> None:
        n = len(self.seconds)
        for name in set(self.metrics) | set(seed_metrics):
            self.metrics.setdefault(name, [None] * n).append(seed_metrics.get(name))
        self.seconds.append(seconds)

    def medians(self) -> dict[str, float | None]:
        """Each metric's median over the seeds (None when no seed gave a finite value)."""
        spread = self.spread()
        return {name: spread[name]["median"] if name in spread else None for name in self.metrics}

    def spread(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, values in self.metrics.items():
            ok = [v for v in values if v is not None and math.isfinite(v)]
            if ok:
                p10, p50, p90 = np.percentile(ok, [10, 50, 90])
                out[name] = {"p10": float(p10), "median": float(p50), "p90": float(p90)}
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"count": len(self.seeds), "seeds": self.seeds, "metrics": self.metrics, "seconds": self.seconds,
                "spread": self.spread(), "failed": self.failed}


Scorer = Callable[[Any], tuple[Verdict, dict[str, float | None], str | None]]


def run_trials(cell: Any, first: tuple[Verdict, dict[str, float | None]], first_seconds: float | None,
               call_with: Callable[[Any], Any], score: Scorer, timer: Any) -> tuple[Trials, Verdict]:
    """The further seeds of ``cell`` (the first one, already scored, is ``first``).

    ``call_with(cell)`` returns a call of the method with that cell's parameters on the
    prepared inputs; ``score(output)`` scores an output. Returns the trials and the
    cell's verdict: the first seed's, unless a further seed failed."""
    all_seeds = seeds(cell)
    out = Trials(all_seeds)
    verdict, metrics = first
    out.add(metrics, first_seconds)
    worst = verdict
    for seed in all_seeds[1:]:
        call = call_with(with_seed(cell, seed))
        try:
            holder: list[Any] = []
            seconds = timer.sample(lambda: holder.append(call()), 1)
            v, m, _ = score(holder[-1])
        except Exception as exc:  # noqa: BLE001 - one seed's failure is the cell's verdict
            from .execute import error_reason  # execute imports this module

            v, m, seconds = failed("raised", error_reason(exc)[0]), {}, None
        out.add(m, seconds)
        if v.status != "ok":
            out.failed.append({"seed": seed, "status": v.status, "reason": v.reason})
            if worst.status == "ok":
                worst = Verdict(v.status, f"seed {seed} of {len(all_seeds)}: {v.reason}")
    return out, worst


def seed_test(base: dict[str, Any], head: dict[str, Any], name: str) -> float | None:
    """p-value of the Mann-Whitney U test between the seeds' values of metric ``name`` in
    two records with trials (None when either has fewer than 5 finite values)."""
    from scipy.stats import mannwhitneyu

    def values(rec: dict[str, Any]) -> list[float]:
        vals = ((rec.get("trials") or {}).get("metrics") or {}).get(name) or []
        return [v for v in vals if v is not None and math.isfinite(v)]

    b, h = values(base), values(head)
    if len(b) < 5 or len(h) < 5:
        return None
    if len(set(b) | set(h)) == 1:
        return 1.0
    return float(mannwhitneyu(b, h, alternative="two-sided").pvalue)
