"""What the ``ihvp`` methods share: the declaration of the torch methods, the damping check,
the product with the implicit ``F``, and the FLOP models.

No method forms ``F`` (``d x d``): every product with it is ``F X = lambda X + G^T (G X) / m``
(``4 m d k`` flops for ``k`` columns), and the direct methods work on ``m x m`` matrices.
"""

from __future__ import annotations

import math
from typing import Any

import torch

#: backends, devices and dtypes of the torch methods
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))


def check_damping(damping: float) -> float:
    """``lambda`` as a float; a zero, negative or NaN damping is refused (``F`` singular)."""
    lam = float(damping)
    if not (lam > 0 and math.isfinite(lam)):
        raise ValueError(f"damping lambda = {lam:g} must be positive and finite")
    return lam


def apply_fisher(G: torch.Tensor, lam: float, X: torch.Tensor) -> torch.Tensor:
    """``F X = lambda X + G^T (G X) / m`` (``4 m d k`` flops)."""
    return torch.addmm(X, G.T, G @ X, beta=lam, alpha=1.0 / G.shape[0])


def sizes(inputs: dict[str, Any]) -> tuple[int, int, int]:
    """``(m, d, k)`` of a problem's float64 inputs."""
    m, d = inputs["G"].shape
    return m, d, inputs["V"].shape[1]


def woodbury_flops(inputs: dict[str, Any], **_: Any) -> float:
    """``G G^T`` as a GEMM (``2 m^2 d``), the ``m x m`` Cholesky (``m^3 / 3``), then per
    column ``G v`` and ``G^T z`` (``4 m d``) and two triangular solves (``2 m^2``)."""
    m, d, k = sizes(inputs)
    return 2.0 * m * m * d + m**3 / 3.0 + k * (4.0 * m * d + 2.0 * m * m)
