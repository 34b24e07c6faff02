"""Random features and Nyström features: ``K V ≈ Phi (Phi^T V)``.

Each method draws a feature map ``phi`` with ``E[phi(x)^T phi(y)] ≈ k(x, y)`` and
returns ``Phi (Phi^T V)`` (:func:`._common.blocked_product`: ``O(n D (d + c))`` flops
and ``BLOCK x D`` memory for ``D`` features, against ``n^2`` for the exact product).
The error of a random-feature estimate of one kernel entry falls like ``1/sqrt(D)``
(Rahimi and Recht 2007, Claim 1); the variance reductions below shrink its constant.

- ``rff``: random Fourier features (Rahimi and Recht, "Random features for large-scale
  kernel machines", NIPS 2007): ``m = D / 2`` frequencies i.i.d. from the kernel's
  spectral density, ``N(0, I / s^2)`` for the Gaussian kernel and independent Cauchy
  coordinates of scale ``1 / s`` for the l1 Laplace kernel (a product of one-dimensional
  ``exp(-|t| / s)``, whose Fourier transform is the Cauchy density), features
  ``[cos(W x), sin(W x)] / sqrt(m)``;
- ``orf``: orthogonal random features (Yu, Suresh, Choromanski, Holtmann-Rice and Kumar,
  "Orthogonal random features", NIPS 2016), Gaussian kernel: frequencies in blocks of
  ``d``, each block ``diag(r) Q / s`` with ``Q`` a Haar orthogonal matrix and ``r`` the
  norms of ``d`` independent ``N(0, I_d)`` vectors (chi with ``d`` degrees of freedom): the
  same marginals, negatively correlated, lower variance;
- ``simplex_rf``: simplex random features (Reid, Choromanski, Likhosherstov and Weller,
  "Simplex random features", ICML 2023), Gaussian kernel: each block's ``d`` directions
  are the vertices of a regular simplex (unit vectors with pairwise inner products
  ``-1 / (d - 1)``), randomly rotated, with chi norms: the most negatively correlated
  directions, which the paper shows minimize the kernel estimator's mean squared error
  among such couplings;
- ``nystrom_features``: ``m = D`` landmarks ``L`` drawn uniformly, ``phi(x) = W^{+1/2}
  k(L, x)`` with ``W = k(L, L)`` (Williams and Seeger, NIPS 2001): data-dependent, exact
  on the landmarks; the truncated pseudo-inverse drops eigenvalues of ``W`` below
  ``m eps lambda_max``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from matrixbench.entries import kernel_block
from matrixbench.registry import WithInfo, method

from ._common import FEATURES, SEED, TORCH, blocked_product, feature_flops, fourier_map, gaussian_only, generator


def frequencies(m: int) -> int:
    return max(1, m // 2)


@method("kernel_matvec", "rff", kind="optimized", **TORCH, flops=feature_flops,
        params={"features": FEATURES, "seed": SEED})
def rff(X: torch.Tensor, V: torch.Tensor, kernel: str = "gaussian", bandwidth: float = 1.0, rows: int = 0,
        features: int = 256, seed: int = 0) -> WithInfo:
    """Random Fourier features (Rahimi and Recht 2007)."""
    m, d = frequencies(features), X.shape[1]
    g = generator(seed)
    if kernel == "gaussian":
        W = torch.randn(m, d, generator=g, dtype=torch.float64)
    else:  # standard Cauchy by the inverse CDF
        W = torch.tan(math.pi * (torch.rand(m, d, generator=g, dtype=torch.float64) - 0.5))
    W = (W / bandwidth).to(dtype=X.dtype, device=X.device)
    return WithInfo(blocked_product(fourier_map(W), X, V), {"features": 2 * m})


def chi_norms(count: int, d: int, g: torch.Generator) -> torch.Tensor:
    """Norms of ``count`` independent ``N(0, I_d)`` vectors."""
    return torch.randn(count, d, generator=g, dtype=torch.float64).norm(dim=1)


def haar(d: int, g: torch.Generator) -> torch.Tensor:
    """A Haar-distributed orthogonal ``d x d`` matrix (QR of a Gaussian, signs fixed)."""
    Q, R = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    return Q * torch.sign(torch.diagonal(R))


def structured(m: int, d: int, directions: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """``m`` frequencies in blocks of ``d``: each block the rows of ``directions`` (``d x d``,
    unit rows) rotated by a fresh Haar matrix, scaled by chi norms."""
    blocks = [chi_norms(d, d, g)[:, None] * (directions @ haar(d, g).T) for _ in range(math.ceil(m / d))]
    return torch.cat(blocks)[:m]


@method("kernel_matvec", "orf", kind="optimized", **TORCH, flops=feature_flops, applies=gaussian_only,
        params={"features": FEATURES, "seed": SEED})
def orf(X: torch.Tensor, V: torch.Tensor, kernel: str = "gaussian", bandwidth: float = 1.0, rows: int = 0,
        features: int = 256, seed: int = 0) -> WithInfo:
    """Orthogonal random features (Yu et al. 2016)."""
    m, d = frequencies(features), X.shape[1]
    W = structured(m, d, torch.eye(d, dtype=torch.float64), generator(seed)) / bandwidth
    return WithInfo(blocked_product(fourier_map(W.to(dtype=X.dtype, device=X.device)), X, V), {"features": 2 * m})


def simplex_directions(d: int) -> torch.Tensor:
    """``d`` unit vectors in ``R^d`` with pairwise inner products ``-1 / (d - 1)``: the
    centred basis vectors ``e_i - 1/d``, rescaled (they span the hyperplane ``sum = 0``)."""
    if d == 1:
        return torch.ones(1, 1, dtype=torch.float64)
    E = torch.eye(d, dtype=torch.float64) - 1.0 / d
    return E * math.sqrt(d / (d - 1))


@method("kernel_matvec", "simplex_rf", kind="optimized", **TORCH, flops=feature_flops, applies=gaussian_only,
        params={"features": FEATURES, "seed": SEED})
def simplex_rf(X: torch.Tensor, V: torch.Tensor, kernel: str = "gaussian", bandwidth: float = 1.0, rows: int = 0,
               features: int = 256, seed: int = 0) -> WithInfo:
    """Simplex random features (Reid et al. 2023)."""
    m, d = frequencies(features), X.shape[1]
    W = structured(m, d, simplex_directions(d), generator(seed)) / bandwidth
    return WithInfo(blocked_product(fourier_map(W.to(dtype=X.dtype, device=X.device)), X, V), {"features": 2 * m})


@method("kernel_matvec", "nystrom_features", kind="optimized", **TORCH, flops=feature_flops,
        params={"features": FEATURES, "seed": SEED})
def nystrom_features(X: torch.Tensor, V: torch.Tensor, kernel: str = "gaussian", bandwidth: float = 1.0,
                     rows: int = 0, features: int = 256, seed: int = 0) -> WithInfo:
    """Nyström features from ``features`` uniform landmarks (Williams and Seeger 2001)."""
    n = X.shape[0]
    m = min(features, n)
    L = X[torch.randperm(n, generator=generator(seed))[:m].to(X.device)]
    W = kernel_block(L, L, kernel, bandwidth)
    w, Q = torch.linalg.eigh((W + W.T) / 2)
    keep = w > m * torch.finfo(W.dtype).eps * w[-1].clamp_min(0)
    root = Q[:, keep] / w[keep].sqrt()  # W^{+1/2} = Q_+ diag(w_+^{-1/2}) (its columns)

    def phi(Xb: torch.Tensor) -> torch.Tensor:
        return kernel_block(Xb, L, kernel, bandwidth) @ root

    return WithInfo(blocked_product(phi, X, V), {"features": m})
