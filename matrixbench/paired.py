"""Paired statistics for A/B timing: the Hodges-Lehmann estimate of a time ratio and its
Wilcoxon signed-rank confidence interval, the interval over processes, and the three-way
verdict at a threshold.

Each ABBA round of :mod:`matrixbench.ab` gives one paired log-ratio
``d = log((B1 + B2) / (A1 + A2))``. Under the null hypothesis of no change the ``d`` are
symmetric about 0 (the order within a round is balanced), with heavy tails on a shared
machine (a round hit by a slow spell). The Wilcoxon signed-rank interval uses only the
ranks, so one wild round moves it by one order statistic, not by its size:

- the **estimate** is the Hodges-Lehmann estimator, the median of the ``n(n+1)/2`` Walsh
  averages ``(d_i + d_j) / 2``, ``i <= j``;
- the **interval** at confidence ``1 - alpha`` is ``[W_(k), W_(N+1-k)]`` over the sorted
  Walsh averages, where ``k - 1`` is the largest ``c`` with ``P(T <= c) <= alpha / 2``
  under the exact null distribution of the signed-rank statistic ``T`` (Hollander, Wolfe
  and Chicken, *Nonparametric Statistical Methods*, 3rd ed., section 3.3). With too few
  rounds no ``c`` exists and the interval is unbounded.

**Processes.** Rounds share the processes they ran in, and the same code in two processes
is not equally fast (where MKL's and the allocator's long-lived buffers landed made one
process up to 27% faster than another on the 2-core VM of issue 13, bimodally: a process
is fast or slow for its whole life). A process's effect is constant over its rounds, so
the round-to-round scatter never sees it: two processes per side gave intervals that
excluded 1 on identical code (1.042 [1.006, 1.077], 1.171 [1.057, 1.292]). So
:mod:`matrixbench.ab` runs ``k`` processes per side and the verdict's interval is taken
over **process medians**: each process's median log time over the clean rounds, then a
two-sample t interval on the ``k`` + ``k`` medians (pooled variance, ``2(k - 1)`` degrees
of freedom), whose variance holds both the process effects and the within-process noise
(:func:`process_interval`). The rounds' Wilcoxon interval is kept in the record.

The verdict at a threshold ``t`` is an equivalence test and a significance test at once:
``same`` when the whole interval lies within ``[1/(1+t), 1+t]`` (any change is smaller
than the threshold), else ``slower`` when the interval lies above 1 and the estimate is at
least ``(1+t)^0.7`` (70% of the threshold, in log terms), ``faster`` symmetrically, else
``inconclusive`` (the run could not tell at this threshold).

Why the 70%: a change can be real and still not the code's. On the 2-core VM of issue 13,
``ab`` of two commits that differ in two polar methods only found unrelated cells 2.8% to
4.1% apart (intervals excluding 1, A/A ratios of both sides within 1%): the head's other
code and data sit elsewhere in memory, which moves unrelated cells by a few percent
(Mytkowicz et al., "Producing wrong data without doing anything obviously wrong!",
ASPLOS 2009). Those shifts stay below 70% of a 5% threshold, while the committed 5%
slowdown was estimated at 4.1% to 6.3% in every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

#: the least share of the threshold (in log terms) a significant change must reach to be
#: called slower or faster (see the module docstring)
MIN_SHARE = 0.7


@lru_cache(maxsize=None)
def _null_cdf(n: int) -> tuple[float, ...]:
    """``P(T <= c)`` for ``c = 0 .. n(n+1)/2`` of the signed-rank statistic of ``n`` pairs."""
    top = n * (n + 1) // 2
    counts = [0] * (top + 1)
    counts[0] = 1
    for k in range(1, n + 1):
        for s in range(top, k - 1, -1):
            counts[s] += counts[s - k]
    total = float(2**n)
    out, acc = [], 0
    for c in counts:
        acc += c
        out.append(acc / total)
    return tuple(out)


def min_pairs(confidence: float) -> int:
    """The fewest pairs whose signed-rank interval at ``confidence`` is bounded: the most
    extreme outcome, probability ``2^-n``, must be rarer than ``alpha / 2``."""
    return max(1, math.ceil(math.log2(2 / (1 - confidence))))


@dataclass(frozen=True)
class RatioInterval:
    """A time ratio head/base: estimate and confidence interval (both as ratios)."""

    estimate: float
    low: float
    high: float
    n: int
    confidence: float

    @property
    def detectable(self) -> float:
        """The smallest relative change this interval could have told from none: its
        half-width in log space, as a fraction (0.02 means 2%)."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low <= 0:
            return math.inf
        return math.exp((math.log(self.high) - math.log(self.low)) / 2) - 1

    def verdict(self, threshold: float) -> str:
        """``same``, ``slower``, ``faster`` or ``inconclusive`` at ``threshold`` (see the module docstring)."""
        if self.low >= 1 / (1 + threshold) and self.high <= 1 + threshold:
            return "same"
        least = MIN_SHARE * math.log1p(threshold)
        if self.low > 1 and math.log(self.estimate) >= least:
            return "slower"
        if self.high < 1 and math.log(self.estimate) <= -least:
            return "faster"
        return "inconclusive"


def process_interval(base: Sequence[float], head: Sequence[float], confidence: float = 0.99) -> RatioInterval:
    """Ratio head/base from each process's median log time (``base``, ``head``: one value
    per process): the difference of the means and its pooled two-sample t interval with
    ``len(base) + len(head) - 2`` degrees of freedom (Welch's variant is not used: both
    sides run the same number of processes of the same kind)."""
    a = np.asarray([x for x in base if math.isfinite(x)], dtype=float)
    b = np.asarray([x for x in head if math.isfinite(x)], dtype=float)
    n = len(a) + len(b)
    if len(a) < 2 or len(b) < 2:
        return RatioInterval(math.nan, 0.0, math.inf, n, confidence)
    from scipy.special import stdtrit  # the t quantile, without scipy.stats' 0.9 s import

    diff = float(b.mean() - a.mean())
    df = n - 2
    pooled = (((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / df
    half = float(stdtrit(df, 1 - (1 - confidence) / 2)) * math.sqrt(pooled * (1 / len(a) + 1 / len(b)))
    return RatioInterval(math.exp(diff), math.exp(diff - half), math.exp(diff + half), n, confidence)


def ratio_interval(log_ratios: Sequence[float], confidence: float = 0.99) -> RatioInterval:
    """Hodges-Lehmann estimate and Wilcoxon signed-rank interval of paired log-ratios."""
    d = np.asarray([x for x in log_ratios if math.isfinite(x)], dtype=float)
    n = len(d)
    if n == 0:
        return RatioInterval(math.nan, 0.0, math.inf, 0, confidence)
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    estimate = float(np.exp(np.median(walsh)))
    cdf = _null_cdf(n) if n <= 200 else None
    alpha = 1 - confidence
    if cdf is not None:
        below = [c for c, p in enumerate(cdf) if p <= alpha / 2]
        if not below:
            return RatioInterval(estimate, 0.0, math.inf, n, confidence)
        k = below[-1] + 1
    else:  # normal approximation of T for many pairs
        from scipy.stats import norm

        big_n = n * (n + 1) / 2
        sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        k = max(1, int(math.floor(big_n / 2 - norm.ppf(1 - alpha / 2) * sd)))
    low, high = walsh[k - 1], walsh[len(walsh) - k]
    return RatioInterval(estimate, float(np.exp(low)), float(np.exp(high)), n, confidence)
