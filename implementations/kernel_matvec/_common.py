"""What the kernel product methods share: parameters, ``applies`` rules, the blocked
feature product."""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from matrixbench.params import Param

SEED = Param(int, 0, doc="random seed")
FEATURES = Param(int, 256, min=2, doc="feature dimension (2 per random frequency; Nyström: landmarks)")
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))
#: rows of the feature matrix formed at a time: memory ``BLOCK x features``, whatever ``n``
BLOCK = 16384


def gaussian_only(inputs: Mapping[str, Any], **_: Any) -> str | None:
    return None if inputs["kernel"] == "gaussian" else "its frequencies sample the Gaussian kernel's spectrum only"


def generator(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(int(seed))
    return g


def blocked_product(feature_map: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor,
                    V: torch.Tensor) -> torch.Tensor:
    """``Phi (Phi^T V)`` with ``Phi = feature_map(X)`` formed ``BLOCK`` rows at a time, twice
    (once for ``Phi^T V``, once for the product): ``2 n D`` feature evaluations and
    ``4 n D c`` flops, memory ``BLOCK D`` instead of ``n D``."""
    n = X.shape[0]
    B = None
    for i in range(0, n, BLOCK):
        part = feature_map(X[i:i + BLOCK]).T @ V[i:i + BLOCK]
        B = part if B is None else B + part
    return torch.cat([feature_map(X[i:i + BLOCK]) @ B for i in range(0, n, BLOCK)])


def fourier_map(W: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> [cos(W x), sin(W x)] / sqrt(m)`` for ``m`` frequencies ``W`` (``m x d``):
    ``E[phi(x)^T phi(y)] = E[cos(w^T (x - y))] = k(x - y)`` when the rows of ``W`` follow
    the kernel's spectral density (Bochner's theorem; Rahimi and Recht, NIPS 2007)."""
    scale = W.shape[0] ** -0.5

    def phi(X: torch.Tensor) -> torch.Tensor:
        Z = X @ W.T
        return torch.cat([torch.cos(Z), torch.sin(Z)], dim=1) * scale

    return phi


def feature_flops(inputs: Mapping[str, Any], features: int = 256, **_: Any) -> float:
    n, d = inputs["X"].shape
    c = inputs["V"].shape[1]
    return float(2 * (n * features * d + 2 * n * features * c))
