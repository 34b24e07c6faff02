"""Brand's incremental SVD: the Zha-Simon step with the singular vectors kept as products.

M. Brand, "Fast low-rank modifications of the thin singular value decomposition",
Linear Algebra Appl. 415(1), 20-30, 2006 (block form of its rank-one update; the
rows appended are its "additive modification" ``[A; 0] + [0; I] E``). Same small
problem as Zha-Simon, different bookkeeping:

1. ``EV = (E V0) V'``;  ``Q R = E^T - V EV^T`` (dense QR, n x r);
2. ``F = [[diag(s), 0], [EV, R^T]] = Uf diag(sf) Vf^T``, leading k triplets;
3. ``U' <- U' Uf_top``; append ``Uf_bot U'^{-1}`` to ``U0``  (:mod:`._factored`);
4. ``V' <- V' Vf_top``; ``V0 <- V0 + Q Vf_bot V'^{-1}``;  ``s <- sf_k``.

Cost per update: ``2 k nnz(E) + 2 r k^2`` for ``E V``, ``2 n r k + 4 n r^2`` for the
residual and its QR, ``2 n r k`` for the correction of ``V0``, ``O((k + r)^3)`` small:
nothing proportional to ``m`` (Zha-Simon pays ``2 m k^2`` there), but still linear in
``n`` with a dense residual. Exact in the same cases as Zha-Simon (same ``F``); the
products add rounding of order ``eps cond(U')``, bounded by the folding rule.
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.registry import method

from . import _ops, _stream
from ._factored import ProductFactors
from ._ops import Array
from .zha_simon import small_factor


class Brand(ProductFactors):
    def update(self, E: Array) -> None:
        k = self.s.shape[0]
        EV = _ops.mm(E, self.V0) @ self.Vp
        Q, R = _ops.qr(_ops.T(_ops.dense(E)) - self.V0 @ (self.Vp @ _ops.T(EV)))
        Uf, sf, Vf = _ops.svd(small_factor(self.s, EV, _ops.T(R)))
        self.append_rows(Uf[:k, :k], Uf[k:, :k])
        Vp_inv = self.rotate_right(Vf[:k, :k])
        self.V0 += Q @ (Vf[k:, :k] @ Vp_inv)
        self.s = sf[:k]


def brand_flops(inputs: Mapping[str, Any]) -> float:
    m, n, k, rs, nnzs = _stream.flops_common(inputs)
    per = [2 * k * z + 4 * n * r * k + 4 * n * r * r + 22 * (k + r) ** 3 + 4 * r * k * k
           for r, z in zip(rs, nnzs)]
    # explicit factors formed once (the last recorded step; more with record: all)
    return float(sum(per) + 2 * (m + sum(rs) + n) * k * k)


def _run(U: Array, s: Array, V: Array, updates: list, side: str, record: tuple) -> list:
    return _stream.run(Brand, U, s, V, updates, side, record)


@method("svd_update", "brand", kind="optimized", backends=("numpy", "torch"), devices=("cpu", "cuda"),
        sparse=True, flops=brand_flops, renamed_from={"brand_torch": "torch"})
def brand(A: Array, U: Array, s: Array, V: Array, updates: list, side: str = "rows",
          record: tuple = (1,)) -> list:
    """Brand (2006): Zha-Simon's small SVD, singular vectors kept as U0 U', V0 V' (NumPy/SciPy, or torch dense or CSR blocks)."""
    return _run(U, s, V, updates, side, record)
