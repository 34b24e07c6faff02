"""Reference: the true precision where the problem knows it, else the Ledoit-Wolf estimate.

On a synthetic problem the reference is the truth ``Theta`` itself (a hidden input only
the reference and the score see), so its ``rel_frobenius`` is 0 and its ``edge_f1`` 1, and
its held-out log-likelihood is the ceiling any estimate can reach in expectation. On real
data the truth is unknown: the reference is then the Ledoit-Wolf shrinkage estimate, in
float64 (a well-defined estimate that exists at every ``n``, scored like any other
method; nothing is scored against it).
"""

from __future__ import annotations

import numpy as np

from matrixbench.registry import method

from ._common import sample_covariance_np


def ledoit_wolf_np(X: np.ndarray) -> np.ndarray:
    """The Ledoit-Wolf shrunk covariance in NumPy (see :mod:`.shrinkage` for the formula)."""
    n, p = X.shape
    Xc = X - X.mean(axis=0)
    S = sample_covariance_np(X)
    mu = np.trace(S) / p
    d2 = (np.sum(S * S) - 2.0 * mu * np.trace(S) + p * mu * mu) / p
    b2 = min((np.sum(np.sum(Xc * Xc, axis=1) ** 2) / n - np.sum(S * S)) / (n * p), d2)
    shrink = b2 / d2 if d2 > 0 else 0.0
    return (1.0 - shrink) * S + shrink * mu * np.eye(p)


@method("precision", "reference", kind="reference", backends=("numpy",), dtypes=("float64",))
def reference(X: np.ndarray, heldout: np.ndarray, precision: np.ndarray | None = None) -> np.ndarray:
    """The true precision (a copy), or the inverse of the Ledoit-Wolf covariance on real data."""
    if precision is not None:
        return np.array(precision, dtype=np.float64)
    P = np.linalg.inv(ledoit_wolf_np(np.asarray(X, dtype=np.float64)))
    return (P + P.T) / 2
