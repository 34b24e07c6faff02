"""Conjugate gradients, plain and with the Jacobi preconditioner.

- ``cg``: PCG with ``M = I`` (:func:`implementations.spd_solve._common.pcg`): products
  only, one per iteration, ``2 nnz + 10 n`` flops each.
- ``pcg_jacobi``: ``M = diag(A)`` (Saad, *Iterative Methods for Sparse Linear Systems*,
  2003, section 10.2): reads the diagonal of ``A.matrix`` once (``n`` entries, no product)
  and costs ``n`` flops per iteration more. It equilibrates rows of very different
  scales (``kappa(D^-1/2 A D^-1/2)`` is within a factor ``n`` of the best diagonal scaling,
  van der Sluis 1969) and does nothing for a matrix with a constant diagonal (the
  Laplacian, a kernel matrix).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from matrixbench.registry import WithInfo, method

from ._common import TORCH, diagonal, pcg


@method("spd_solve", "cg", kind="optimized", **TORCH, trace=True)
def cg(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0,
       callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """Conjugate gradients from 0, one product per iteration."""
    return pcg(A, b, budget, tol, callback=callback)


@method("spd_solve", "pcg_jacobi", kind="optimized", **TORCH, trace=True)
def pcg_jacobi(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0,
               callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """CG preconditioned by ``diag(A)^-1``."""
    inverse = 1.0 / diagonal(A.matrix)
    return pcg(A, b, budget, tol, precondition=lambda r: inverse * r, callback=callback)
