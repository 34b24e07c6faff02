"""The few operations the truncated-SVD methods need, for every input kind they take.

The randomized, block Krylov and Lanczos methods touch ``A`` only through products
``A X`` and ``A^T Y`` with thin dense blocks, plus small dense factorizations. Writing
them once here lets one algorithm (one module, read like its paper's box) run on

- a torch dense tensor or a torch sparse CSR tensor (CPU or CUDA), and
- a NumPy array or a SciPy sparse matrix (the NumPy/SciPy variants),

without densifying a sparse input: ``A^T Y`` of a torch CSR tensor is a product with its
CSC view ``A.mT``; of a SciPy CSR matrix with its CSC transpose ``A.T`` (both free).
Everything stays in the input's dtype and on its device.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.arrays import Array, is_sparse, is_torch  # noqa: F401  (re-exported to the methods)


def real_dtype(A: Array) -> Any:
    """The working dtype: the input's (float32 stays float32: that is the point)."""
    return A.dtype


def matmul(A: Array, X: Array) -> Array:
    """``A @ X`` for a thin dense block ``X``."""
    out = A @ X
    return np.asarray(out) if not is_torch(out) and not isinstance(out, np.ndarray) else out


def rmatmul(A: Array, Y: Array) -> Array:
    """``A^T @ Y`` without forming ``A^T`` (a transposed view or the CSC transpose)."""
    out = A.mT @ Y if is_torch(A) else A.T @ Y
    return np.asarray(out) if not is_torch(out) and not isinstance(out, np.ndarray) else out


def gaussian(A: Array, rows: int, cols: int, seed: int) -> Array:
    """A seeded ``rows x cols`` Gaussian test matrix in ``A``'s dtype, on its device.

    The transpose of the shared Gaussian sketch of ``implementations.common.sketching`` (one
    implementation of each sketch for every task): entries N(0, 1/cols), which every
    caller here is indifferent to (a range finder spans the same space, Lanczos
    normalizes its start). torch: drawn on ``A``'s device (CPU and CUDA streams differ,
    each reproducible); NumPy: PCG64.
    """
    from implementations.common.sketching import sketch

    if is_torch(A):
        op = sketch("gaussian", cols, rows, seed=seed, backend="torch", dtype=A.dtype, device=A.device)
    else:
        dtype = np.float32 if A.dtype == np.float32 else np.float64
        op = sketch("gaussian", cols, rows, seed=seed, backend="numpy", dtype=dtype)
    return op.matrix().T


def orth_qr(Y: Array) -> Array:
    """An orthonormal basis of ``range(Y)``: thin Householder QR (``4 m l^2`` flops)."""
    if is_torch(Y):
        import torch

        return torch.linalg.qr(Y, mode="reduced").Q
    import scipy.linalg

    return scipy.linalg.qr(Y, mode="economic", overwrite_a=True, check_finite=False)[0]


def orth_lu(Y: Array) -> Array:
    """A well-conditioned (not orthonormal) basis ``P L`` of ``range(Y)`` from ``Y = P L U``.

    Partial pivoting keeps ``|L_ij| <= 1``, which is all a power step needs to stop the
    columns from collapsing onto the top singular vector, at ``m l^2`` flops against QR's
    ``4 m l^2`` (the choice of scikit-learn's ``randomized_svd``; Halko et al. 2011,
    section 4.5, note that any well-conditioned basis will do between power steps).
    """
    if is_torch(Y):
        import torch

        LU, pivots, _ = torch.linalg.lu_factor_ex(Y)  # no error check: no device sync
        L = torch.tril(LU, diagonal=-1)
        L.diagonal().fill_(1.0)
        # LAPACK's pivots are sequential row swaps, P^T Y = L U: Y[perm] = L U, so
        # (P L)[perm[j]] = L[j]. Only the rows the l swaps touch move: permute those.
        perm: dict[int, int] = {}
        for i, p in enumerate(pivots.tolist()):
            p -= 1
            perm[i], perm[p] = perm.get(p, p), perm.get(i, i)
        moved = [j for j, t in perm.items() if j != t]
        if moved:
            src = torch.tensor(moved, device=Y.device)
            dst = torch.tensor([perm[j] for j in moved], device=Y.device)
            L[dst] = L[src].clone()
        return L
    import scipy.linalg

    return scipy.linalg.lu(Y, permute_l=True, overwrite_a=True, check_finite=False)[0]


def orth(Y: Array, how: str) -> Array:
    if how == "qr":
        return orth_qr(Y)
    if how == "lu":
        return orth_lu(Y)
    raise ValueError(f"ortho must be 'qr' or 'lu', found {how!r}")


def svd_small(B: Array) -> tuple[Array, Array, Array]:
    """Thin SVD ``B = U diag(s) V^T`` of a small dense block; returns ``(U, s, V)``."""
    if is_torch(B):
        import torch

        U, s, Vh = torch.linalg.svd(B, full_matrices=False)
        return U, s, Vh.mT
    import scipy.linalg

    U, s, Vh = scipy.linalg.svd(B, full_matrices=False, check_finite=False,
                                lapack_driver="gesdd")
    return U, s, Vh.T


def transpose(X: Array) -> Array:
    return X.mT if is_torch(X) else X.T


def concat(blocks: list[Array]) -> Array:
    """Columns side by side."""
    if is_torch(blocks[0]):
        import torch

        return torch.cat(blocks, dim=1)
    return np.concatenate(blocks, axis=1)


def nnz(A: Array) -> int:
    """Stored entries of a sparse ``A``; ``m n`` for a dense one (FLOP models use it)."""
    if is_torch(A):
        return int(A._nnz()) if is_sparse(A) else int(A.numel())
    return int(A.nnz) if is_sparse(A) else int(np.prod(A.shape))
