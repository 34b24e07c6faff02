"""Row operations on dense or sparse CSR torch tensors (any device), for row samplers.

- ``row_sq_norms(M)``: ``||M_k||^2`` for every row, ``O(nnz)``.
- ``row_nnz(M)``: stored values per row (``d`` for a dense row).
- ``take_rows(M, idx)``: the sub-matrix of rows ``idx`` in ``M``'s layout (what a
  row-sampling sketch stores).
- ``weighted_outer_sum(XA, XB, pa, pb, w)``: ``sum_t w_t XA[pa_t]^T XB[pb_t]`` (``d x m``):
  a GEMM for dense rows; for sparse rows, every pair of non-zeros of ``XA[pa_t]`` and
  ``XB[pb_t]`` scattered into ``C``, ``sum_t nnz(XA_pa_t) nnz(XB_pb_t)`` multiply-adds, the
  cost of the sparse product restricted to the sampled rows.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.arrays import is_sparse


def row_ids(M: torch.Tensor) -> torch.Tensor:
    """The row of each stored value of a CSR tensor."""
    crow = M.crow_indices()
    return torch.repeat_interleave(torch.arange(M.shape[0], device=M.device), crow[1:] - crow[:-1])


def row_sq_norms(M: torch.Tensor) -> torch.Tensor:
    if not is_sparse(M):
        return (M * M).sum(dim=1)
    out = torch.zeros(M.shape[0], dtype=M.dtype, device=M.device)
    v = M.values()
    return out.index_add_(0, row_ids(M), v * v)


def row_nnz(M: torch.Tensor) -> torch.Tensor:
    if not is_sparse(M):
        return torch.full((M.shape[0],), M.shape[1], device=M.device, dtype=torch.int64)
    crow = M.crow_indices()
    return (crow[1:] - crow[:-1]).to(torch.int64)


def _segments(starts: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Concatenated ranges ``starts[t] .. starts[t] + lengths[t] - 1``."""
    total = int(lengths.sum())
    seg_start = torch.cumsum(lengths, 0) - lengths
    offs = torch.arange(total, device=lengths.device) - torch.repeat_interleave(seg_start, lengths)
    return torch.repeat_interleave(starts, lengths) + offs


def take_rows(M: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``idx`` of ``M`` (dense: an index; CSR: a new CSR with those rows)."""
    if not is_sparse(M):
        return M[idx]
    crow = M.crow_indices()
    lengths = crow[idx + 1] - crow[idx]
    pos = _segments(crow[idx], lengths)
    new_crow = torch.cat([torch.zeros(1, dtype=crow.dtype, device=crow.device), torch.cumsum(lengths, 0)])
    return torch.sparse_csr_tensor(new_crow, M.col_indices()[pos], M.values()[pos], size=(idx.shape[0], M.shape[1]),
                                   check_invariants=False)  # selected rows of a valid CSR


def weighted_outer_sum(
    XA: torch.Tensor, XB: torch.Tensor, pa: torch.Tensor, pb: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """``sum_t w_t XA[pa_t]^T XB[pb_t]``, a dense ``d x m`` tensor."""
    d, m = XA.shape[1], XB.shape[1]
    if not is_sparse(XA) and not is_sparse(XB):
        return (XA[pa] * w[:, None]).T @ XB[pb]
    if not (is_sparse(XA) and is_sparse(XB)):  # mixed layouts: the sampled rows, densified
        RA = take_rows(XA, pa).to_dense() if is_sparse(XA) else XA[pa]
        RB = take_rows(XB, pb).to_dense() if is_sparse(XB) else XB[pb]
        return (RA * w[:, None]).T @ RB
    ca, cb = XA.crow_indices(), XB.crow_indices()
    la, lb = ca[pa + 1] - ca[pa], cb[pb + 1] - cb[pb]
    npairs = la * lb
    t = torch.repeat_interleave(torch.arange(pa.shape[0], device=pa.device), npairs)
    first = torch.cumsum(npairs, 0) - npairs  # where each t's pairs start
    o = torch.arange(int(npairs.sum()), device=pa.device) - torch.repeat_interleave(first, npairs)
    ia, ib = ca[pa][t] + o // lb[t], cb[pb][t] + o % lb[t]
    C = torch.zeros(d * m, dtype=XA.dtype, device=XA.device)
    C.index_add_(0, XA.col_indices()[ia] * m + XB.col_indices()[ib], w[t] * XA.values()[ia] * XB.values()[ib])
    return C.view(d, m)
