"""Relative errors that stay meaningful near zero.

A relative error ``||x - x*|| / ||x*||`` is 0/0 for the zero matrix and explodes when the
true answer is tiny (a least-squares solution ``x* = 0``, a rank-k matrix's zero tail).
Every task divides by a *floored* denominator instead::

    relative(err, ref, scale) = err / max(ref, FLOOR_EPS * scale)

where ``scale`` is the size of the problem's input in the same norm (``||A||``, ``||b||``)
and ``FLOOR_EPS`` is float64's unit roundoff: the smallest error any float64 computation
of the answer can be expected to have, relative to its input. When the denominator is
still 0 (the input itself is zero) the error is returned as an absolute one, so that the
exact answer scores 0 and any other answer scores its size, never NaN.
"""

from __future__ import annotations

import numpy as np

#: float64 unit roundoff, 2^-53.
FLOOR_EPS = 2.0**-53


def floored(ref: float | np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """The denominator ``max(ref, FLOOR_EPS * scale)`` (elementwise), 1 where both are 0."""
    den = np.maximum(np.asarray(ref, dtype=np.float64), FLOOR_EPS * np.asarray(scale, dtype=np.float64))
    return np.where(den > 0, den, 1.0)


def relative(err: float | np.ndarray, ref: float | np.ndarray, scale: float | np.ndarray) -> np.ndarray:
    """``err / max(ref, FLOOR_EPS * scale)``; ``err`` itself where both are 0 (elementwise)."""
    return np.asarray(err, dtype=np.float64) / floored(ref, scale)
