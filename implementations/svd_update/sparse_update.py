"""The sparsity-exploiting update of Deng et al.: never form the dense residual of ``E``.

H. Deng, Y. Yang, J. Li, H. Chen, Z. Ma, Z. Wang, "Fast Updating Truncated SVD for
Representation Learning with Sparse Matrices", ICLR 2024. Rayleigh-Ritz updaters
(Zha-Simon, Brand, Vecharynski-Saad) orthogonalize the dense n x r residual
``B = (I - V V^T) E^T`` and apply the projection to all singular vectors; for a sparse
``E`` both are wasted work. The paper's two ideas, as done here:

- *sparse orthogonalization*: ``B`` is kept implicit, ``B = E^T - V EV^T`` with
  ``EV = E V``. Its Gram matrix needs only the sparse ``E`` and the small ``EV``:
  ``B^T B = E E^T - EV EV^T`` (as ``V^T V = I``), formed in float64 (r x r). Its
  eigendecomposition ``B^T B = W diag(d) W^T`` gives ``B = Q R`` with the implicit
  ``Q = B W d^{-1/2}`` (orthonormal) and ``R = d^{1/2} W^T``; residual directions with
  ``d`` at rounding level (``10 eps ||E||_F^2``) are dropped, which keeps ``Q``
  orthonormal to ``eps_64 / eps`` and loses only rounding-level energy.
- *extended decomposition*: the singular vectors are stored as products
  ``U = U0 U'``, ``V = V0 V'`` (:mod:`._factored`); the new ``V`` is
  ``V (Vf_top - EV^T C) + E^T C`` with ``C = W d^{-1/2} Vf_bot`` (r x k), so
  ``V' <- V' (Vf_top - EV^T C)`` and ``V0 <- V0 + E^T C V'^{-1}``, where ``E^T C`` is
  nonzero only on the columns that ``E`` touches: only those rows of ``V0`` change.

Per update, with ``F = [[diag(s), 0], [EV, R^T]] = Uf diag(sf) Vf^T`` as in Zha-Simon,
``c <= nnz(E)`` the columns touched:
``2 k nnz(E) + 2 c k^2`` (``E V0 V'``), ``O(nnz(E) r)`` (``E E^T``), ``O(r^3)``
(eigh), ``O((k + r)^3)`` (small SVD), ``2 r k^2 + O(k^3)`` (rows appended to ``U0``),
``2 k nnz(E) + 2 c k^2`` (rows of ``V0``): independent of ``m`` and ``n``. Exact in
the same cases as Zha-Simon (it computes the same ``F`` up to an orthogonal change of
basis of the residual); the Gram route adds a rounding error of order
``eps_64 cond(B)^2`` to ``Q``'s orthogonality, and the products that of ``cond(U')``.
The paper's further acceleration (an approximate, rank-truncated augmented space) is
not implemented: this is its exact-residual variant.
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.registry import method

from . import _ops, _stream
from ._factored import ProductFactors
from ._ops import Array
from .zha_simon import small_factor


class SparseUpdate(ProductFactors):
    def update(self, E: Array) -> None:
        k = self.s.shape[0]
        cols, Ec = _ops.column_support(E)                  # E = Ec on columns ``cols``
        EV = _ops.mm(Ec, self.V0[cols]) @ self.Vp          # r x k, touches c rows of V0
        EE = _ops.gram_rows(Ec)                            # r x r, float64
        EV64 = EV.to(EE.dtype) if _ops.is_torch(EV) else EV.astype(EE.dtype)
        d, W = _ops.eigh(EE - EV64 @ _ops.T(EV64))          # B^T B, B = E^T - V EV^T implicit
        tol = 10 * _ops.eps(EV) * float(EE.trace())        # rounding level of ||E||_F^2
        keep = d > tol
        d, W = d[keep], W[:, keep]
        Rt = _ops.to_dtype(W * d**0.5, EV)                  # R^T (r x r'), B = Q R
        Uf, sf, Vf = _ops.svd(small_factor(self.s, EV, Rt))
        self.append_rows(Uf[:k, :k], Uf[k:, :k])
        C = _ops.to_dtype(W / d**0.5, EV) @ Vf[k:, :k]      # Q Vf_bot = E^T C - V EV^T C
        Vp_inv = self.rotate_right(Vf[:k, :k] - _ops.T(EV) @ C)
        self.V0[cols] += _ops.mm(_ops.T(Ec), C) @ Vp_inv    # only the touched rows of V0
        self.s = sf[:k]


def sparse_update_flops(inputs: Mapping[str, Any]) -> float:
    m, n, k, rs, nnzs = _stream.flops_common(inputs)
    per = [4 * k * z + 4 * min(z, n) * k * k + 2 * z * r + 10 * r**3 + 22 * (k + r) ** 3 + 4 * r * k * k
           for r, z in zip(rs, nnzs)]
    return float(sum(per) + 2 * (m + sum(rs) + n) * k * k)  # + explicit factors once


def _run(U: Array, s: Array, V: Array, updates: list, side: str, record: tuple) -> list:
    return _stream.run(SparseUpdate, U, s, V, updates, side, record)


@method("svd_update", "sparse_update", kind="optimized", backends=("numpy", "torch"), devices=("cpu", "cuda"),
        sparse=True, flops=sparse_update_flops, renamed_from={"sparse_update_torch": "torch"})
def sparse_update(A: Array, U: Array, s: Array, V: Array, updates: list, side: str = "rows",
                  record: tuple = (1,)) -> list:
    """Deng et al. (ICLR 2024): implicit sparse residual, V0 V' product form (NumPy/SciPy, or torch CSR/dense, CPU or CUDA)."""
    return _run(U, s, V, updates, side, record)
