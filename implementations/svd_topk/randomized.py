"""Randomized SVD (Halko, Martinsson and Tropp 2011), in torch and in NumPy/SciPy.

N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with randomness:
probabilistic algorithms for constructing approximate matrix decompositions", SIAM
Review 53(2), 2011: Algorithm 4.4 (randomized subspace iteration) for the range, then
Algorithm 5.1 (direct SVD) for the factors. With ``l = k + p`` (oversampling ``p``)::

    Omega = randn(n, l)                     # the Gaussian test matrix
    Q = orth(A Omega)
    repeat q times:                         # power (subspace) iterations
        Z = orth(A^T Q);  Q = orth(A Z)
    Q = qr(Q)                               # orthonormal at the end, whatever ``ortho``
    B = Q^T A                               # l x n
    B = U_B diag(s) V^T                     # small SVD
    return (Q U_B)[:, :k], s[:k], V[:, :k]

``orth`` between power steps is a thin QR (``ortho = "qr"``) or the ``P L`` factor of a
pivoted LU (``ortho = "lu"``: 4x fewer flops, the choice of scikit-learn; any
well-conditioned basis keeps the columns from collapsing onto the top singular vector,
section 4.5). Each power step costs two passes over ``A``; the whole method
``2 q + 2`` passes.

Guarantees (section 10). Without power steps (``q = 0``), for ``p >= 2``, the range
finder's expected error is bounded by the optimal rank-k error:
``E ||A - Q Q^T A||_F <= (1 + k / (p - 1))^{1/2} (sum_{j>k} s_j^2)^{1/2}`` (Theorem
10.5). Power steps apply the method to ``(A A^T)^q A``, whose singular values
``s_j^{2q+1}`` decay faster, so the error of the spectral-norm bound shrinks by the
power ``1 / (2q + 1)`` (Corollary 10.10): ``q = 1`` or ``2`` suffices for a slowly
decaying spectrum.

Cost, ``l = k + p``, ``nnz = m n`` when dense: ``(2 q + 2) 2 nnz l`` for the products,
``(q + 1)`` thin factorizations of ``m x l`` and ``q`` of ``n x l`` blocks (``4 r l^2``
each for QR, ``r l^2`` for LU), ``6 n l^2 + 20 l^3`` for the SVD of ``B`` and
``2 m l k`` for ``Q U_B``.

:func:`randomized_svd` is a plain function (the ``svd_update`` task calls it to
recompute); ``A`` may be a torch tensor (dense or sparse CSR, CPU or CUDA) or a NumPy
array / SciPy sparse matrix. The Gaussian test matrix is the shared Gaussian sketch of
``implementations.common.sketching`` (through :func:`._ops.gaussian`).
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.params import Param
from matrixbench.registry import method

from . import _ops
from ._ops import Array

ORTHO: tuple[str, ...] = ("qr", "lu")


def range_finder(A: Array, l: int, q: int = 0, ortho: str = "qr", seed: int = 0) -> Array:
    """An orthonormal ``m x l`` basis ``Q`` with ``A ~ Q Q^T A`` (Algorithm 4.4; 4.1 when ``q = 0``)."""
    n = A.shape[1]
    Y = _ops.matmul(A, _ops.gaussian(A, n, l, seed))
    for _ in range(q):
        Q = _ops.orth(Y, ortho)
        Z = _ops.orth(_ops.rmatmul(A, Q), ortho)
        Y = _ops.matmul(A, Z)
    return _ops.orth_qr(Y)  # the final basis must be orthonormal: Q Q^T is a projection


def randomized_svd(A: Array, k: int, p: int = 10, q: int = 2, ortho: str = "qr",
                   seed: int = 0) -> tuple[Array, Array, Array]:
    """Rank-``k`` SVD ``(U, s, V)`` of ``A`` (``m x n``) by randomized subspace iteration.

    ``U`` is ``m x k``, ``s`` the ``k`` singular values in descending order, ``V``
    ``n x k``; all in ``A``'s dtype (torch tensors on ``A``'s device for a torch ``A``,
    NumPy arrays otherwise). ``l = k + p`` is capped at ``min(m, n)``.
    """
    m, n = A.shape
    if not 1 <= k <= min(m, n):
        raise ValueError(f"k must be in 1..{min(m, n)}, found {k}")
    Q = range_finder(A, min(k + p, m, n), q=q, ortho=ortho, seed=seed)
    Bt = _ops.rmatmul(A, Q)  # B^T = A^T Q (n x l): one pass, no transpose of A
    V, s, Ub = _ops.svd_small(Bt)  # B^T = V diag(s) U_B^T
    U = Q @ Ub[:, :k]
    return U, s[:k], V[:, :k]


def _factor_flops(rows: int, l: int, how: str) -> float:
    return float(4 * rows * l * l if how == "qr" else rows * l * l)


def randomized_flops(inputs: Mapping[str, Any], p: int = 10, q: int = 2, ortho: str = "qr",
                     seed: int = 0) -> float:
    """Products with ``A`` plus the thin factorizations and the small SVD (docstring)."""
    A, k = inputs["A"], int(inputs["k"])
    m, n = A.shape
    l = min(k + p, m, n)
    products = (2 * q + 2) * 2.0 * _ops.nnz(A) * l
    factor = q * (_factor_flops(m, l, ortho) + _factor_flops(n, l, ortho)) + 4.0 * m * l * l
    return products + factor + 6.0 * n * l * l + 20.0 * l**3 + 2.0 * m * l * k


def sketch_fits(inputs: Mapping[str, Any], p: int = 10, **_: Any) -> str | None:
    """Why a sketch of ``k + p`` columns does not fit ``A``: ``k + p > min(m, n)``, or None.

    Then the range finder's ``l = k + p`` is capped at ``min(m, n)`` and the sketch spans
    all of range(A): the method is an exact (and slow) full SVD, not the randomized SVD
    the parameters name, and the oversampling ``p >= 2`` that Theorem 10.5 needs is not
    there. The cell is skipped with that reason (shared by the other sketching methods:
    scikit-learn's and PyTorch's randomized SVDs, block Krylov's block ``k + p``).
    """
    m, n = inputs["A"].shape
    k = int(inputs["k"])
    if k + p > min(m, n):
        return (f"k + p = {k} + {p} exceeds min(m, n) = {min(m, n)}: the k + p sketch columns would span "
                f"the whole space (no oversampling left)")
    return None


PARAMS = {
    "p": Param(int, 10, min=0, doc="oversampling: the sketch has k + p columns"),
    "q": Param(int, 2, min=0, doc="power (subspace) iterations"),
    "ortho": Param(str, "qr", choices=ORTHO, doc="basis between power steps: thin QR or pivoted LU"),
    "seed": Param(int, 0, min=0, doc="seed of the Gaussian test matrix"),
}


@method("svd_topk", "randomized_svd", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"),
        params=PARAMS, flops=randomized_flops, sparse=True, applies=sketch_fits,
        renamed_from={"randomized_svd_scipy": "numpy"})
def randomized_svd_method(A: Any, k: int, p: int = 10, q: int = 2, ortho: str = "qr",
                          seed: int = 0) -> tuple[Any, Any, Any]:
    """Halko-Martinsson-Tropp randomized SVD (torch dense or sparse CSR, CPU or CUDA; NumPy or SciPy sparse)."""
    return randomized_svd(A, k, p=p, q=q, ortho=ortho, seed=seed)
