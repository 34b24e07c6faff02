"""The few array operations the update methods need, for NumPy/SciPy and torch alike.

An update touches the big factors only through thin products and row writes, and
otherwise works on small ``(k + r) x (k + r)`` matrices. Writing those operations once
here lets each algorithm (one module, read like its paper's box) run on a NumPy array or
SciPy sparse matrix and on a torch dense or sparse CSR tensor, on the CPU or CUDA, in
the input's dtype, without densifying a sparse input unless the algorithm itself does
(Zha-Simon and Brand orthogonalize a dense ``n x r`` residual: that is their cost).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.arrays import Array, is_sparse, is_torch  # noqa: F401  (re-exported to the methods)


def T(x: Array) -> Array:
    """Transpose of a dense matrix (a view)."""
    return x.mT if is_torch(x) else x.T


def transpose_sparse(E: Array) -> Array:
    """``E^T`` of a sparse (or dense) block, again CSR (or dense): for column updates."""
    if not is_sparse(E):
        return T(E).contiguous() if is_torch(E) else np.ascontiguousarray(E.T)
    if is_torch(E):
        return E.mT.to_sparse_csr()
    return E.T.tocsr()


def dense(E: Array) -> Array:
    """A dense copy of a (sparse) block: what the dense-orthogonalization methods use."""
    if not is_sparse(E):
        return E
    return E.to_dense() if is_torch(E) else E.toarray()


def mm(A: Array, X: Array) -> Array:
    """``A @ X`` for sparse or dense ``A`` and a dense ``X``, as a dense array."""
    out = A @ X
    return out if is_torch(out) or isinstance(out, np.ndarray) else np.asarray(out)


def column_support(E: Array) -> tuple[Array, Array]:
    """``(cols, Ec)``: the columns where the sparse block ``E`` has entries, and ``E[:, cols]``.

    ``Ec`` is SciPy CSR (NumPy) or a dense ``r x |cols|`` tensor (torch, built by
    scattering the stored values: no ``r x n`` array is formed). ``|cols| <= nnz(E)``.
    A dense ``E`` has every column in its support.
    """
    if not is_sparse(E):
        idx = (np.arange(E.shape[1]) if not is_torch(E) else
               __import__("torch").arange(E.shape[1], device=E.device))
        return idx, E
    if is_torch(E):
        import torch

        crow, col, val = E.crow_indices(), E.col_indices(), E.values()
        cols, where = torch.unique(col, return_inverse=True)
        rows = torch.repeat_interleave(torch.arange(E.shape[0], device=E.device), crow[1:] - crow[:-1])
        Ec = torch.zeros(E.shape[0], cols.numel(), dtype=E.dtype, device=E.device)
        Ec.index_put_((rows, where), val, accumulate=True)
        return cols, Ec
    cols = np.unique(E.indices)
    return cols, E[:, cols]


def gram_rows(Ec: Array) -> Array:
    """``Ec Ec^T`` (r x r) as a dense float64 array/tensor (sparse products stay sparse)."""
    if is_torch(Ec):
        import torch

        E64 = Ec.to(torch.float64)
        return E64 @ E64.mT
    G = Ec.astype(np.float64) @ Ec.astype(np.float64).T
    return G.toarray() if hasattr(G, "toarray") else np.asarray(G)


def svd(F: Array) -> tuple[Array, Array, Array]:
    """Thin SVD ``F = U diag(s) V^T`` of a small dense matrix; returns ``(U, s, V)``."""
    if is_torch(F):
        import torch

        U, s, Vh = torch.linalg.svd(F, full_matrices=False)
        return U, s, Vh.mT
    U, s, Vh = np.linalg.svd(F, full_matrices=False)
    return U, s, Vh.T


def qr(B: Array) -> tuple[Array, Array]:
    """Thin Householder QR of a tall dense block (``4 n r^2`` flops with ``Q``)."""
    if is_torch(B):
        import torch

        return torch.linalg.qr(B, mode="reduced")
    return np.linalg.qr(B, mode="reduced")


def eigh(G: Array) -> tuple[Array, Array]:
    if is_torch(G):
        import torch

        return torch.linalg.eigh(G)
    return np.linalg.eigh(G)


def inv(X: Array) -> Array:
    if is_torch(X):
        import torch

        return torch.linalg.inv(X)
    return np.linalg.inv(X)


def cond(X: Array) -> float:
    """2-norm condition number of a small square matrix (a host scalar)."""
    if is_torch(X):
        import torch

        return float(torch.linalg.cond(X))
    return float(np.linalg.cond(X))


def zeros(like: Array, rows: int, cols: int, dtype: Any = None) -> Array:
    if is_torch(like):
        import torch

        return torch.zeros(rows, cols, dtype=dtype or like.dtype, device=like.device)
    return np.zeros((rows, cols), dtype=dtype or like.dtype)


def eye(like: Array, k: int) -> Array:
    if is_torch(like):
        import torch

        return torch.eye(k, dtype=like.dtype, device=like.device)
    return np.eye(k, dtype=like.dtype)


def diag(s: Array) -> Array:
    return __import__("torch").diag(s) if is_torch(s) else np.diag(s)


def block(rows: list[list[Array]]) -> Array:
    """A dense block matrix from a list of rows of dense blocks."""
    if is_torch(rows[0][0]):
        import torch

        return torch.cat([torch.cat(r, dim=1) for r in rows], dim=0)
    return np.block(rows)


def vstack(blocks: list[Array]) -> Array:
    """Rows stacked: dense, SciPy CSR or torch CSR (the recompute baseline's matrix)."""
    if is_torch(blocks[0]):
        import torch

        if not is_sparse(blocks[0]):
            return torch.cat(blocks, dim=0)
        crows, cols, vals, offset = [blocks[0].crow_indices()[:1]], [], [], 0
        for b in blocks:
            c = b.crow_indices()
            crows.append(c[1:] + offset)
            offset += int(c[-1])
            cols.append(b.col_indices())
            vals.append(b.values())
        shape = (sum(b.shape[0] for b in blocks), blocks[0].shape[1])
        return torch.sparse_csr_tensor(torch.cat(crows), torch.cat(cols), torch.cat(vals), size=shape,
                                       check_invariants=False)  # stacked valid blocks
    if is_sparse(blocks[0]):
        import scipy.sparse as sp

        return sp.vstack(blocks, format="csr")
    return np.concatenate(blocks, axis=0)


def to_dtype(x: Array, like: Array) -> Array:
    """``x`` (a small float64 result) in ``like``'s dtype."""
    return x.to(like.dtype) if is_torch(x) else x.astype(like.dtype, copy=False)


def eps(like: Array) -> float:
    """Unit roundoff of ``like``'s dtype."""
    if is_torch(like):
        import torch

        return float(torch.finfo(like.dtype).eps)
    return float(np.finfo(like.dtype).eps)
