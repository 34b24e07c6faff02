"""Sparse embeddings: CountSketch, sparse sign embeddings, very sparse random projections.

All three are held as the ``(row, column, value)`` triplets of ``S`` (``k x n``), built
once from the seed, and applied as a sparse-times-dense (or sparse-times-sparse) product:
``torch.sparse`` CSR on CPU or CUDA, ``scipy.sparse`` CSR for NumPy/SciPy inputs.

**CountSketch** (``kind="countsketch"``): Charikar, Chen & Farach-Colton, "Finding frequent
items in data streams" (ICALP 2002); as a subspace embedding Clarkson & Woodruff, "Low rank
approximation and regression in input sparsity time" (STOC 2013), with the sharper count of
Meng & Mahoney (STOC 2013) and Nelson & Nguyen (FOCS 2013). Column ``i`` of ``S`` has one
non-zero, ``sigma_i = +-1`` at row ``h(i)`` (``h`` uniform on ``[k]``). ``E[S^T S] = I``.
Guarantee: distortion ``eps`` with constant probability once ``k = O(d^2 / eps^2)``.
Cost: ``nnz(A)`` additions, one pass over ``A``: input-sparsity time.

**Sparse sign embedding** (``kind="sparse_sign"``, ``nnz = s`` non-zeros per column):
Kane & Nelson, "Sparser Johnson-Lindenstrauss Transforms" (J. ACM 61, 2014), block
construction: the ``k`` rows are cut into ``s`` blocks of ``~k/s`` rows and column ``i`` gets
one ``+-1/sqrt(s)`` in each block, so its ``s`` non-zeros sit in distinct rows (OSNAP,
Nelson & Nguyen 2013). ``E[S^T S] = I`` (each column has unit norm, signs independent).
Guarantee: ``k = O(d log d / eps^2)`` with ``s = O(log d / eps)`` (Cohen, SODA 2016);
``s = 8`` is the usual practical choice (Tropp et al., Martinsson & Tropp 2020, sec. 9.2).
Cost: ``s nnz(A)`` multiply-adds.

**Very sparse random projection** (``kind="very_sparse"``): Li, Hastie & Church, "Very
sparse random projections" (KDD 2006): ``S = R / sqrt(k)`` with ``R_ij = sqrt(q)`` times
``+1`` w.p. ``1/(2q)``, ``0`` w.p. ``1 - 1/q``, ``-1`` w.p. ``1/(2q)``, ``q = sqrt(n)``:
density ``1/sqrt(n)`` (scikit-learn's ``SparseRandomProjection`` default). ``E[S^T S] = I``.
A JL projection for vectors with bounded fourth moments (Li et al., Thm 2); no worst-case
subspace guarantee: on coherent inputs (a few heavy rows) a row of ``A`` is missed by all of
``S`` with probability ``(1 - 1/sqrt(n))^k``. The positions of the non-zeros are a
Bernoulli process over the ``k n`` entries, drawn as geometric gaps (``k sqrt(n)`` draws,
never ``k n``). Cost: ``2 k d sqrt(n)`` flops on a dense ``A``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import SketchOperator


class SparseSketch(SketchOperator):
    """``S`` from its triplets; subclasses draw them in ``_draw_*``."""

    def __init__(self, k: int, n: int, **kw: Any) -> None:
        super().__init__(k, n, **kw)
        if self.backend == "torch":
            self.rows, self.cols, self.vals = self._draw_torch(self._torch_generator(0))
        else:
            self.rows, self.cols, self.vals = self._draw_numpy(self._numpy_rng(0))
        self._csr: dict[Any, Any] = {}

    @property
    def nnz_total(self) -> int:
        return int(self.rows.shape[0])

    def _draw_torch(self, g: Any) -> tuple[Any, Any, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _draw_numpy(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    # -- S in each library's CSR, cached per dtype ------------------------------------
    def _torch_csr(self, dtype: Any) -> Any:
        import torch

        if dtype not in self._csr:
            coo = torch.sparse_coo_tensor(
                torch.stack([self.rows, self.cols]), self.vals.to(dtype), (self.k, self.n),
                check_invariants=False,  # valid by construction; the check would be timed
            )
            self._csr[dtype] = coo.coalesce().to_sparse_csr()
        return self._csr[dtype]

    def _scipy_csr(self, dtype: Any) -> Any:
        import scipy.sparse as sp

        if dtype not in self._csr:
            self._csr[dtype] = sp.csr_matrix(
                (self.vals.astype(dtype), (self.rows, self.cols)), shape=(self.k, self.n)
            )
        return self._csr[dtype]

    def _apply_torch(self, A: Any) -> Any:
        return self._torch_csr(A.dtype) @ A

    def _apply_torch_sparse(self, A: Any) -> Any:
        return (self._torch_csr(A.dtype) @ A).to_dense()

    def _apply_numpy(self, A: np.ndarray) -> np.ndarray:
        return np.asarray(self._scipy_csr(A.dtype) @ A)

    def _apply_scipy_sparse(self, A: Any) -> np.ndarray:
        return (self._scipy_csr(A.dtype) @ A.tocsr()).toarray()

    def matrix(self) -> Any:
        if self.backend == "torch":
            import torch

            S = torch.zeros(self.k, self.n, dtype=self.dtype, device=self.device)
            S.index_put_((self.rows, self.cols), self.vals.to(self.dtype), accumulate=True)
            return S
        S = np.zeros((self.k, self.n), dtype=self.dtype)
        np.add.at(S, (self.rows, self.cols), self.vals)
        return S


class SparseSignSketch(SparseSketch):
    """``s = nnz`` non-zeros ``+-1/sqrt(s)`` per column, one in each of ``s`` row blocks."""

    kind = "sparse_sign"

    def __init__(self, k: int, n: int, *, nnz: int = 8, **kw: Any) -> None:
        self.s = max(1, min(int(nnz), int(k)))
        super().__init__(k, n, **kw)

    def _apply_torch(self, A: Any) -> Any:
        """On the CPU: ``s`` scatter-adds per chunk of rows of ``A`` (``index_add_``), so each
        chunk is read once while it sits in cache; torch's CSR product reads ``A`` ``s``
        times in random order (measured 2x slower, 10^6 x 100, s = 8). CUDA: the CSR
        product (cuSPARSE)."""
        if A.device.type != "cpu":
            return super()._apply_torch(A)
        import torch

        key = ("by_slot", A.dtype)
        if key not in self._csr:  # (s, n) rows and values: slot l of every column
            self._csr[key] = (
                self.rows.view(self.n, self.s).T.contiguous(),
                self.vals.view(self.n, self.s).T.contiguous().to(A.dtype),
            )
        rows, vals = self._csr[key]
        out = torch.zeros(self.k, A.shape[1], dtype=A.dtype, device=A.device)
        chunk = max(1024, (1 << 21) // max(1, A.shape[1]))  # about 2^21 entries of A
        for r0 in range(0, self.n, chunk):
            r1 = min(self.n, r0 + chunk)
            Ac = A[r0:r1]
            for slot in range(self.s):
                out.index_add_(0, rows[slot, r0:r1], Ac * vals[slot, r0:r1, None])
        return out

    def _block_edges(self) -> np.ndarray:
        return (np.arange(self.s + 1) * self.k) // self.s  # s blocks covering 0..k

    def _draw_torch(self, g: Any) -> tuple[Any, Any, Any]:
        import torch

        edges = torch.as_tensor(self._block_edges(), device=self.device)
        start, size = edges[:-1], edges[1:] - edges[:-1]
        u = torch.rand(self.n, self.s, generator=g, device=self.device, dtype=torch.float64)
        rows = start + (u * size).long().minimum(size - 1)  # uniform in each block
        signs = torch.randint(0, 2, (self.n, self.s), generator=g, device=self.device) * 2 - 1
        cols = torch.arange(self.n, device=self.device)[:, None].expand(self.n, self.s)
        vals = signs.to(self.dtype) / math.sqrt(self.s)
        return rows.reshape(-1), cols.reshape(-1), vals.reshape(-1)

    def _draw_numpy(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        edges = self._block_edges()
        start, size = edges[:-1], edges[1:] - edges[:-1]
        rows = start + np.minimum((rng.random((self.n, self.s)) * size).astype(np.int64), size - 1)
        signs = rng.integers(0, 2, (self.n, self.s)) * 2 - 1
        cols = np.repeat(np.arange(self.n), self.s)
        return rows.reshape(-1), cols, (signs / math.sqrt(self.s)).astype(self.dtype).reshape(-1)


class CountSketch(SparseSignSketch):
    """One ``+-1`` per column at a uniform row: the sparse sign embedding with ``s = 1``."""

    kind = "countsketch"

    def __init__(self, k: int, n: int, **kw: Any) -> None:
        kw.pop("nnz", None)
        super().__init__(k, n, nnz=1, **kw)


class VerySparseSketch(SparseSketch):
    """Li-Hastie-Church entries ``+-sqrt(q/k)`` with density ``1/q``, ``q = sqrt(n)``."""

    kind = "very_sparse"

    def __init__(self, k: int, n: int, **kw: Any) -> None:
        kw.pop("nnz", None)
        super().__init__(k, n, **kw)

    @property
    def density(self) -> float:
        return 1.0 / math.sqrt(self.n)

    def _positions_budget(self) -> int:
        mean = self.k * self.n * self.density
        return int(mean + 10 * math.sqrt(mean) + 64)

    def _finish(self, pos: Any, signs: Any, lib: Any) -> tuple[Any, Any, Any]:
        # Column-major positions of the non-zeros in the k x n matrix.
        cols, rows = pos // self.k, pos % self.k
        scale = math.sqrt(1.0 / (self.density * self.k))
        return rows, cols, signs * scale

    def _draw_torch(self, g: Any) -> tuple[Any, Any, Any]:
        import torch

        total, p = self.k * self.n, self.density
        if p >= 1.0:  # n = 1: every entry is non-zero
            pos = torch.arange(total, device=self.device)
        else:
            gaps = torch.empty(self._positions_budget(), dtype=torch.float64, device=self.device)
            gaps.geometric_(p, generator=g)
            pos = torch.cumsum(gaps, 0).long() - 1
            if int(pos[-1]) < total:  # the budget is ten standard deviations: never in practice
                raise RuntimeError("very_sparse: position budget exhausted; report this")
            pos = pos[pos < total]
        signs = (torch.randint(0, 2, (pos.shape[0],), generator=g, device=self.device) * 2 - 1).to(self.dtype)
        return self._finish(pos, signs, torch)

    def _draw_numpy(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        total, p = self.k * self.n, self.density
        if p >= 1.0:
            pos = np.arange(total)
        else:
            pos = np.cumsum(rng.geometric(p, self._positions_budget())) - 1
            if pos[-1] < total:
                raise RuntimeError("very_sparse: position budget exhausted; report this")
            pos = pos[pos < total]
        signs = (rng.integers(0, 2, pos.shape[0]) * 2 - 1).astype(self.dtype)
        return self._finish(pos, signs, np)
