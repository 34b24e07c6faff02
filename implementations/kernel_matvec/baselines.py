"""Third-party baselines: scikit-learn's ``RBFSampler`` and KeOps.

- ``sklearn_rbf_sampler``: ``sklearn.kernel_approximation.RBFSampler`` (random Fourier
  features in the ``sqrt(2 / D) cos(W x + b)`` form, ``gamma = 1 / (2 s^2)``), Gaussian
  kernel only; ``Phi`` formed whole (``n x D``), then ``Phi (Phi^T V)``.
- ``keops``: the exact product by ``pykeops``' symbolic ``LazyTensor`` reduction (Charlier,
  Feydy, Glaunès, Collin and Durif, "Kernel operations on the GPU, with autodiff, without
  memory overflows", JMLR 2021): the kernel is evaluated and reduced in registers, never
  stored; compiled on first use (minutes). Optional: without pykeops it is skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import WithInfo, method

from ._common import FEATURES, SEED, gaussian_only
from .exact import exact_flops


@method("kernel_matvec", "sklearn_rbf_sampler", kind="baseline", backends=("numpy",), dtypes=("float32", "float64"),
        requires=("sklearn",), applies=gaussian_only, params={"features": FEATURES, "seed": SEED})
def sklearn_rbf_sampler(X: np.ndarray, V: np.ndarray, kernel: str = "gaussian", bandwidth: float = 1.0,
                        rows: int = 0, features: int = 256, seed: int = 0) -> WithInfo:
    """scikit-learn's random Fourier features."""
    from sklearn.kernel_approximation import RBFSampler

    Phi = RBFSampler(gamma=1.0 / (2.0 * bandwidth**2), n_components=features, random_state=seed).fit_transform(X)
    return WithInfo((Phi @ (Phi.T @ V)).astype(X.dtype, copy=False), {"features": features})


@method("kernel_matvec", "keops", kind="baseline", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), requires=("pykeops",), flops=exact_flops)
def keops(X: Any, V: Any, kernel: str = "gaussian", bandwidth: float = 1.0, rows: int = 0) -> WithInfo:
    """KeOps' exact kernel product."""
    from pykeops.torch import LazyTensor

    x_i, x_j = LazyTensor(X[:, None, :]), LazyTensor(X[None, :, :])
    if kernel == "gaussian":
        K = (-((x_i - x_j) ** 2).sum(-1) / (2.0 * bandwidth**2)).exp()
    else:
        K = (-(x_i - x_j).abs().sum(-1) / bandwidth).exp()
    return WithInfo(K @ V.contiguous(), {"features": 0})
