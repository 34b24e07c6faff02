"""Sketch-and-solve: ``x = argmin ||S A x - S b||`` for a sketch ``S`` of ``k`` rows.

T. Sarlos, "Improved approximation algorithms for large matrices via random projections",
FOCS 2006; D. P. Woodruff, "Sketching as a tool for numerical linear algebra", Found.
Trends Theor. Comput. Sci. 10, 2014, Theorem 2.3. If ``S`` is an eps-subspace embedding
of range([A, b]) the solution satisfies ``||A x - b|| <= (1 + eps)/(1 - eps) ||A x* - b||``;
Gaussian or SRHT sketches need ``k = O(n / eps^2)`` rows (up to logarithms), sparse sign
ones ``O(n log n / eps^2)``, CountSketch ``O(n^2 / eps^2)``. So the residual
suboptimality falls like ``n / k`` (about ``n / (k - n)`` in expectation for a Gaussian)
and the accuracy in ``x`` is bounded by it: a tool for a rough fit at the cost of one
pass over ``A``, not for 1e-10 (that is sketch-and-precondition's job). The sweep over
``factor = k / n`` draws its accuracy-versus-time front.

The small problem is solved by Householder QR of ``S A`` (``k x n``): ``x = R^{-1} Q^T S b``.
When ``S A`` is numerically rank-deficient (``S`` failed to embed range(A): a CountSketch
or very sparse sketch with ``k`` near ``n`` leaves rows of ``S`` empty, or ``A`` itself
is rank-deficient) the cell says so (``WithInfo.failure``, ``x = 0``) instead of
returning ``R^{-1}`` of rounding (:func:`._common.triangular_rank_failure`). Skipped
(``applies=``) when ``ceil(factor n) > m``: the sketch would be as tall as ``A``.
Cost: the sketch, about ``4 n^2 (k - n/3)`` for the QR with ``Q`` formed, ``2 k n`` for
``Q^T S b`` and ``n^2`` for the solve.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import (SKETCH_KINDS, nnz, qr_flops, sketch_flops, sketch_fits, sketch_rows, sketch_size,
                      triangular_rank_failure)

PARAMS = {
    "sketch": Param(str, "sparse_sign", choices=SKETCH_KINDS, doc="sketch kind (implementations.common.sketching)"),
    "factor": Param(float, 8.0, min=1.0, doc="sketch rows k = factor * n"),
    "seed": Param(int, 0, doc="seed of the sketch"),
}


def sketch_and_solve_flops(inputs: Mapping[str, Any], sketch: str = "sparse_sign", factor: float = 8.0,
                           seed: int = 0) -> float:
    m, n = inputs["A"].shape
    k = sketch_size(factor, n, m)
    return sketch_flops(sketch, k, m, n + 1, nnz(inputs["A"]) + m) + 2.0 * qr_flops(k, n) + 4.0 * k * n + n * n


@method("lstsq", "sketch_and_solve", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), params=PARAMS, flops=sketch_and_solve_flops, sparse=True,
        applies=sketch_fits)
def sketch_and_solve(A: torch.Tensor, b: torch.Tensor, sketch: str = "sparse_sign", factor: float = 8.0,
                     seed: int = 0) -> WithInfo:
    """``argmin ||S A x - S b||`` by QR of the ``k x n`` sketch, ``k = factor * n``."""
    m, n = A.shape
    k = sketch_size(factor, n, m)
    SA, Sb = sketch_rows(A, b, sketch, k, seed)
    Q, R = torch.linalg.qr(SA, mode="reduced")
    failure = triangular_rank_failure(R, f"the {k}-row {sketch} sketch S A")
    if failure:
        return WithInfo(torch.zeros(n, dtype=A.dtype, device=A.device), {}, failure=failure)
    return WithInfo(torch.linalg.solve_triangular(R, (Q.mT @ Sb)[:, None], upper=True)[:, 0], {})
