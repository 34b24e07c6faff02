"""Gaussian sketch: ``S = G / sqrt(k)``, ``G`` a ``k x n`` matrix of independent N(0, 1).

Johnson & Lindenstrauss (1984), in the form of Dasgupta & Gupta, "An elementary proof of a
theorem of Johnson and Lindenstrauss" (Random Struct. Alg. 22, 2003); as a subspace
embedding: Sarlos, "Improved approximation algorithms for large matrices via random
projections" (FOCS 2006); Woodruff, "Sketching as a Tool for Numerical Linear Algebra"
(2014), Theorem 2.3.

Guarantee: ``E[S^T S] = I``; for a ``d``-dimensional subspace ``U`` (orthonormal columns)
all singular values of ``S U`` lie in ``[1 - eps, 1 + eps]`` with probability ``1 - delta``
once ``k = O((d + log(1/delta)) / eps^2)``. More precisely ``S U`` is a ``k x d`` Gaussian
matrix over ``sqrt(k)``, whose singular values concentrate in
``1 +- sqrt(d/k)`` (Davidson & Szarek 2001): ``k = 4d`` gives distortion about 0.5.

Cost: ``k n`` normal draws and ``2 k n d`` flops for a dense ``A`` (``2 k nnz(A)`` for a
sparse one): the slowest to apply of the operators here, but the best-conditioned.

``S`` is not held by default: columns come in blocks of ``block`` (a function of ``k``
only), block ``b`` drawn from its own substream of the seed inside every apply, so that
``S`` does not depend on how ``A`` is cut nor on which rows are non-zero, and memory stays
``O(k block)``. With ``hold=True`` the blocks drawn are kept (``k n`` entries) and later
applies are pure GEMMs: the figure to compare with a library that stores ``S``
(scikit-learn's ``GaussianRandomProjection``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import SketchOperator, torch_csr_rows
from .fwht import next_power_of_two


class GaussianSketch(SketchOperator):
    kind = "gaussian"

    def __init__(self, k: int, n: int, *, hold: bool = False, **kw: Any) -> None:
        super().__init__(k, n, **kw)
        self.hold = bool(hold)
        self._held: dict[int, Any] = {}
        # Blocks of about 2^22 entries of S: large enough for GEMM speed, small in memory
        # (a function of k and n only, so that S is too).
        self.block = min(max(256, 1 << max(0, (2**22 // self.k).bit_length() - 1)), next_power_of_two(self.n))

    def _blocks(self) -> Any:
        for b, r0 in enumerate(range(0, self.n, self.block)):
            yield b, r0, min(self.n, r0 + self.block)

    def _torch_block(self, b: int, width: int) -> Any:
        import torch

        if b in self._held:
            return self._held[b]
        g = self._torch_generator(b)
        # exactly the block's width (the last block is narrower): no draws thrown away
        G = torch.randn(self.k, width, generator=g, dtype=self.dtype, device=self.device)
        G.mul_(1.0 / math.sqrt(self.k))
        if self.hold:
            self._held[b] = G
        return G

    def _numpy_block(self, b: int, width: int) -> np.ndarray:
        if b in self._held:
            return self._held[b]
        dt = self.dtype if self.dtype in (np.float32, np.float64) else np.float64
        G = self._numpy_rng(b).standard_normal((self.k, width), dtype=dt)
        G *= dt.type(1.0 / math.sqrt(self.k))
        if self.hold:
            self._held[b] = G
        return G

    def _apply_torch(self, A: Any) -> Any:
        import torch

        out = torch.zeros(self.k, A.shape[1], dtype=A.dtype, device=A.device)
        for b, r0, r1 in self._blocks():
            out.addmm_(self._torch_block(b, r1 - r0).to(A.dtype), A[r0:r1])
        return out

    def _apply_torch_sparse(self, A: Any) -> Any:
        """Per block of rows ``b``: ``G_b @ A_b``. CPU: dense times CSR rows (6x faster than
        the COO route here, 10^5 x 100 with 8 non-zeros per row, measured). CUDA:
        ``(A_b^T G_b^T)^T`` with ``A_b^T`` as COO, the product every torch build has there."""
        import torch

        if A.device.type == "cpu":
            out = torch.zeros(self.k, A.shape[1], dtype=A.dtype, device=A.device)
            crow_host = A.crow_indices()
            for b, r0, r1 in self._blocks():
                if int(crow_host[r1]) > int(crow_host[r0]):  # skip empty blocks of rows
                    out += self._torch_block(b, r1 - r0).to(A.dtype) @ torch_csr_rows(A, r0, r1, crow_host)
            return out
        return self._apply_torch_sparse_coo(A)

    def _apply_torch_sparse_coo(self, A: Any) -> Any:
        """The CUDA route of ``_apply_torch_sparse`` (runs on any device; tested on CPU)."""
        import torch

        out_t = torch.zeros(A.shape[1], self.k, dtype=A.dtype, device=A.device)
        crow, cols, vals = A.crow_indices(), A.col_indices(), A.values()
        crow_host = crow.cpu()
        for b, r0, r1 in self._blocks():
            p0, p1 = int(crow_host[r0]), int(crow_host[r1])
            if p1 == p0:
                continue  # an empty block of rows: nothing to add
            lengths = crow[r0 + 1 : r1 + 1] - crow[r0:r1]
            local_rows = torch.repeat_interleave(torch.arange(r1 - r0, device=A.device), lengths)
            At = torch.sparse_coo_tensor(torch.stack([cols[p0:p1], local_rows]), vals[p0:p1], (A.shape[1], r1 - r0))
            out_t += torch.sparse.mm(At, self._torch_block(b, r1 - r0).to(A.dtype).T)
        return out_t.T.contiguous()

    def _apply_numpy(self, A: np.ndarray) -> np.ndarray:
        out = np.zeros((self.k, A.shape[1]), dtype=A.dtype)
        for b, r0, r1 in self._blocks():
            out += self._numpy_block(b, r1 - r0).astype(A.dtype, copy=False) @ A[r0:r1]
        return out

    def _apply_scipy_sparse(self, A: Any) -> np.ndarray:
        A = A.tocsr()
        out = np.zeros((self.k, A.shape[1]), dtype=A.dtype)
        for b, r0, r1 in self._blocks():
            Ab = A[r0:r1]
            if Ab.nnz:
                # (A_b^T S_b^T)^T: sparse times dense in SciPy's compiled kernel.
                out += (Ab.T @ self._numpy_block(b, r1 - r0).astype(A.dtype, copy=False).T).T
        return out

    def matrix(self) -> Any:
        if self.backend == "torch":
            import torch

            blocks = [self._torch_block(b, r1 - r0) for b, r0, r1 in self._blocks()]
            return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=1)
        blocks = [self._numpy_block(b, r1 - r0) for b, r0, r1 in self._blocks()]
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)
