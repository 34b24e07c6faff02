"""What the solvers share: preconditioned conjugate gradients and the matrix's entries.

**PCG** (Hestenes and Stiefel 1952; Saad, *Iterative Methods for Sparse Linear Systems*,
2nd ed., 2003, Algorithm 9.1), from ``x_0 = 0`` with a symmetric positive definite
preconditioner ``M^-1``::

    q = A p,  alpha = (r^T z) / (p^T q),  x += alpha p,  r -= alpha q,
    z = M^-1 r,  beta = (r_new^T z_new) / (r^T z),  p = z + beta p

One product per iteration, plus ``10 n`` flops of vector updates and the preconditioner.
In exact arithmetic it terminates in at most ``n`` steps (at most the number of distinct
eigenvalues of ``M^-1 A``), and the ``A``-norm error falls at least like
``2 ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^t``, ``kappa = kappa(M^-1 A)`` (Saad, Theorem
6.29): a preconditioner pays when it shrinks ``kappa`` or clusters the spectrum. It stops
when the recurrence residual ``||r_t|| <= tol ||b||`` or the product budget is spent (then
with a failure message: the cell is ``inaccurate``); a ``p^T A p <= 0`` (an ``A`` or ``M``
that is not definite in the working precision) stops it with a failure message.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from matrixbench.registry import WithInfo

from .task import stop_tolerance

#: backends, devices and dtypes of the torch solvers
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"), sparse=True)

Preconditioner = Callable[[torch.Tensor], torch.Tensor]


def dense_matrix(A: Any) -> torch.Tensor | None:
    """The dense entries of an operator, or None when it is sparse (or implicit)."""
    M = A.matrix
    return M if M is not None and M.layout == torch.strided else None


def diagonal(M: torch.Tensor) -> torch.Tensor:
    """The diagonal of a dense or sparse (CSR/COO) matrix."""
    if M.layout == torch.strided:
        return torch.diagonal(M).clone()
    coo = M.to_sparse_coo().coalesce()
    i, j = coo.indices()
    on = i == j
    d = torch.zeros(M.shape[0], dtype=M.dtype, device=M.device)
    return d.index_add_(0, i[on], coo.values()[on])


def pcg(A: Any, b: torch.Tensor, budget: int, tol: float, precondition: Preconditioner | None = None,
        callback: Callable[[torch.Tensor], None] | None = None, spent: int = 0) -> WithInfo:
    """PCG from 0 (module docstring) within ``budget`` products, ``spent`` already used
    (a preconditioner's own sketch). Updates are in place and scalars are Python floats
    (on the CPU a torch op costs microseconds, as much as a small sparse product)."""
    target = (stop_tolerance(tol, b.dtype) * float(torch.linalg.vector_norm(b))) ** 2
    x = torch.zeros_like(b)
    r = b.clone()
    z = precondition(r) if precondition else r
    p = z.clone()
    rr = float(torch.dot(r, r))
    rz = float(torch.dot(r, z)) if precondition else rr
    steps, failure = 0, None
    while spent + steps < budget and rr > target:
        q = A @ p
        pq = float(torch.dot(p, q))
        if not pq > 0:
            failure = (f"CG broke down at iteration {steps}: p^T A p = {pq:.3g} (A or the preconditioner "
                       f"is not positive definite in {b.dtype})")
            break
        alpha = rz / pq
        x.add_(p, alpha=alpha)
        r.add_(q, alpha=-alpha)
        steps += 1
        if callback is not None:
            callback(x.clone())
        rr = float(torch.dot(r, r))
        if precondition:
            z = precondition(r)
            rz_next = float(torch.dot(r, z))
        else:
            z, rz_next = r, rr
        p.mul_(rz_next / rz).add_(z)
        rz = rz_next
    if failure is None and rr > target:
        failure = not_converged(rr ** 0.5 / float(torch.linalg.vector_norm(b)), tol, b.dtype, budget)
    return WithInfo(x, {"iterations": steps}, failure=failure)


def not_converged(relative_residual: float, tol: float, dtype: Any, budget: int) -> str:
    """The failure of an iterative solver that spent its budget above its tolerance: the cell
    is then ``inaccurate`` whatever its gates say (a small backward error can hide a residual
    far above the tolerance when ``||A|| ||x||`` is large, as in kernel systems at small mu)."""
    return (f"did not reach the tolerance {stop_tolerance(tol, dtype):g} within {budget} products: relative "
            f"residual {relative_residual:.3g}")
