"""Nystrom++: a Nystrom approximation taken exactly, Girard-Hutchinson on the rest.

D. Persson, A. Cortinovis and D. Kressner, "Improved variants of the Hutch++ algorithm for
trace estimation", SIAM J. Matrix Anal. Appl. 43(3), 2022 (Algorithm 3); the stabilized
Nystrom step is the one of Tropp, Yurtsever, Udell and Cevher (SIAM J. Matrix Anal. Appl.
38(4), 2017), as in ``nystrompp.m`` of XTrace's repository. With ``k = floor(m/2)``
sketch columns and ``g = m - k`` probes::

    Y = A Omega,  Z = A Psi                                  (k + g products, one pass)
    nu = sqrt(n) eps ||Y||_2,  Y_nu = Y + nu Omega           shift for stability
    C = chol(Omega^T Y_nu),  B = Y_nu C^-1,  B = U S V^T     Nystrom: A_hat = U L U^T
    L = max(S^2 - nu, 0)
    t = tr(L) + (1/g) (tr(Psi^T Z) - tr(Psi^T U L U^T Psi))

Both blocks are multiplied in one pass (unlike Hutch++, which needs ``A Q`` after ``Q``),
and for positive semidefinite ``A`` the Nystrom part is at least as good as Hutch++'s
projection at half the products. Cost: ``m`` products, an SVD of ``n x k`` (``O(n k^2)``).
If the Cholesky of ``Omega^T Y_nu`` fails (float32), ``nu`` is raised tenfold, up to
six times, before the method gives up with an error.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import PROBES, SEED, TORCH, draw, trace_only
from .task import budget_flops


def stable_nystrom(Y: torch.Tensor, Om: torch.Tensor, nu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(B, C, nu)`` with ``C^T C = Om^T (Y + nu Om)`` and ``B = (Y + nu Om) C^-1``."""
    for _ in range(7):
        Y_nu = Y + nu * Om
        H = Om.mT @ Y_nu
        L, info = torch.linalg.cholesky_ex(0.5 * (H + H.mT))
        if int(info) == 0:
            C = L.mT
            return torch.linalg.solve_triangular(C, Y_nu, upper=True, left=False), C, nu
        nu = nu * 10
    raise torch.linalg.LinAlgError("Omega^T (A Omega + nu Omega) is not positive definite even with a shift "
                                   f"nu = {float(nu):.3g}: is A positive semidefinite?")


@method("trace_logdet", "nystrompp", kind="optimized", **TORCH, flops=budget_flops, applies=trace_only,
        params={"probes": Param(str, "rademacher", choices=PROBES, doc="distribution of Omega and Psi"),
                "seed": SEED})
def nystrompp(A: Any, quantity: str = "trace", budget: int = 100, probes: str = "rademacher",
              seed: int = 0) -> torch.Tensor:
    """Nystrom++ with ``budget`` products (see the module docstring)."""
    k = budget // 2
    g = budget - k
    OP = draw(A, budget, probes, seed)
    YZ = A @ OP  # both blocks in one pass
    Om, Psi, Y, Z = OP[:, :k], OP[:, k:], YZ[:, :k], YZ[:, k:]
    t = (Psi * Z).sum() / g
    if k:
        n = A.n
        nu = n**0.5 * torch.finfo(A.dtype).eps * torch.linalg.matrix_norm(Y, ord=2)
        B, _, nu = stable_nystrom(Y, Om, nu)
        U, S, _ = torch.linalg.svd(B, full_matrices=False)
        lam = torch.clamp(S * S - nu, min=0)
        UtPsi = U.mT @ Psi
        t = t + lam.sum() - (lam[:, None] * UtPsi * UtPsi).sum() / g
    return t
