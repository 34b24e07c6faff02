"""Leverage-score row sampling with leverage scores approximated by sketching.

The leverage score of row ``i`` is ``l_i = ||e_i^T U||^2`` for an orthonormal basis ``U``
of range(A) (``sum l_i = n``). Sampling ``k`` rows i.i.d. with probabilities ``p_i =
l_i / n`` and rescaling them by ``1 / sqrt(k p_i)`` gives a subspace embedding for
``k = O(n log n / eps^2)`` (P. Drineas, M. W. Mahoney & S. Muthukrishnan, "Sampling
algorithms for l2 regression and applications", SODA 2006), and solving the sampled
problem is sketch-and-solve with that embedding. Uniform sampling would need ``k``
proportional to ``m max_i l_i`` (the coherence), hopeless on coherent ``A``.

Exact scores cost a QR of ``A``; fast approximation (P. Drineas, M. Magdon-Ismail,
M. W. Mahoney & D. P. Woodruff, "Fast approximation of matrix coherence and statistical
leverage", JMLR 13, 2012, Algorithm 1)::

    S A = Q_s R                        (S: sketch of 4n rows: A R^{-1} has kappa = O(1))
    Omega: n x p Gaussian / sqrt(p)    (JL projection, p = O(log m) columns)
    l_i ~ ||e_i^T A (R^{-1} Omega)||^2 (within a constant factor of l_i, w.h.p.)

then sample, rescale and solve the ``k x n`` problem by Householder QR. Guarantee as
sketch-and-solve: residual suboptimality ``O(eps)`` with ``k = O(n log n / eps^2)``.

Cost: the sketch, ``2 n^2 (4n - n/3)`` (QR), ``n^2 p`` (``R^{-1} Omega``), ``2 nnz(A) p``
(the scores), ``k log m`` (sampling by binary search), ``4 n^2 (k - n/3)`` (final QR).

Failures it reports (``WithInfo.failure``, the cell is then ``inaccurate``, ``x = 0``):
the score sketch ``S A`` numerically rank-deficient (no ``R`` to whiten ``A``); fewer
than ``n`` distinct rows drawn (i.i.d. draws repeat rows: at ``m = n`` every row has
leverage 1 and ``k = n`` draws hit about ``0.63 n`` distinct ones, the coupon
collector needs ``n ln n``); the sampled rows numerically rank-deficient
(:func:`._common.triangular_rank_failure`). Without these checks the ``m = n`` case
returned errors of 1e15 as a normal answer (issue 11). Skipped (``applies=``) when
``ceil(factor n) > m``: the sample would be as tall as ``A``.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.arrays import is_torch_sparse
from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import (SKETCH_KINDS, nnz, qr_flops, sketch_flops, sketch_fits, sketch_rows,
                      sketch_size, triangular_rank_failure)

PARAMS = {
    "factor": Param(float, 8.0, min=1.0, doc="sampled rows k = factor * n"),
    "sketch": Param(str, "sparse_sign", choices=SKETCH_KINDS, doc="sketch for the approximate scores' R"),
    "jl_dim": Param(int, 16, min=1, doc="columns p of the JL projection of A R^{-1}"),
    "seed": Param(int, 0, doc="seed of the sketch, the projection and the sampling"),
}

#: Rows of the sketch whose R whitens A for the scores: ``4 n`` (kappa(A R^{-1}) about 3).
SCORE_SKETCH_FACTOR = 4.0


def leverage_sampling_flops(inputs: Mapping[str, Any], factor: float = 8.0, sketch: str = "sparse_sign",
                            jl_dim: int = 16, seed: int = 0) -> float:
    m, n = inputs["A"].shape
    k1, k, z = sketch_size(SCORE_SKETCH_FACTOR, n, m), sketch_size(factor, n, m), nnz(inputs["A"])
    return (sketch_flops(sketch, k1, m, n, z) + qr_flops(k1, n) + n * n * jl_dim + 2.0 * z * jl_dim
            + 2.0 * qr_flops(k, n) + 2.0 * k * n)


def approximate_leverage_scores(A: torch.Tensor, R: torch.Tensor, jl_dim: int, gen: torch.Generator) -> torch.Tensor:
    """``||e_i^T A R^{-1} Omega||^2`` for a Gaussian ``Omega`` (n x jl_dim) / sqrt(jl_dim)."""
    n = A.shape[1]
    omega = torch.randn(n, jl_dim, generator=gen, dtype=A.dtype, device=A.device) / jl_dim**0.5
    Z = A @ torch.linalg.solve_triangular(R, omega, upper=True)  # m x p
    return (Z * Z).sum(dim=1)


@method("lstsq", "leverage_sampling", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), params=PARAMS, flops=leverage_sampling_flops, sparse=True,
        applies=sketch_fits)
def leverage_sampling(A: torch.Tensor, b: torch.Tensor, factor: float = 8.0, sketch: str = "sparse_sign",
                      jl_dim: int = 16, seed: int = 0) -> WithInfo:
    """Sample ``k = factor n`` rows by approximate leverage scores, rescale, solve by QR."""
    m, n = A.shape
    gen = torch.Generator(device=A.device)
    gen.manual_seed(seed)

    def failed(reason: str) -> WithInfo:
        return WithInfo(torch.zeros(n, dtype=A.dtype, device=A.device), {}, failure=reason)

    SA, _ = sketch_rows(A, b, sketch, sketch_size(SCORE_SKETCH_FACTOR, n, m), seed)
    R = torch.linalg.qr(SA, mode="r")[1]
    failure = triangular_rank_failure(R, "the score sketch S A")
    if failure:
        return failed(failure + ": no leverage scores (A rank-deficient or the sketch too small)")
    scores = approximate_leverage_scores(A, R, jl_dim, gen)
    cdf = torch.cumsum(scores, 0)
    k = sketch_size(factor, n, m)
    u = torch.rand(k, generator=gen, dtype=A.dtype, device=A.device) * cdf[-1]
    rows = torch.searchsorted(cdf, u).clamp_(max=m - 1)  # i.i.d. draws with p_i = l_i / sum(l)
    distinct = int(torch.unique(rows).numel())
    if distinct < n:
        return failed(f"only {distinct} distinct rows among the k = {k} draws, fewer than n = {n}: "
                      f"the sampled problem is rank-deficient (m = {m})")
    weights = (cdf[-1] / (k * scores[rows])).sqrt()  # 1 / sqrt(k p_i): E[(W P A)^T (W P A)] = A^T A
    if is_torch_sparse(A):  # rows of a CSR matrix: product with the k x m sampling matrix
        P = torch.sparse_coo_tensor(torch.stack([torch.arange(k, device=A.device), rows]), weights,
                                    size=(k, m), check_invariants=False).to_sparse_csr()
        SA = (P @ A).to_dense()
    else:
        SA = A[rows] * weights[:, None]
    Q, R = torch.linalg.qr(SA, mode="reduced")
    failure = triangular_rank_failure(R, f"the {k} sampled rows ({distinct} distinct)")
    if failure:
        return failed(failure)
    return WithInfo(torch.linalg.solve_triangular(R, (Q.mT @ (b[rows] * weights))[:, None], upper=True)[:, 0], {})
