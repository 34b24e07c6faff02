"""Inverse root from an eigenbasis refreshed by QR steps from the previous one (SOAP-style).

Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam" (Algorithm 4):
optimizers that keep the preconditioner's eigenbasis between steps refresh it with one
step of subspace (power) iteration, ``Q <- qr(A Q_prev).Q``, instead of a full ``eigh``.
Then, with ``d = diag(Q^T A Q)`` the eigenvalue estimates (Rayleigh quotients)::

    X = Q diag((d + eps)^{-1/p}) Q^T

Exact when ``Q_prev`` spans the eigenvectors; otherwise the error is governed by how far
``Q_prev`` is from the eigenbasis and by the eigenvalue gaps: each step multiplies an
eigenvector's error by ``|l_j / l_i|`` (the subspace iteration's rate), so well-separated
spectra converge in a few ``steps`` and clustered ones do not (it is never a full
``eigh``). Cost: ``steps`` times (``2 n^3`` for ``A Q`` and ``8/3 n^3`` for a Householder
QR with ``Q`` formed, Golub & Van Loan 5.2), plus ``2 n^3`` for ``A Q`` (the Rayleigh
quotients are then the column sums of ``Q * (A Q)``, ``2 n^2``) and ``2 n^3`` for the root.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method


def warm_start_flops(inputs: Mapping[str, Any], steps: int = 1) -> float:
    batch, n, _n = inputs["A"].shape
    return batch * (steps * (2 + 8 / 3) * n**3 + 2 * n**3 + 2 * n**3)


@method(
    "inv_root",
    "warm_start",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={"steps": Param(int, 1, min=1, doc="QR (power iteration) steps from the previous basis")},
    flops=warm_start_flops,
)
def warm_start(A: torch.Tensor, p: int = 2, eps: float = 1e-12, Q_prev: Any = None, steps: int = 1) -> torch.Tensor:
    """``Q = qr(A Q)`` ``steps`` times from ``Q_prev``, then ``Q diag((diag(Q^T A Q) + eps)^{-1/p}) Q^T``."""
    if Q_prev is None:
        raise ValueError("warm_start needs the previous eigenbasis Q_prev (an input of the inv_root task)")
    # Largest eigenvalue first (eigh sorts ascending): Gram-Schmidt then removes from each
    # column the components that A amplified, as subspace iteration does.
    Q = Q_prev.to(dtype=A.dtype, device=A.device).flip(-1)
    for _ in range(steps):
        Q = torch.linalg.qr(A @ Q).Q
    d = (Q * (A @ Q)).sum(dim=-2)  # diag(Q^T A Q), without forming the product
    f = torch.clamp(d + eps, min=torch.finfo(A.dtype).tiny) ** (-1.0 / p)
    return (Q * f.unsqueeze(-2)) @ Q.mT
