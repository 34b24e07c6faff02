"""Coordinated sampling with a shared seed: each factor sampled on its own, then joined.

Daliri, Freire, Musco, Santos & Zhang, "Matrix Product Sketching via Coordinated Sampling"
(2023), building on their "Sampling Methods for Inner Product Sketching" (threshold and
priority sampling). One uniform hash ``h_i ~ U(0, 1)`` per row index ``i``, drawn from the
shared seed, so that the two sketches, built apart, sample the same rows where both want
them. For a factor ``M`` with row weights ``q_i = ||M_i||^2``:

    threshold:  p_i = min(1, tau q_i), tau set so that sum_i p_i nnz(M_i) = budget
    priority:   keep the K rows of smallest rank h_i / q_i (K = budget / mean nnz per row);
                tau = the (K+1)-th smallest rank, and p_i = min(1, tau q_i)
    sketch(M) = {(i, M_i, p_i) : h_i < p_i}

    C = sum_{i in both sketches} A_i^T B_i / min(p^A_i, p^B_i)

Row ``i`` is in both sketches exactly when ``h_i < min(p^A_i, p^B_i)`` (one hash), so ``C``
is unbiased (for priority sampling conditionally on the thresholds; their Lemma). Guarantee
(Daliri et al.): ``||A^T B - C||_F <= eps ||A||_F ||B||_F`` with sketches of ``O(1/eps^2)``
rows, i.e. ``O(s/eps^2)`` stored values when rows have at most ``s`` non-zeros, against
``O(d/eps^2)`` for linear sketches of width ``d``: the gain on sparse factors. Cost:
``O(nnz(M) + n log n)`` to sketch (norms; the sort that sets ``tau``), and the product of
the joined rows, ``2 sum nnz(A_i) nnz(B_i)`` over the common rows.

Priority sampling keeps ``K = budget / mean nnz per row`` rows: a budget under one row does
not apply (the cell is skipped); threshold sampling takes any budget (its size is the
budget in expectation). Zero rows are never sampled and a zero factor gives the exact
``C = 0``. Row norms that overflow (float32 entries past about 1e19) make ``p`` meaningless:
the method returns ``C = 0`` with a ``failure`` (the cell is ``inaccurate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from implementations.common.sketching import substream
from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, mean_row_nnz, sampling_flops
from ._rows import row_nnz, row_sq_norms, take_rows, weighted_outer_sum


@dataclass
class RowSample:
    """A coordinated sketch of one factor: kept row indices (sorted), rows, probabilities."""

    index: torch.Tensor
    rows: torch.Tensor
    prob: torch.Tensor
    n: int
    #: the squared row norms overflowed (Inf): no sample was drawn
    overflow: bool = False


def shared_hash(n: int, seed: int, device: Any) -> torch.Tensor:
    """``h_i ~ U(0, 1)``, ``i < n``, the same for every factor sketched with ``seed``."""
    g = torch.Generator(device=device)
    g.manual_seed(substream(seed, 2))
    return torch.rand(n, generator=g, device=device, dtype=torch.float64)


def threshold_tau(q: torch.Tensor, nnz: torch.Tensor, budget: float) -> float:
    """``tau`` with ``sum_i min(1, tau q_i) nnz_i = budget`` (``inf`` when all rows fit).

    Sorted by ``q`` descending, a solution saturates a prefix of ``j`` rows:
    ``tau_j = (budget - sum_{i<j} nnz_i) / sum_{i>=j} q_i nnz_i``; the right ``j`` is the one
    where ``tau_j q_j <= 1 <= tau_j q_{j-1}`` (the prefix is saturated, the rest is not)."""
    nnz = nnz.double()
    if float((nnz * (q > 0)).sum()) <= budget:
        return float("inf")
    qs, order = torch.sort(q, descending=True)
    ns = nnz[order]
    head = torch.cumsum(ns, 0) - ns  # sum_{i<j} nnz_i
    tail = torch.flip(torch.cumsum(torch.flip(qs * ns, [0]), 0), [0])  # sum_{i>=j} q_i nnz_i
    tau = (budget - head) / tail
    prev = torch.cat([torch.full((1,), float("inf"), dtype=qs.dtype, device=qs.device), qs[:-1]])
    ok = (tau * qs <= 1) & (tau * prev >= 1) & (head < budget) & (tail > 0)
    if not bool(ok.any()):  # rounding at a tie: the first unsaturated j (size <= budget)
        ok = (tau * qs <= 1) & (head < budget) & (tail > 0)
    return float(tau[int(torch.argmax(ok.to(torch.int8)))])


def coordinated_sketch(M: torch.Tensor, budget: int, seed: int, sampling: str = "threshold") -> RowSample:
    """Sample rows of ``M`` with ``p_i = min(1, tau ||M_i||^2)`` against the shared hash."""
    n = M.shape[0]
    q = row_sq_norms(M).double()
    if not bool(torch.isfinite(q).all()):
        none = torch.zeros(0, dtype=torch.int64, device=M.device)
        return RowSample(none, take_rows(M, none), q[none], n, overflow=True)
    h = shared_hash(n, seed, M.device)
    if sampling == "threshold":
        tau = threshold_tau(q, row_nnz(M), float(budget))
        p = torch.clamp(tau * q, max=1.0) if tau != float("inf") else (q > 0).double()
        keep = h < p
    else:  # priority: the K smallest ranks h / q
        K = max(1, int(budget // max(float(row_nnz(M).double().mean()), 1e-300)))
        rank = torch.where(q > 0, h / q, torch.full_like(q, float("inf")))
        if K >= int((q > 0).sum()):
            p, keep = (q > 0).double(), q > 0
        else:
            tau = float(torch.kthvalue(rank, K + 1).values)  # the (K+1)-th smallest rank
            p = torch.clamp(tau * q, max=1.0)
            keep = rank < tau
    index = torch.nonzero(keep).flatten()
    return RowSample(index, take_rows(M, index), p[index], n)


def join_estimate(a: RowSample, b: RowSample) -> torch.Tensor:
    """``sum_{i in both} A_i^T B_i / min(p^A_i, p^B_i)`` from two sketches alone."""
    if a.index.numel() == 0 or b.index.numel() == 0:  # nothing in common: C = 0
        return torch.zeros(a.rows.shape[1], b.rows.shape[1], dtype=a.rows.dtype, device=a.rows.device)
    pos = torch.searchsorted(b.index, a.index).clamp(max=b.index.shape[0] - 1)
    hit = b.index[pos] == a.index
    pa = torch.nonzero(hit).flatten()
    pb = pos[pa]
    w = 1.0 / torch.minimum(a.prob[pa], b.prob[pb])
    return weighted_outer_sum(a.rows, b.rows, pa, pb, w.to(a.rows.dtype))


SAMPLING = Param(str, "threshold", choices=("threshold", "priority"),
                 doc="threshold (expected size) or priority (fixed size) sampling")


def priority_fits(inputs: Any, sampling: str = "threshold", **_: Any) -> str | None:
    """``applies``: priority sampling needs a budget of at least one (average) row of each factor."""
    if sampling != "priority":
        return None
    A, B, budget = inputs["A"], inputs["B"], inputs["budget"]
    row = max(mean_row_nnz(A), mean_row_nnz(B))
    if budget < row:
        return f"budget {budget} is under one row ({row:g} values on average): priority sampling keeps K >= 1 rows"
    return None


@method("matmul_approx", "coordinated", kind="optimized", backends=("torch",), devices=("cpu", "cuda"), sparse=True,
        flops=sampling_flops, params={"seed": SEED, "sampling": SAMPLING}, applies=priority_fits)
def coordinated(A: Any, B: Any, budget: int, seed: int = 0, sampling: str = "threshold") -> WithInfo:
    """Coordinated row sampling of ``A`` and ``B`` on their own (shared seed), then joined."""
    sa = coordinated_sketch(A, budget, seed, sampling)  # each factor on its own:
    sb = coordinated_sketch(B, budget, seed, sampling)  # only the seed is shared
    failure = "; ".join(f"row norms of {name} overflow in {str(M.dtype).removeprefix('torch.')}"
                        for name, M, s in (("A", A, sa), ("B", B, sb)) if s.overflow)
    if failure:
        return WithInfo(torch.zeros(A.shape[1], B.shape[1], dtype=A.dtype, device=A.device), {"stored": 0.0},
                        failure=failure)
    return WithInfo(join_estimate(sa, sb), {"stored": float(row_nnz(A)[sa.index].sum())})
