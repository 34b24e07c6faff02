"""Closed-form estimators: the sample-covariance inverse, Ledoit-Wolf and OAS shrinkage.

- ``sample_inverse``: ``S^-1``, the maximum-likelihood estimate. It exists only when the
  centered samples span ``R^p``, i.e. ``n - 1 >= p`` (rank of ``S`` is at most ``n - 1``):
  the method does not apply below that (skipped with the reason). Even above, it is biased
  (``E S^-1 = n / (n - p - 2) Theta`` for Wishart ``S``) and noisy as ``p / n`` grows.
- ``ledoit_wolf``: Ledoit and Wolf, "A well-conditioned estimator for large-dimensional
  covariance matrices", J. Multivariate Anal. 88, 2004: ``Sigma_hat = (1 - d) S + d mu I``,
  ``mu = tr(S) / p``, the shrinkage ``d = min(b^2, c^2) / c^2`` with ``c^2 = ||S - mu I||^2``
  and ``b^2 = (1/n^2) sum_k ||x_k x_k^T - S||^2`` (the consistent estimators of their section 3;
  ``||A||^2 = tr(A A^T) / p``), which minimizes the expected Frobenius risk asymptotically.
  ``sum_k ||x_k x_k^T - S||_F^2 = sum_k ||x_k||^4 - n ||S||_F^2`` needs no ``p x p x n``
  tensor.
- ``oas``: Chen, Wiesel, Eldar and Hero, "Shrinkage algorithms for MMSE covariance
  estimation", IEEE Trans. Signal Process. 58(10), 2010, eq. (23), the oracle
  approximating shrinkage for Gaussian samples: ``d = min(((1 - 2/p) tr(S^2) + tr(S)^2) /
  ((n + 1 - 2/p)(tr(S^2) - tr(S)^2 / p)), 1)``. With ``exact: false`` (the default) the
  ``2/p`` terms are dropped, as scikit-learn does since 1.3 ("does not impact the value of
  the estimator for large p", its source comment), so that the two agree.

Cost: ``n p^2`` for ``S``, ``p^3`` for the Cholesky inverse of the estimate; the shrinkage
itself is ``O(n p + p^2)``. No iteration, no failure mode: shrinkage towards ``mu I`` is
positive definite for ``d > 0`` (and ``d = 0`` only when ``S`` is already ``mu I`` or the
data say no shrinkage is needed).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import TORCH, inverse_flops, sample_covariance, spd_inverse


def full_rank(inputs: dict[str, Any], **_: Any) -> str | None:
    n, p = inputs["X"].shape
    if n - 1 < p:
        return (f"n = {n} samples, p = {p}: the centered sample covariance has rank at most n - 1 = {n - 1} < p, "
                f"so it is singular and has no inverse")
    return None


@method("precision", "sample_inverse", kind="optimized", **TORCH, flops=inverse_flops, applies=full_rank)
def sample_inverse(X: torch.Tensor) -> torch.Tensor:
    """The inverse of the sample covariance (the unregularized MLE)."""
    return spd_inverse(sample_covariance(X))


def ledoit_wolf_covariance(X: torch.Tensor) -> torch.Tensor:
    """``(1 - d) S + d mu I`` with Ledoit and Wolf's shrinkage ``d`` (module docstring)."""
    n, p = X.shape
    Xc = X - X.mean(dim=0, keepdim=True)
    S = sample_covariance(X)
    mu = torch.trace(S) / p
    c2 = ((S * S).sum() - 2.0 * mu * torch.trace(S) + p * mu * mu) / p  # ||S - mu I||^2
    b2 = ((Xc * Xc).sum(dim=1).square().sum() / n - (S * S).sum()) / (n * p)  # (1/n^2) sum_k ||x_k x_k^T - S||^2
    d = torch.where(c2 > 0, torch.minimum(b2, c2) / torch.where(c2 > 0, c2, 1.0), torch.zeros_like(c2))
    eye = torch.eye(p, dtype=X.dtype, device=X.device)
    return (1.0 - d) * S + d * mu * eye


@method("precision", "ledoit_wolf", kind="optimized", **TORCH, flops=inverse_flops)
def ledoit_wolf(X: torch.Tensor) -> torch.Tensor:
    """Ledoit-Wolf shrinkage of ``S`` towards ``tr(S)/p I``, inverted."""
    return spd_inverse(ledoit_wolf_covariance(X))


def oas_covariance(X: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """``(1 - d) S + d mu I`` with the OAS shrinkage ``d`` (module docstring)."""
    n, p = X.shape
    S = sample_covariance(X)
    tr, tr2 = torch.trace(S), (S * S).sum()  # tr(S), tr(S^2)
    c = 2.0 / p if exact else 0.0
    num = (1.0 - c) * tr2 + tr * tr
    den = (n + 1.0 - c) * (tr2 - tr * tr / p)
    d = torch.where(den != 0, torch.clamp(num / torch.where(den != 0, den, 1.0), max=1.0), torch.ones_like(den))
    eye = torch.eye(p, dtype=X.dtype, device=X.device)
    return (1.0 - d) * S + d * (tr / p) * eye


@method("precision", "oas", kind="optimized", **TORCH, flops=inverse_flops,
        params={"exact": Param(bool, False, doc="keep the 2/p terms of Chen et al.'s eq. (23)")})
def oas(X: torch.Tensor, exact: bool = False) -> torch.Tensor:
    """Oracle approximating shrinkage (Chen et al. 2010) of ``S`` towards ``tr(S)/p I``, inverted."""
    return spd_inverse(oas_covariance(X, exact))
