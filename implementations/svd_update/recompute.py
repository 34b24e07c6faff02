"""Baseline: recompute the rank-k SVD of the whole updated matrix with randomized SVD.

What a user does without an update method: after each block, run the randomized SVD
of Halko, Martinsson and Tropp (SIAM Rev. 53(2), 2011, Algorithms 4.4 and 5.1; our
``svd_topk`` implementation, ``implementations/svd_topk/randomized.py``) on
``M_t = [A; E_1; ...; E_t]`` from scratch, with ``l = k + p`` sketch columns and ``q``
power iterations. It ignores the previous answer, so it does not drift: its error after
every step is that of one randomized SVD, (near) optimal for ``q >= 2`` on matrices with
decaying spectra.

Cost per update: ``(2q + 2) 2 nnz(M_t) l`` for the products with ``M_t`` plus
``O((m + n) l^2)`` for the bases and the small SVD: proportional to the whole matrix,
which is what the update methods avoid. The stacked ``M_t`` is rebuilt each step
(``O(nnz)``, inside the timed call: it is part of recomputing).
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.registry import method

from implementations.svd_topk.randomized import PARAMS, randomized_svd, sketch_fits

from . import _ops, _stream
from ._ops import Array


class Recompute:
    """Keeps the row blocks; each update recomputes the SVD of all of them."""

    def __init__(self, A: Array, k: int, p: int, q: int, ortho: str, seed: int) -> None:
        self.blocks, self.k = [A], k
        self.opts = {"p": p, "q": q, "ortho": ortho, "seed": seed}
        self.result: _stream.Factors | None = None

    def update(self, E: Array) -> None:
        self.blocks.append(E)
        self.result = randomized_svd(_ops.vstack(self.blocks), self.k, **self.opts)

    def factors(self) -> _stream.Factors:
        assert self.result is not None
        return self.result


def recompute_flops(inputs: Mapping[str, Any], p: int = 10, q: int = 2, ortho: str = "qr",
                    seed: int = 0) -> float:
    m, n, k, rs, nnzs = _stream.flops_common(inputs)
    A = inputs["A"]
    nnz = int(A.nnz) if _ops.is_sparse(A) else int(A.size)
    total, rows = 0.0, m
    for r, z in zip(rs, nnzs):
        rows, nnz = rows + r, nnz + z
        l = min(k + p, rows, n)
        basis = (4 if ortho == "qr" else 1) * l * l
        total += (2 * q + 2) * 2.0 * nnz * l + q * basis * (rows + n) + 4.0 * rows * l * l
        total += 6.0 * n * l * l + 20.0 * l**3 + 2.0 * rows * l * k
    return total


def recompute_applies(inputs: Mapping[str, Any], p: int = 10, **_: Any) -> str | None:
    """The randomized SVD's condition ``k + p <= min(m, n)`` on ``A`` (every ``M_t`` is
    larger): :func:`implementations.svd_topk.randomized.sketch_fits`."""
    return sketch_fits({"A": inputs["A"], "k": len(inputs["s"])}, p=p)


def _run(A: Array, U: Array, s: Array, V: Array, updates: list, side: str, record: tuple,
         p: int, q: int, ortho: str, seed: int) -> list:
    A_rows = _ops.transpose_sparse(A) if side == "columns" else A
    k = s.shape[0]
    return _stream.run(lambda *_: Recompute(A_rows, k, p, q, ortho, seed), U, s, V, updates, side, record)


@method("svd_update", "recompute_randomized", kind="baseline", backends=("numpy", "torch"), devices=("cpu", "cuda"),
        sparse=True, params=PARAMS, flops=recompute_flops, applies=recompute_applies,
        renamed_from={"recompute_randomized_torch": "torch"})
def recompute_randomized(A: Array, U: Array, s: Array, V: Array, updates: list, side: str = "rows",
                         record: tuple = (1,), p: int = 10, q: int = 2, ortho: str = "qr",
                         seed: int = 0) -> list:
    """Randomized SVD (Halko et al. 2011) of the whole updated matrix at every step (NumPy/SciPy or torch)."""
    return _run(A, U, s, V, updates, side, record, p, q, ortho, seed)
