"""Randomized block Krylov SVD (Musco and Musco 2015), in torch and in NumPy/SciPy.

C. Musco and C. Musco, "Randomized Block Krylov Methods for Stronger and Faster
Approximate Singular Value Decomposition", NeurIPS 2015, Algorithm 2. With block size
``b = k + p`` (the paper takes ``b = k``; ``p`` extra columns are the usual cheap
insurance) and ``q`` iterations::

    Pi = randn(n, b)
    K = [A Pi, (A A^T) A Pi, ..., (A A^T)^q A Pi]         # m x b (q + 1)
    Q = orth(K)
    B = Q^T A;  B = U_B diag(s) V^T                        # Rayleigh-Ritz on span(K)
    return (Q U_B)[:, :k], s[:k], V[:, :k]

The Krylov space contains every polynomial ``p(A A^T) A Pi`` of degree ``q``, among them
the Chebyshev polynomials that separate ``s_k`` from ``s_{k+1}`` far better than the
single power ``(A A^T)^q`` of simultaneous iteration (randomized SVD): the paper proves
a ``(1 + eps)`` spectral and Frobenius error, and per-vector guarantees, after
``q = O(log(n) / sqrt(eps))`` iterations instead of ``O(log(n) / eps)``, gap-free.

Numerics: the powers ``(A A^T)^i A Pi`` align with the top singular vector, so K is
never formed as is. Each new block is orthogonalized against all previous ones (block
Gram-Schmidt, twice: "twice is enough", Giraud et al., Numer. Math. 101, 2005) and then
QR-factored: the basis is that of block Lanczos with full reorthogonalization, and
spans the same space as K in exact arithmetic.

Cost, ``nnz = m n`` when dense: ``2 nnz b`` for ``A Pi``, ``4 nnz b`` per iteration,
``2 nnz b (q + 1)`` for ``B^T = A^T Q``; the reorthogonalization
``sum_{i=1..q} 8 m (i b) b = 4 m b^2 q (q + 1)``, ``4 m b^2`` per block QR, and the SVD
of the ``b (q + 1) x n`` matrix ``B``.
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.params import Param
from matrixbench.registry import method

from . import _ops
from ._ops import Array
from .randomized import sketch_fits


def block_krylov_svd(A: Array, k: int, p: int = 0, q: int = 2, seed: int = 0) -> tuple[Array, Array, Array]:
    """Rank-``k`` SVD ``(U, s, V)`` from the block Krylov space of depth ``q``, block ``k + p``."""
    m, n = A.shape
    if not 1 <= k <= min(m, n):
        raise ValueError(f"k must be in 1..{min(m, n)}, found {k}")
    b = min(k + p, m, n)
    q = min(q, max(min(m, n) // b - 1, 0))  # the space cannot outgrow min(m, n) columns
    blocks = [_ops.orth_qr(_ops.matmul(A, _ops.gaussian(A, n, b, seed)))]
    for _ in range(q):
        W = _ops.matmul(A, _ops.rmatmul(A, blocks[-1]))  # (A A^T) times the last block
        Q = _ops.concat(blocks)
        for _ in range(2):  # block Gram-Schmidt against the whole basis, twice
            W = W - Q @ (_ops.transpose(Q) @ W)
        blocks.append(_ops.orth_qr(W))
    Q = _ops.concat(blocks)
    V, s, Ub = _ops.svd_small(_ops.rmatmul(A, Q))  # B^T = A^T Q = V diag(s) U_B^T
    return Q @ Ub[:, :k], s[:k], V[:, :k]


def block_fits(inputs: Mapping[str, Any], p: int = 0, **_: Any) -> str | None:
    """Why the start block of ``k + p`` columns does not fit ``A`` (:func:`.randomized.sketch_fits`)."""
    return sketch_fits(inputs, p=p)


def block_krylov_flops(inputs: Mapping[str, Any], p: int = 0, q: int = 2, seed: int = 0) -> float:
    A, k = inputs["A"], int(inputs["k"])
    m, n = A.shape
    b = min(k + p, m, n)
    q = min(q, max(min(m, n) // b - 1, 0))
    w = b * (q + 1)
    nnz = _ops.nnz(A)
    products = 2.0 * nnz * b + 4.0 * nnz * b * q + 2.0 * nnz * w
    reorth = 4.0 * m * b * b * q * (q + 1) + 4.0 * m * b * b * (q + 1)
    return products + reorth + 6.0 * n * w * w + 20.0 * w**3 + 2.0 * m * w * k


PARAMS = {
    "p": Param(int, 0, min=0, doc="extra columns: block size k + p"),
    "q": Param(int, 2, min=0, doc="Krylov iterations: the space has q + 1 blocks"),
    "seed": Param(int, 0, min=0, doc="seed of the Gaussian start block"),
}


@method("svd_topk", "block_krylov", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"),
        params=PARAMS, flops=block_krylov_flops, sparse=True, applies=block_fits,
        renamed_from={"block_krylov_scipy": "numpy"})
def block_krylov(A: Any, k: int, p: int = 0, q: int = 2, seed: int = 0) -> tuple[Any, Any, Any]:
    """Musco-Musco randomized block Krylov SVD (torch dense or sparse CSR, CPU or CUDA; NumPy or SciPy sparse)."""
    return block_krylov_svd(A, k, p=p, q=q, seed=seed)
