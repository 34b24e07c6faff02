"""Probe vectors and the parameters the estimators share.

Probes are drawn with a ``torch.Generator`` on the operator's device, seeded by the
method's ``seed`` (one seed, one estimate: ``trials: N`` gives the error's distribution):

- ``rademacher``: independent signs, ``E[w w^T] = I`` with the least variance among
  i.i.d. probes for Girard-Hutchinson (``2 ||A||_F^2 - 2 sum a_ii^2`` per probe);
- ``gaussian``: standard normals (variance ``2 ||A||_F^2`` per probe);
- ``improved``: Gaussian columns normalized to length ``sqrt(n)``, the probes XTrace's
  "improved" estimator expects (its ``scale`` corrects for the normalization).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param

SEED = Param(int, 0, min=0, doc="seed of the probe vectors")
#: what every torch estimator of this folder declares (its FLOPs: the budget's products)
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))
PROBES = ("rademacher", "gaussian")
ONLY_TRACE = "estimates tr(A) from products with A: log det(A) = tr(log A) needs products with log(A) (use slq)"


def draw(A: Any, k: int, kind: str, seed: int) -> torch.Tensor:
    """``n x k`` probe block in ``A``'s dtype, on its device."""
    g = torch.Generator(device=A.device).manual_seed(int(seed))
    n = A.n
    if kind == "rademacher":
        return torch.randint(0, 2, (n, k), generator=g, device=A.device).to(A.dtype).mul_(2).sub_(1)
    Om = torch.randn(n, k, generator=g, device=A.device, dtype=A.dtype)
    if kind == "improved":
        Om = Om * (n**0.5 / torch.linalg.vector_norm(Om, dim=0))
    return Om


def trace_only(inputs: dict[str, Any], **_: Any) -> str | None:
    """``applies`` of the estimators of ``tr(A)``."""
    return ONLY_TRACE if inputs["quantity"] != "trace" else None


def diag_prod(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``diag(X^T Y)`` without the product: column-wise dot products."""
    return (X * Y).sum(dim=0)
