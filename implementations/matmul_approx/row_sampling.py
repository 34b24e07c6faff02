"""Column-row sampling with ``p_i ~ ||A_i|| ||B_i||`` (Drineas, Kannan & Mahoney).

Drineas, Kannan & Mahoney, "Fast Monte Carlo Algorithms for Matrices I: Approximating
Matrix Multiplication", SIAM J. Comput. 36(1), 2006, algorithm BasicMatrixMultiplication
(their ``A B`` with columns of ``A`` and rows of ``B``; ours is ``A^T B``, rows of both):

    p_i = ||A_i|| ||B_i|| / sum_j ||A_j|| ||B_j||          (the optimal probabilities)
    draw i_1..i_c independently from p
    C = sum_t A_{i_t}^T B_{i_t} / (c p_{i_t})              (unbiased: E[C] = A^T B)

Guarantee (their Lemma 4): ``E||A^T B - C||_F^2 <= ||A||_F^2 ||B||_F^2 / c``, so relative
error ``eps`` needs ``c = 1/eps^2`` rows (``delta``-probability: ``c = O(log(1/delta)/eps^2)``).
Unlike the sketches it needs both matrices at once (``p`` mixes their norms). ``c`` is the
budget over the stored values per row (a budget under one row does not apply: the cell is
skipped). Cost: ``O(nnz(A) + nnz(B))`` for the norms, ``c`` draws, ``2 c s_A s_B`` for the
outer products (``s`` = values per row).

Degenerate weights: when every ``||A_i|| ||B_i||`` is 0 (each row is zero in ``A`` or in
``B``), ``A^T B = sum_i A_i^T B_i = 0`` exactly and ``p`` is 0/0: the method returns the
exact zero product and stores nothing. Row norms that overflow (float32 entries past about
1e19 square to Inf) make ``p`` meaningless: the method returns ``C = 0`` with a
``failure`` (the cell is ``inaccurate``), never a draw from a NaN distribution. The check
reads one scalar (a device synchronization on CUDA).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from implementations.common.sketching import substream
from matrixbench.registry import WithInfo, method

from ._common import SEED, rows_fit, rows_for_budget, sampling_flops
from ._rows import row_nnz, row_sq_norms, weighted_outer_sum


@method("matmul_approx", "row_sampling", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        sparse=True, params={"seed": SEED}, flops=sampling_flops, applies=rows_fit)
def row_sampling(A: Any, B: Any, budget: int, seed: int = 0) -> WithInfo:
    """DKM sampling of ``c`` rows with ``p_i ~ ||A_i|| ||B_i||``, with replacement."""
    c = rows_for_budget(budget, A, B)
    weights = torch.sqrt(row_sq_norms(A).double() * row_sq_norms(B).double())
    total = float(weights.sum())
    if not (math.isfinite(total) and total > 0):
        C = torch.zeros(A.shape[1], B.shape[1], dtype=A.dtype, device=A.device)
        if total == 0:  # every row is zero in A or in B: A^T B = 0 exactly
            return WithInfo(C, {"stored": 0.0})
        return WithInfo(C, {"stored": 0.0}, failure=f"the sampling weights sum to {total} (row norms overflow "
                                                     f"in {str(A.dtype).removeprefix('torch.')})")
    p = weights / total
    g = torch.Generator(device=A.device)
    g.manual_seed(substream(seed, 1))
    idx = torch.multinomial(p, c, replacement=True, generator=g)
    w = (1.0 / (c * p[idx])).to(A.dtype)
    C = weighted_outer_sum(A, B, idx, idx, w)
    return WithInfo(C, {"stored": float(row_nnz(A)[idx].sum())})
