"""Brand's product form of the singular vectors: ``U = U0 U'``, ``V = V0 V'``.

M. Brand, "Fast low-rank modifications of the thin singular value decomposition",
Linear Algebra Appl. 415(1), 20-30, 2006, section 4: keep the big factors ``U0`` (m x k)
and ``V0`` (n x k) and fold each update's small rotation into k x k matrices ``U'``,
``V'``, so that an update costs nothing proportional to ``m`` on the side that only
rotates. After an update with ``Uf_k = [Uf_top; Uf_bot]`` (rows of ``blkdiag(U, I)``):

    U_new = [U0 U' Uf_top; Uf_bot] = [U0; Uf_bot (U' Uf_top)^{-1}] (U' Uf_top),

i.e. ``U' <- U' Uf_top`` and ``r`` rows ``Uf_bot U'^{-1}`` appended to ``U0``
(``O(r k^2 + k^3)``). On the other side ``V_new = V0 V' Vf_top + D`` for a correction
``D`` whose rows are known (dense for Brand, only on the columns touched by a sparse
``E`` for Deng et al.): ``V' <- V' Vf_top`` and ``V0 <- V0 + D V'^{-1}`` on those rows.

The inverse is safe while ``U'`` and ``V'`` are well conditioned; ``Uf_top`` is a block
of an orthogonal matrix whose singular values are the cosines of the angles between the
old and new subspaces, near 1 for small updates. When the condition number passes
``limit`` the product is folded into ``U0`` (``U0 <- U0 U'``, ``U' <- I``: ``2 m k^2``
flops, rarely). Explicit factors cost ``2 (m + n) k^2`` and are formed only on request.
"""

from __future__ import annotations

from . import _ops
from ._ops import Array
from ._stream import RowBuffer


class ProductFactors:
    """``U = U0 U'`` (U0 in a preallocated row buffer) and ``V = V0 V'``, with ``s``."""

    def __init__(self, U: Array, s: Array, V: Array, capacity: int) -> None:
        self.U0 = RowBuffer(U, capacity)
        self.Up = _ops.eye(U, U.shape[1])
        self.V0 = V.clone() if _ops.is_torch(V) else V.copy()  # updated in place
        self.Vp = _ops.eye(V, V.shape[1])
        self.s = s
        # beyond this condition number of U' or V', fold it into U0 or V0 (see above)
        self.limit = 0.1 / _ops.eps(U) ** 0.5
        self.folds = 0

    def V(self) -> Array:
        return self.V0 @ self.Vp

    def append_rows(self, Uf_top: Array, Uf_bot: Array) -> None:
        """``U <- [U Uf_top; Uf_bot]``: rotate ``U'``, append ``Uf_bot U'^{-1}`` to ``U0``."""
        Up = self.Up @ Uf_top
        if _ops.cond(Up) > self.limit:
            view = self.U0.view()
            view[:] = view @ Up
            Up = _ops.eye(Up, Up.shape[0])
            self.folds += 1
        self.Up = Up
        self.U0.append(Uf_bot @ _ops.inv(Up))

    def rotate_right(self, Vf_top: Array) -> Array:
        """``V' <- V' Vf_top``; returns ``V'^{-1}``, for the caller's correction of ``V0``."""
        Vp = self.Vp @ Vf_top
        if _ops.cond(Vp) > self.limit:
            self.V0 = self.V0 @ Vp
            Vp = _ops.eye(Vp, Vp.shape[0])
            self.folds += 1
        self.Vp = Vp
        return _ops.inv(Vp)

    def factors(self) -> tuple[Array, Array, Array]:
        return self.U0.view() @ self.Up, self.s, self.V()
