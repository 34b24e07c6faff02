"""Successive over-relaxation and symmetric Gauss-Seidel, from the entries of ``A``.

Split ``A = L + D + L^T`` (``L`` strictly lower). **SOR** (Young 1950; Saad, *Iterative
Methods for Sparse Linear Systems*, 2003, section 4.1), written as a residual correction::

    x <- x + (D / omega + L)^-1 (b - A x)                    (one product, one triangular solve)

is the Gauss-Seidel sweep at ``omega = 1``. For symmetric positive definite ``A`` it
converges for every ``0 < omega < 2`` (Ostrowski-Reich), at a rate set by the spectral
radius of its iteration matrix: ``1 - O(1/kappa)`` for Gauss-Seidel on the model Laplacian,
``1 - O(1/sqrt(kappa))`` at Young's optimal ``omega = 2 / (1 + sin(pi h))``. Each sweep
reads the lower triangle (``nnz / 2`` entries, ``2 nnz`` flops with the product).

**Symmetric Gauss-Seidel / SSOR as a CG preconditioner** (``pcg_ssor``; Saad, section
10.2)::

    M = omega / (2 - omega) (D / omega + L) (D / omega)^-1 (D / omega + L^T)

symmetric positive definite for ``0 < omega < 2``; applying ``M^-1`` is a forward and a
backward triangular solve (``2 nnz`` flops). ``omega = 1`` is symmetric Gauss-Seidel. On
the model Laplacian it brings ``kappa`` from ``O(h^-2)`` to ``O(h^-1)`` at the optimal
``omega`` (Axelsson and Barker 1984).

Both read ``A.matrix`` (dense or sparse CSR) to form the triangles once; the stopping test
uses the residual each sweep needs anyway.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, diagonal, not_converged, pcg
from .task import stop_tolerance

OMEGA = Param(float, 1.0, min=0.0, max=2.0, doc="relaxation factor (1: Gauss-Seidel)")


def triangle(M: torch.Tensor, omega: float, lower: bool) -> torch.Tensor:
    """``D / omega + L`` (or ``D / omega + L^T``) of ``M``, dense or sparse CSR like ``M``."""
    d = diagonal(M) / omega
    if M.layout == torch.strided:
        part = torch.tril(M, -1) if lower else torch.triu(M, 1)
        return part + torch.diag(d)
    coo = M.to_sparse_coo().coalesce()
    i, j = coo.indices()
    keep = i > j if lower else i < j
    n = M.shape[0]
    diag_idx = torch.arange(n, device=M.device)
    idx = torch.cat([torch.stack([i[keep], j[keep]]), torch.stack([diag_idx, diag_idx])], dim=1)
    vals = torch.cat([coo.values()[keep], d])
    return torch.sparse_coo_tensor(idx, vals, M.shape).coalesce().to_sparse_csr()


def triangular_solve(T: torch.Tensor, r: torch.Tensor, lower: bool) -> torch.Tensor:
    """``T^-1 r`` for a dense or sparse CSR triangle."""
    if T.layout == torch.strided:
        return torch.linalg.solve_triangular(T, r[:, None], upper=not lower)[:, 0]
    return torch.triangular_solve(r[:, None], T, upper=not lower).solution[:, 0]


def _check_omega(omega: float) -> None:
    if not 0.0 < omega < 2.0:
        raise ValueError(f"omega = {omega} is outside (0, 2), where SOR converges for SPD A")


@method("spd_solve", "sor", kind="optimized", **TORCH, trace=True, params={"omega": OMEGA})
def sor(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0, omega: float = 1.0,
        callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """SOR sweeps from 0 until ``||b - A x|| <= tol ||b||`` or ``budget`` sweeps."""
    _check_omega(omega)
    lower = triangle(A.matrix, omega, lower=True)
    target = stop_tolerance(tol, b.dtype) * float(torch.linalg.vector_norm(b))
    x = torch.zeros_like(b)
    r = b.clone()
    sweeps = 0
    residual = float(torch.linalg.vector_norm(r))
    while sweeps < budget and residual > target:
        x = x + triangular_solve(lower, r, lower=True)
        sweeps += 1
        if callback is not None:
            callback(x.clone())
        r = b - A @ x
        residual = float(torch.linalg.vector_norm(r))
    return WithInfo(x, {"iterations": sweeps}, failure=None if residual <= target else not_converged(
        residual / float(torch.linalg.vector_norm(b)), tol, b.dtype, budget))


@method("spd_solve", "pcg_ssor", kind="optimized", **TORCH, trace=True, params={"omega": OMEGA})
def pcg_ssor(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0, omega: float = 1.0,
             callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """CG preconditioned by SSOR (symmetric Gauss-Seidel at ``omega = 1``)."""
    _check_omega(omega)
    lower = triangle(A.matrix, omega, lower=True)
    upper = triangle(A.matrix, omega, lower=False)
    d = diagonal(A.matrix) / omega
    factor = (2.0 - omega) / omega

    def precondition(r: torch.Tensor) -> torch.Tensor:
        # M^-1 r = (2 - omega)/omega (D/omega + L^T)^-1 (D/omega) (D/omega + L)^-1 r
        return factor * triangular_solve(upper, d * triangular_solve(lower, r, lower=True), lower=False)

    return pcg(A, b, budget, tol, precondition=precondition, callback=callback)
