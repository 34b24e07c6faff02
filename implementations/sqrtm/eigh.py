"""The square root by a batched symmetric eigendecomposition in torch (``torch.linalg.eigh``).

``A = Q diag(l) Q^T``, then ``A^{1/2} = Q diag(l^{1/2}) Q^T`` (or ``l^{-1/2}``): the float64
reference's algorithm, in torch, so that it runs batched on a GPU and is differentiable
(autograd through ``eigh``: the backward mode's baseline, as the batched SVD is in Song et
al., "Fast Differentiable Matrix Square Root", ICLR 2022). About ``9 n^3`` flops for the
eigendecomposition (Golub and Van Loan, table 8.3.1, with vectors) plus ``2 n^3`` for the
product; exact up to rounding, whatever the conditioning (a negative rounding of a tiny
eigenvalue is clamped to 0 for the root; the inverse root of a singular matrix is Inf).
"""

from __future__ import annotations

import torch

from matrixbench.registry import method

from .reference import reference_flops


@method("sqrtm", "eigh", kind="baseline", backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"),
        flops=reference_flops)
def eigh(A: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """``Q diag(l^{+-1/2}) Q^T`` from ``torch.linalg.eigh`` (batched, differentiable)."""
    lam, Q = torch.linalg.eigh(A)
    f = lam.rsqrt() if inverse else lam.clamp_min(0).sqrt()
    return (Q * f.unsqueeze(-2)) @ Q.mT
