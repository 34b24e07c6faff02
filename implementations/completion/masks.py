"""Observation patterns: which entries of an ``m x n`` matrix a completion method sees.

- ``uniform``: ``s`` entries drawn uniformly without replacement, the model of Candès and
  Recht ("Exact matrix completion via convex optimization", FoCM 2009): recovery of an
  incoherent rank-``r`` matrix needs ``s >= C r (m + n) log(m + n)`` samples, and no method
  can succeed below the ``r (m + n - r)`` degrees of freedom.
- ``power_law``: entry ``(i, j)`` observed independently with probability
  ``min(1, c a_i b_j)``, ``a_i = (1 + pi(i))^-alpha`` and ``b_j = (1 + sigma(j))^-alpha``
  for random permutations ``pi``, ``sigma``, and ``c`` found by bisection so that the
  expected count is ``s``: a few heavy rows and columns hold most samples, as the ratings
  of popular users and items do (Meka, Jain and Dhillon, "Matrix completion from power-law
  distributed samples", NeurIPS 2009). Rows and columns with few samples are where
  uniform-sampling guarantees stop holding.

Both cost ``O(m n)`` (the probability matrix, the mask) and are deterministic given the
generator.
"""

from __future__ import annotations

import numpy as np

PATTERNS: tuple[str, ...] = ("uniform", "power_law")


def sample_count(m: int, n: int, rank: int, rate: float, oversampling: float) -> int:
    """Entries to observe: ``oversampling`` times the degrees of freedom ``r (m + n - r)``
    when given (> 0), else ``rate m n``; at least 1 and at most ``m n``."""
    count = oversampling * rank * (m + n - rank) if oversampling > 0 else rate * m * n
    return int(min(m * n, max(1, round(count))))


def uniform_mask(m: int, n: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``count`` entries, uniformly without replacement."""
    mask = np.zeros(m * n, dtype=bool)
    mask[rng.choice(m * n, size=count, replace=False)] = True
    return mask.reshape(m, n)


def power_law_mask(m: int, n: int, count: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Independent entries with probability ``min(1, c a_i b_j)`` (module docstring)."""
    a = (1.0 + rng.permutation(m)) ** -alpha
    b = (1.0 + rng.permutation(n)) ** -alpha
    P = np.outer(a, b)
    lo, hi = 0.0, 1.0
    while np.minimum(1.0, hi * P).sum() < count:  # the expected count grows with c
        hi *= 2.0
    for _ in range(100):
        c = (lo + hi) / 2
        lo, hi = (c, hi) if np.minimum(1.0, c * P).sum() < count else (lo, c)
    return rng.random((m, n)) < np.minimum(1.0, hi * P)


def draw_mask(m: int, n: int, count: int, pattern: str, alpha: float, rng: np.random.Generator) -> np.ndarray:
    if pattern == "uniform":
        return uniform_mask(m, n, count, rng)
    if pattern == "power_law":
        return power_law_mask(m, n, count, alpha, rng)
    raise ValueError(f"unknown observation pattern {pattern!r}; known: {', '.join(PATTERNS)}")
