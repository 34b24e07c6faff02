"""Power-law fits of time against problem size: ``t = c n^b``, with a confidence interval on ``b``.

Least squares on ``log t = log c + b log n`` (``scipy.stats.linregress``); the interval is
``b +- t_{1-a/2, k-2} * stderr(b)`` with ``k`` points, so it needs at least 3 sizes. Fitting
only the largest sizes (``tail``) keeps overheads that dominate small problems out of the
exponent: a dense O(n^3) kernel shows 3 only once the n^3 term dominates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PowerFit:
    exponent: float
    low: float
    high: float
    prefactor: float
    points: int

    def label(self) -> str:
        return f"n^{self.exponent:.2f} [{self.low:.2f}, {self.high:.2f}]"


def fit_power_law(sizes: list[float], times: list[float], confidence: float = 0.95, tail: int | None = None) -> PowerFit | None:
    """Fit ``times ~ c * sizes^b`` on log-log axes; None with fewer than 3 distinct sizes.

    Several times per size (repeats) are all used. ``tail`` keeps only the largest ``tail``
    distinct sizes.
    """
    x = np.asarray(sizes, dtype=float)
    y = np.asarray(times, dtype=float)
    keep = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    distinct = np.unique(x)
    if tail is not None and len(distinct) > tail:
        mask = x >= distinct[-tail]
        x, y = x[mask], y[mask]
        distinct = np.unique(x)
    if len(distinct) < 3:
        return None
    fit = stats.linregress(np.log(x), np.log(y))
    dof = len(x) - 2
    half = stats.t.ppf(0.5 + confidence / 2, dof) * fit.stderr if dof > 0 else math.inf
    return PowerFit(float(fit.slope), float(fit.slope - half), float(fit.slope + half), float(np.exp(fit.intercept)), len(x))
