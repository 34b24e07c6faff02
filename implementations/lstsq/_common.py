"""Shared pieces of the lstsq methods: FLOP counts, dtype-aware tolerances, conversions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from implementations.common.sketching import sketch_for


def qr_flops(m: int, n: int) -> float:
    """Householder QR of an m x n matrix, R only (Golub & Van Loan, section 5.2.2)."""
    return 2.0 * n * n * (m - n / 3.0)


def dense_numpy(A: Any) -> np.ndarray:
    """A SciPy sparse matrix densified, or the array itself."""
    return A.toarray() if hasattr(A, "toarray") else np.asarray(A)


def nnz(A: Any) -> int:
    """Stored entries of ``A``: ``m n`` when dense; cost models count a matvec as ``2 nnz``."""
    if hasattr(A, "nnz"):
        return int(A.nnz)
    return int(A.shape[0]) * int(A.shape[1])


def unit_roundoff(dtype: torch.dtype) -> float:
    return float(torch.finfo(dtype).eps)


def effective_tol(tol: float, dtype: torch.dtype) -> float:
    """``tol``, but never below ``16 u`` of the working precision: an iteration in float32
    cannot reach 1e-10, and asking for it only burns the iteration cap."""
    return max(tol, 16.0 * unit_roundoff(dtype))


def sketch_size(factor: float, n: int, m: int) -> int:
    """``ceil(factor * n)`` rows, at least ``n`` and at most ``m``."""
    return int(min(m, max(n, int(np.ceil(factor * n)))))


def sketch_fits(inputs: Any, factor: float = 8.0, **_: Any) -> str | None:
    """Why a sketch (or sample) of ``ceil(factor n)`` rows does not apply: it exceeds ``m``.

    :func:`sketch_size` would cap it at ``m``: the "reduced" problem is then as tall as
    ``A`` itself (a plain QR of ``A`` is cheaper and exact), and the suite's ``factor``
    is not what ran. The ``applies=`` of sketch-and-solve and leverage-score sampling.
    """
    m, n = inputs["A"].shape
    k = int(np.ceil(factor * n))
    if k > m:
        return f"the sketch of ceil(factor n) = {k} rows exceeds m = {m}: nothing to reduce (factor = {factor:g})"
    return None


def triangular_rank_failure(R: torch.Tensor, what: str) -> str | None:
    """A reason when the triangular factor ``R`` of a QR is numerically singular, or None.

    ``min |R_ii| <= n eps max |R_ii|`` (``eps`` of ``R``'s dtype), or a non-finite
    entry: the factored matrix has numerical rank below ``n``, and a triangular solve
    with ``R`` returns rounding amplified by up to ``1 / eps`` (issue 11: leverage
    sampling at ``m = n`` returned errors of 1e15 and said nothing). The diagonal of an
    unpivoted QR is a heuristic rank test (it can miss a near-singular ``R``, never an
    exactly singular one), cost ``O(n)``: the methods' cost model is unchanged.
    """
    d = torch.diagonal(R).abs()
    if not bool(torch.isfinite(R).all()):
        return f"{what}: its QR has non-finite entries"
    hi, lo = float(d.max()), float(d.min())
    if hi == 0.0 or lo <= torch.finfo(R.dtype).eps * hi * d.numel():
        ratio = lo / hi if hi > 0.0 else 0.0
        return f"{what} is numerically rank-deficient (min |R_ii| / max |R_ii| = {ratio:.2g})"
    return None


def sketch_rows(A: torch.Tensor, b: torch.Tensor, kind: str, k: int, seed: int, nnz_per_col: int = 8
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``S A`` and ``S b`` with one shared operator ``S`` (k x m) of ``kind`` (dense output)."""
    S = sketch_for(A, kind, k, seed=seed, nnz=nnz_per_col)
    return S.apply(A), S.apply(b)


#: The sketch kinds of :mod:`implementations.common.sketching` a method may use.
SKETCH_KINDS: tuple[str, ...] = ("sparse_sign", "srht", "gaussian", "countsketch", "very_sparse")

#: Apply cost of ``S`` (k x m) to an m x n matrix with ``z`` stored entries, by kind
#: (the common.sketching package's table): used by the methods' FLOP models.
def sketch_flops(kind: str, k: int, m: int, n: int, z: int, nnz_per_col: int = 8) -> float:
    if kind == "gaussian":
        return 2.0 * k * z
    if kind == "srht":
        m2 = 1 << max(0, int(m - 1).bit_length())
        return float(m2 * n * max(1, m2.bit_length() - 1))
    if kind == "countsketch":
        return float(z)
    if kind == "sparse_sign":
        return float(nnz_per_col * z)
    return 2.0 * k * z / np.sqrt(m)  # very_sparse: density 1/sqrt(m)
