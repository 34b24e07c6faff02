"""Shared pieces: the sample covariance, the regularization scale, stopping tolerances.

All estimators center the samples at their mean and use the maximum-likelihood sample
covariance ``S = (1/n) sum_k (x_k - xbar)(x_k - xbar)^T`` (scikit-learn's
``empirical_covariance``, ``assume_centered=False``). The regularized methods take ``lam``,
a multiple of ``sqrt(log p / n)``: the rate at which ``max_ij |S_ij - Sigma_ij|`` falls
for sub-Gaussian samples, hence the scale of the l1 weight in the theory of the graphical
lasso (Ravikumar, Wainwright, Raskutti and Yu, EJS 2011), the order that error bounds of
l1-penalized Gaussian likelihoods take ``lambda`` at, so one ``lam`` means the same amount
of regularization at every ``n`` and ``p`` (the constant is ours to choose: the suites
sweep it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

#: the relative KKT residual iterative solvers stop at, per dtype (``tol: 0``)
DEFAULT_TOL = {"float64": 1e-7, "float32": 1e-3}

TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))


def tolerance(tol: float, dtype: Any) -> float:
    """``tol``, or the default of ``dtype`` (a torch or NumPy dtype) when ``tol`` is 0."""
    if tol > 0:
        return float(tol)
    return DEFAULT_TOL["float32" if "32" in str(dtype) else "float64"]


def penalty(lam: float, n: int, p: int) -> float:
    """The l1 weight ``alpha = lam sqrt(log p / n)`` (``log 2`` at ``p = 1``: never 0 for ``lam > 0``)."""
    return float(lam) * math.sqrt(math.log(max(p, 2)) / n)


def sample_covariance(X: torch.Tensor) -> torch.Tensor:
    """``S = X_c^T X_c / n`` with ``X_c`` the centered samples (symmetric exactly)."""
    Xc = X - X.mean(dim=0, keepdim=True)
    S = Xc.T @ Xc / X.shape[0]
    return (S + S.T) / 2


def sample_covariance_np(X: np.ndarray) -> np.ndarray:
    """:func:`sample_covariance` in NumPy."""
    Xc = X - X.mean(axis=0, keepdims=True)
    S = Xc.T @ Xc / X.shape[0]
    return (S + S.T) / 2


def covariance_flops(inputs: dict[str, Any], **_: Any) -> float:
    """``n p^2`` for ``X_c^T X_c`` (the symmetric product, half of ``2 n p^2``)."""
    n, p = inputs["X"].shape
    return float(n * p * p)


def inverse_flops(inputs: dict[str, Any], **_: Any) -> float:
    """The covariance, then a Cholesky inverse (``p^3 / 3 + 2 p^3 / 3``)."""
    p = inputs["X"].shape[1]
    return covariance_flops(inputs) + float(p**3)


def spd_inverse(C: torch.Tensor) -> torch.Tensor:
    """``C^-1`` by Cholesky, symmetrized; raises a clear error where ``C`` is not definite."""
    L, info = torch.linalg.cholesky_ex(C)
    if int(info) != 0:
        raise np.linalg.LinAlgError(f"the covariance estimate is not positive definite (Cholesky failed at "
                                    f"column {int(info)}): it has no inverse")
    P = torch.cholesky_inverse(L)
    return (P + P.T) / 2
