"""Linear sketches of each factor: ``C = (S A)^T (S B)``, one ``S`` from a shared seed.

``S`` (``k x n``) comes from ``implementations.common.sketching``: ``A`` and ``B`` are sketched by
two operators built on their own from the same seed (so, by construction, the same ``S``).
``E[S^T S] = I`` makes ``C`` unbiased. Guarantees (relative to ``||A||_F ||B||_F``):

- Gaussian (Johnson-Lindenstrauss; Sarlos, FOCS 2006, Lemma 6): error ``eps`` with
  ``k = O(1/eps^2)``;
- CountSketch (Clarkson & Woodruff, STOC 2013, via the JL moment property; Pagh, "Compressed
  matrix multiplication", ACM TOCT 5, 2013): the same ``k = O(1/eps^2)``.

``k = budget // max(d, m)`` rows so each sketch stores at most ``budget`` values: a sketch
of a sparse matrix is dense, which is where coordinated sampling wins
(``coordinated``). Cost: ``2 k (nnz(A) + nnz(B))`` (Gaussian) or ``nnz(A) + nnz(B)``
(CountSketch) to sketch, and ``2 k d m`` for the product of the sketches.

A budget under one row (``budget < max(d, m)``) does not apply: the cell is skipped rather
than run over budget. Nothing here can break down (``S A`` and ``S B`` are linear maps of
finite inputs), so there is no failure to report.
"""

from __future__ import annotations

from typing import Any

from implementations.common.sketching import sketch_for
from matrixbench.registry import WithInfo, method

from ._common import SEED, linear_fits, linear_flops_countsketch, linear_flops_dense, linear_rows


def sketched_product(kind: str, A: Any, B: Any, budget: int, seed: int) -> WithInfo:
    k = linear_rows(budget, A, B)
    SA = sketch_for(A, kind, k, seed=seed).apply(A)  # each factor sketched on its own
    SB = sketch_for(B, kind, k, seed=seed).apply(B)
    return WithInfo(SA.T @ SB, {"stored": float(SA.shape[0] * SA.shape[1])})


@method("matmul_approx", "gaussian", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        sparse=True, params={"seed": SEED}, flops=linear_flops_dense, applies=linear_fits)
def gaussian(A: Any, B: Any, budget: int, seed: int = 0) -> WithInfo:
    """``(S A)^T (S B)`` with a Gaussian ``S`` of ``k = budget // max(d, m)`` rows."""
    return sketched_product("gaussian", A, B, budget, seed)


@method("matmul_approx", "countsketch", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        sparse=True, params={"seed": SEED}, flops=linear_flops_countsketch, applies=linear_fits)
def countsketch(A: Any, B: Any, budget: int, seed: int = 0) -> WithInfo:
    """``(S A)^T (S B)`` with a CountSketch ``S`` of ``k = budget // max(d, m)`` rows."""
    return sketched_product("countsketch", A, B, budget, seed)
