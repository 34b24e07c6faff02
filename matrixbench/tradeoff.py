"""The joint speed-and-accuracy verdict of one cell, head against base.

A change is judged on both axes at once, because a method made 30% faster by being 100x
less accurate is not an improvement, and one made 2x more accurate at a 10% cost is not a
plain regression. Each axis first gets its own finding:

- **time**: ``slower`` or ``faster`` (the test of :func:`matrixbench.compare.time_change`,
  or the paired interval of :mod:`matrixbench.ab`), ``same``, ``unreliable`` (timed
  under contention on either side: see :mod:`matrixbench.contention`), ``inconclusive``
  (``ab``: too noisy to tell at the threshold) or ``n/a`` (not timed on both sides);
- **accuracy**: ``worse`` when any metric got worse past the accuracy threshold,
  ``better`` when at least one got better and none worse, else ``same``.

Then the cell's verdict (:data:`VERDICTS`), the first rule that applies:

1. **regressed**: its status dropped (``ok`` -> ``inaccurate``, ``ok`` -> ``error``...)
   or it is missing from the head; or it is *dominated* by the base: slower and not more
   accurate, or less accurate and not faster (a time that could not be judged does not
   excuse a loss of accuracy);
2. **traded**: faster and less accurate, or slower and more accurate;
3. **improved**: its status rose; or faster and not less accurate; or more accurate and
   not slower;
4. **unreliable** / **inconclusive**: nothing else changed and the time could not be
   judged (contention; noise);
5. **unchanged**.

Which verdicts fail a comparison is the caller's choice (``--fail-on``; default
``regressed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .fmt import fmt_num

VERDICTS = ("regressed", "traded", "improved", "unreliable", "inconclusive", "unchanged")
TIME_STATES = ("slower", "faster", "same", "unreliable", "inconclusive", "n/a")
DEFAULT_FAIL_ON = ("regressed",)


@dataclass
class CellVerdict:
    """One cell's joint verdict with the figures it rests on."""

    key: str
    verdict: str
    time: str
    accuracy: str
    #: head/base of the compared time statistic (compare) or the paired ratio's estimate (ab)
    time_ratio: float | None = None
    #: head/base of the metric whose change decided the accuracy finding, and its name
    accuracy_ratio: float | None = None
    metric: str | None = None
    note: str = ""
    #: ``ab``: the confidence interval of the time ratio, and the smallest change (as a
    #: fraction, e.g. 0.02 for 2%) this run could have detected for the cell
    interval: tuple[float, float] | None = None
    detectable: float | None = None

    def summary(self) -> str:
        """``"regressed: KEY (time slower x1.302; accuracy same)"``: one line for logs."""
        ratio = "" if self.time_ratio is None else f" x{self.time_ratio:.3f}"
        return f"{self.verdict}: {self.key} (time {self.time}{ratio}; accuracy {self._accuracy()})"

    def _accuracy(self) -> str:
        """``"worse: residual x12.7"``, or the bare finding when no metric moved."""
        return self.accuracy if self.metric is None else f"{self.accuracy}: {self.metric} x{fmt_num(self.accuracy_ratio)}"

    def row(self) -> list[str]:
        """The cell as a table row under :data:`HEADER` (console, Markdown, HTML)."""
        ratio = "-" if self.time_ratio is None else f"{self.time_ratio:.3f}"
        if self.interval is not None:
            ratio += f" [{self.interval[0]:.3f}, {self.interval[1]:.3f}]"
        detectable = "-" if self.detectable is None else f"{100 * self.detectable:.1f}%"
        return [self.verdict, self.key, self.time, ratio, detectable, self._accuracy(), self.note]


#: Columns of :meth:`CellVerdict.row`.
HEADER = ["verdict", "cell", "time", "time ratio head/base", "detectable", "accuracy", "note"]


def parse_fail_on(text: str) -> tuple[str, ...]:
    """``"regressed,traded"`` -> its verdicts; ValueError names an unknown one."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in VERDICTS]
    if unknown or not names:
        raise ValueError(f"unknown verdict(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(VERDICTS)}")
    return names


def accuracy_finding(changes: Iterable[Any]) -> tuple[str, float | None, str | None]:
    """(``worse`` | ``better`` | ``same``, head/base ratio, metric) from a cell's accuracy
    :class:`~matrixbench.compare.Change` records (only changes past the threshold)."""
    acc = [c for c in changes if c.kind == "accuracy"]
    worse = [c for c in acc if c.regression]
    better = [c for c in acc if c.improvement]
    pick = worse or better
    if not pick:
        return "same", None, None
    # the metric that moved most, as a factor either way
    def factor(c: Any) -> float:
        r = c.ratio
        return max(r, 1 / r) if isinstance(r, float) and r > 0 else float("inf")
    top = max(pick, key=factor)
    return ("worse" if worse else "better"), top.ratio, top.what


def judge(key: str, time: str, changes: list[Any], *, time_ratio: float | None = None,
          status: str = "same", note: str = "") -> CellVerdict:
    """The cell's verdict (see the module docstring). ``status`` is ``dropped``, ``rose``,
    ``missing`` or ``same``; ``changes`` are the cell's accuracy changes."""
    if time not in TIME_STATES:
        raise ValueError(f"unknown time finding {time!r}")
    accuracy, acc_ratio, metric = accuracy_finding(changes)
    slower, faster = time == "slower", time == "faster"
    worse, better = accuracy == "worse", accuracy == "better"
    if status in ("dropped", "missing") or (slower and not better) or (worse and not faster):
        verdict = "regressed"
    elif (faster and worse) or (slower and better):
        verdict = "traded"
    elif status == "rose" or faster or better:
        verdict = "improved"
    elif time in ("unreliable", "inconclusive"):
        verdict = time
    else:
        verdict = "unchanged"
    return CellVerdict(key, verdict, time, accuracy, time_ratio, acc_ratio, metric, note)
