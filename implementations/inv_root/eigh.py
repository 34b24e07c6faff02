"""``eigh`` in the cell's dtype (torch): what Shampoo implementations do when they can
afford an eigendecomposition at every preconditioner update.

``A + eps I = Q diag(l) Q^T`` (``torch.linalg.eigh``), then ``Q diag(l^{-1/p}) Q^T``. In
low precision rounding can push the smallest eigenvalues of a nearly singular ``A`` to
zero or below: ``eigh`` is backward stable, so each computed eigenvalue is off by about
``u l_max`` (``u`` the unit roundoff, ``l_max`` the largest eigenvalue). ``l + eps`` is
clamped at ``u l_max``, the size of that rounding, so the root stays finite and an
eigenvalue lost to rounding weighs no more than the rounding allows. (A floor of
``n u l_max``, the worst-case bound, would flatten in float32 every eigenvalue below
``6e-5 l_max`` at n = 1024: much of the noise floor of a gradient statistic, whose
smaller eigenvalues float32 still resolves to a few percent.) Cost: about
``9 n^3 + 2 n^3`` flops.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.registry import method


def eigh_flops(inputs: Mapping[str, Any], **_: Any) -> float:
    batch, n, _n = inputs["A"].shape
    return batch * 11 * n**3


@method("inv_root", "eigh", kind="baseline", backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"),
        flops=eigh_flops)
def eigh(A: torch.Tensor, p: int = 2, eps: float = 1e-12, Q_prev: Any = None) -> torch.Tensor:
    """``torch.linalg.eigh`` of ``A``, ``(l + eps)^{-1/p}`` with ``l + eps`` clamped at ``u l_max``."""
    l, Q = torch.linalg.eigh(A)
    floor = torch.finfo(A.dtype).eps / 2 * l.amax(dim=-1, keepdim=True)  # u = eps / 2
    f = torch.maximum(l + eps, floor) ** (-1.0 / p)
    return (Q * f.unsqueeze(-2)) @ Q.mT
