"""scikit-learn's estimators: ``LedoitWolf``, ``OAS`` and ``GraphicalLasso``.

- ``sklearn_ledoit_wolf`` / ``sklearn_oas``: ``sklearn.covariance.LedoitWolf`` and ``OAS``
  with their defaults (``assume_centered=False``); the estimate is their ``precision_``
  (``scipy.linalg.pinvh`` of the shrunk covariance).
- ``sklearn_glasso``: ``sklearn.covariance.GraphicalLasso(alpha, mode="cd", tol=tol,
  max_iter=max_iter)`` (Friedman et al.'s coordinate descent in Cython, the diagonal not
  penalized) with ``alpha = lam sqrt(log p / n)`` as our ``glasso_*``; its ``n_iter_`` is
  reported. scikit-learn warns (does not raise) when it hits ``max_iter``: that becomes
  the cell's failure.

Optional: ``pip install scikit-learn``. float64 only: scikit-learn computes these in float64
whatever the input's dtype.
"""

from __future__ import annotations

import warnings

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import penalty

SKLEARN = dict(kind="baseline", backends=("numpy",), dtypes=("float64",), requires=("sklearn",))


@method("precision", "sklearn_ledoit_wolf", **SKLEARN)
def sklearn_ledoit_wolf(X: np.ndarray) -> np.ndarray:
    """``sklearn.covariance.LedoitWolf().fit(X).precision_``."""
    from sklearn.covariance import LedoitWolf

    return LedoitWolf().fit(X).precision_


@method("precision", "sklearn_oas", **SKLEARN)
def sklearn_oas(X: np.ndarray) -> np.ndarray:
    """``sklearn.covariance.OAS().fit(X).precision_``."""
    from sklearn.covariance import OAS

    return OAS().fit(X).precision_


@method("precision", "sklearn_glasso", **SKLEARN, params={
    "lam": Param(float, 1.0, min=0.0, doc="alpha as a multiple of sqrt(log p / n)"),
    "tol": Param(float, 1e-4, min=0.0, doc="scikit-learn's dual-gap tolerance (its default)"),
    "max_iter": Param(int, 100, min=1, doc="scikit-learn's max_iter (its default)"),
})
def sklearn_glasso(X: np.ndarray, lam: float = 1.0, tol: float = 1e-4, max_iter: int = 100) -> WithInfo:
    """``sklearn.covariance.GraphicalLasso(alpha=lam sqrt(log p / n), mode="cd")``."""
    from sklearn.covariance import GraphicalLasso
    from sklearn.exceptions import ConvergenceWarning

    n, p = X.shape
    model = GraphicalLasso(alpha=penalty(lam, n, p), mode="cd", tol=tol, max_iter=max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X)
    failure = next((str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)), None)
    return WithInfo(np.asarray(model.precision_), {"iterations": int(model.n_iter_)}, failure=failure)
