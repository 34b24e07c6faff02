"""Zha-Simon: update a rank-k SVD with new rows through a small (k + r) x (k + r) SVD.

H. Zha and H. D. Simon, "On updating problems in latent semantic indexing", SIAM J. Sci.
Comput. 21(2), 782-791, 1999, section 2 (appending rows is their document update
transposed). With ``A ~ U diag(s) V^T`` (rank k) and new rows ``E`` (r x n):

1. ``EV = E V`` (r x k), the part of ``E`` inside ``range(V)``;
2. ``Q R = (I - V V^T) E^T = E^T - V EV^T``, thin QR of the dense n x r residual;
3. ``F = [[diag(s), 0], [EV, R^T]]`` ((k + r) x (k + r)), so that
   ``[U diag(s) V^T; E] = blkdiag(U, I) F [V, Q]^T`` exactly;
4. ``F = Uf diag(sf) Vf^T``, keep the leading k triplets;
5. ``U <- blkdiag(U, I) Uf_k``, ``s <- sf_k``, ``V <- [V, Q] Vf_k``.

Guarantee: exact (up to rounding) when ``A`` has rank k: the truncated SVD of ``F`` is
then that of ``[A; E]``. Otherwise the error of the discarded tail ``A - A_k`` adds up
over a stream; Zha and Simon show that for matrices with a low-rank-plus-shift
structure (as in LSI) it stays the best rank-k answer.

Cost per update (m, n, k, r): ``2 k nnz(E)`` for ``E V``, ``2 n r k``
for the residual, ``4 n r^2`` for the QR, ``O((k + r)^3)`` for the small SVD,
``2 m k^2`` for ``U`` and ``2 n (k + r) k`` for ``V``: linear in ``m + n``, the
products with the big factors dominate. The residual is formed dense even when ``E``
is sparse: the inefficiency the sparsity-exploiting update removes.
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.registry import method

from . import _ops, _stream
from ._ops import Array


def small_factor(s: Array, EV: Array, Rt: Array) -> Array:
    """``F = [[diag(s), 0], [EV, R^T]]``: the updated matrix in the bases ``blkdiag(U, I)``, ``[V, Q]``."""
    k, r2 = s.shape[0], Rt.shape[1]
    return _ops.block([[_ops.diag(s), _ops.zeros(s[:, None], k, r2)], [EV, Rt]])


class ZhaSimon:
    """Explicit factors, updated by products with the big ``U`` and ``V`` at each step."""

    def __init__(self, U: Array, s: Array, V: Array, capacity: int) -> None:
        self.U, self.s, self.V = U, s, V

    def update(self, E: Array) -> None:
        k = self.s.shape[0]
        EV = _ops.mm(E, self.V)                                  # r x k
        Q, R = _ops.qr(_ops.T(_ops.dense(E)) - self.V @ _ops.T(EV))  # n x r, dense
        Uf, sf, Vf = _ops.svd(small_factor(self.s, EV, _ops.T(R)))
        self.U = _ops.block([[self.U @ Uf[:k, :k]], [Uf[k:, :k]]])
        self.V = self.V @ Vf[:k, :k] + Q @ Vf[k:, :k]
        self.s = sf[:k]

    def factors(self) -> _stream.Factors:
        return self.U, self.s, self.V


def zha_simon_flops(inputs: Mapping[str, Any]) -> float:
    m, n, k, rs, nnzs = _stream.flops_common(inputs)
    total, rows = 0.0, m
    for r, z in zip(rs, nnzs):
        total += 2 * k * z + 2 * n * r * k + 4 * n * r * r + 22 * (k + r) ** 3
        total += 2 * rows * k * k + 2 * n * (k + r) * k
        rows += r
    return total


def _run(U: Array, s: Array, V: Array, updates: list, side: str, record: tuple) -> list:
    return _stream.run(ZhaSimon, U, s, V, updates, side, record)


@method("svd_update", "zha_simon", kind="optimized", backends=("numpy", "torch"), devices=("cpu", "cuda"),
        sparse=True, flops=zha_simon_flops, renamed_from={"zha_simon_torch": "torch"})
def zha_simon(A: Array, U: Array, s: Array, V: Array, updates: list, side: str = "rows",
              record: tuple = (1,)) -> list:
    """Zha-Simon (1999): small SVD of [[S, 0], [E V, R^T]], explicit U and V (NumPy/SciPy, or torch dense or CSR blocks)."""
    return _run(U, s, V, updates, side, record)
