"""The float64 reference: a dense solve for small ``d``, else the Woodbury identity.

- ``d <= DENSE_MAX_D`` (2048): form ``F = lambda I + G^T G / m`` (``d x d``, at most 32 MiB)
  and solve ``F X = V`` by LAPACK's Cholesky (``d^3 / 3 + m d^2`` flops). It uses no
  structure of ``F`` at all, so it checks the structured methods independently.
- larger ``d``: the Woodbury identity (Woodbury 1950; Golub and Van Loan, *Matrix
  Computations*, 4th ed., 2013, section 2.1.4) with ``S = lambda m I + G G^T`` (``m x m``)::

      F^-1 V = (V - G^T S^-1 (G V)) / lambda

  Cholesky of ``S`` in float64 (``2 m^2 d`` flops for ``G G^T``, ``m^3 / 3`` for the factor,
  ``4 m d k`` for the products). Its error is about ``u kappa(F)``, ``kappa(F) = kappa(S) = 1 +
  ||G||_2^2 / (m lambda)``: ``1e-10`` at ``kappa = 1e6`` (the two forms are tested to agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as la

from matrixbench.registry import method

from .task import gradient_products

#: largest d solved densely (the d x d matrix is formed)
DENSE_MAX_D = 2048


def dense_solve(G: np.ndarray, V: np.ndarray, lam: float) -> np.ndarray:
    """``F^-1 V`` with ``F`` formed (``d x d``): for small ``d`` and for tests."""
    m, d = G.shape
    F = G.T @ G / m
    F[np.diag_indices(d)] += lam
    return la.cho_solve(la.cho_factor(F, lower=True, check_finite=False), V, check_finite=False)


def woodbury_solve(G: np.ndarray, V: np.ndarray, lam: float) -> np.ndarray:
    """``(V - G^T (lambda m I + G G^T)^-1 G V) / lambda``, float64 Cholesky of the ``m x m`` matrix."""
    m = G.shape[0]
    S = G @ G.T
    S[np.diag_indices(m)] += lam * m
    Z = la.cho_solve(la.cho_factor(S, lower=True, check_finite=False), gradient_products(G, V),
                     check_finite=False)
    return (V - G.T @ Z) / lam


def reference_flops(inputs: dict[str, Any], **_: Any) -> float:
    m, d = inputs["G"].shape
    k = inputs["V"].shape[1]
    if d <= DENSE_MAX_D:
        return m * d * d + d**3 / 3.0 + 2.0 * d * d * k
    return 2.0 * m * m * d + m**3 / 3.0 + 4.0 * m * d * k + 2.0 * m * m * k


@method("ihvp", "reference", kind="reference", backends=("numpy",), dtypes=("float64",), flops=reference_flops)
def reference(G: np.ndarray, V: np.ndarray, damping: float, history: Any = None) -> np.ndarray:
    """``X* = F^-1 V`` in float64: dense for ``d <= 2048``, else Woodbury (module docstring)."""
    G = np.asarray(G, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    solve = dense_solve if G.shape[1] <= DENSE_MAX_D else woodbury_solve
    return solve(G, V, float(damping))
