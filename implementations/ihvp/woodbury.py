"""The direct Woodbury solve, Cholesky of the ``m x m`` capacitance matrix in the cell's dtype.

Woodbury's identity (Woodbury 1950; Golub and Van Loan, *Matrix Computations*, 4th ed.,
2013, section 2.1.4) for ``F = lambda I + G^T G / m``::

    S = lambda m I + G G^T = C C^T                 (2 m^2 d GEMM + m^3 / 3 potrf)
    X = F^-1 V = (V - G^T C^-T C^-1 (G V)) / lambda   (4 m d k + 2 m^2 k)

the ``O(m^2 d)`` setup and ``O(m d + m^2)`` per product of M-FAC, with the ``m x m`` work
done by LAPACK (cuSOLVER on CUDA) instead of M-FAC's ``m``-step recursion (:mod:`.mfac`).
Backward stable in ``S`` (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002,
Theorem 10.4): the error is about ``u kappa(S) = u kappa(F)``, ``kappa(F) = 1 + ||G||_2^2 /
(m lambda)``. The factorization fails (reported, the cell is ``inaccurate``) only when
``kappa(F)`` nears ``1 / u`` (``1.7e7`` in float32).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.registry import WithInfo, method

from ._common import TORCH, check_damping, woodbury_flops


def capacitance_factor(G: torch.Tensor, lam: float) -> tuple[torch.Tensor, int]:
    """The lower Cholesky factor of ``lambda m I + G G^T`` and LAPACK's info (0: success)."""
    m = G.shape[0]
    S = G @ G.T
    S.diagonal().add_(lam * m)
    C, info = torch.linalg.cholesky_ex(S)
    return C, int(info)


def woodbury_apply(G: torch.Tensor, C: torch.Tensor, lam: float, V: torch.Tensor) -> torch.Tensor:
    """``(V - G^T S^-1 (G V)) / lambda`` with ``S = C C^T``."""
    Z = torch.cholesky_solve(G @ V, C)
    return torch.addmm(V, G.T, Z, alpha=-1.0) / lam


@method("ihvp", "woodbury", kind="optimized", **TORCH, flops=woodbury_flops)
def woodbury(G: torch.Tensor, V: torch.Tensor, damping: float, history: Any = None) -> WithInfo:
    """Woodbury with Cholesky of ``lambda m I + G G^T`` in the cell's dtype."""
    lam = check_damping(damping)
    C, info = capacitance_factor(G, lam)
    if info:
        return WithInfo(V / lam, {}, failure=(f"Cholesky of lambda m I + G G^T failed in {G.dtype} at leading minor "
                                               f"{info}: kappa(F) is near 1/u of the dtype"))
    return WithInfo(woodbury_apply(G, C, lam, V), {})
