"""The planted co-cluster model of sparse matrices that grow by rows: the inputs of
``svd_topk``'s ``sparse_lowrank`` and ``svd_update``'s ``sparse_stream``, so that both
tasks see the same kind of matrix (shared here, not through either task's folder).
The dense matrix is never formed: 10^6 x 10^4 with 10^6 entries takes ``O(nnz rank)``
time and memory.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def _rows(rng: np.random.Generator, rows: int, n: int, cols: list[np.ndarray], y: list[np.ndarray],
          w: np.ndarray, pr: float, noise_per_row: float, noise: float) -> sp.csr_matrix:
    """``rows`` new rows of the model: the planted blocks they join, plus noise."""
    r_parts, c_parts, v_parts = [], [], []
    for l, (C, yl) in enumerate(zip(cols, y)):
        R = np.flatnonzero(rng.random(rows) < pr)
        x = rng.standard_normal(R.size)
        r_parts.append(np.repeat(R, C.size))
        c_parts.append(np.tile(C, R.size))
        v_parts.append((w[l] * np.outer(x, yl)).ravel())
    counts = rng.poisson(noise_per_row, size=rows)
    r_parts.append(np.repeat(np.arange(rows), counts))
    c_parts.append(rng.integers(0, n, size=int(counts.sum())))
    v_parts.append(noise * rng.standard_normal(int(counts.sum())))
    out = sp.csr_matrix((np.concatenate(v_parts), (np.concatenate(r_parts), np.concatenate(c_parts))),
                        shape=(rows, n))
    out.sum_duplicates()
    return out


def cocluster_stream(
    rng: np.random.Generator,
    m: int,
    n: int,
    nnz: int,
    rank: int = 10,
    decay: float = 0.9,
    signal: float = 0.5,
    noise: float = 1.0,
    updates: int = 1,
    block: int = 100,
) -> dict[str, object]:
    """A sparse m x n matrix with planted co-clusters plus noise, and T blocks of new rows.

    The inputs of truncated-SVD updating (latent semantic indexing, recommender and graph
    embeddings: Zha and Simon, SIAM J. Sci. Comput. 21(2), 1999; Deng et al., "Fast Updating
    Truncated SVD for Representation Learning with Sparse Matrices", ICLR 2024) are large
    sparse matrices that grow by blocks of rows (new documents, users, nodes). The model here
    is a planted co-cluster structure (a sparse low-rank part: groups of rows that use
    groups of columns, like topics in a term-document matrix or communities in a graph)
    plus sparse noise:

    - component ``l = 0..rank-1`` has a fixed column set ``C_l`` (each column joins with
      probability ``pc``) and a row set ``R_l`` (each row, old or new, joins with
      probability ``pr``); on ``R_l x C_l`` it adds ``w_l x_i y_j`` with ``x, y`` standard
      normal and ``w_l = decay^l``: a rank-one block, so the planted part has rank
      ``rank`` and singular values about ``w_l sqrt(|R_l| |C_l|)``;
    - ``pr = pc = (signal nnz / (rank m n))^{1/2}``, so that the blocks hold a fraction
      ``signal`` of the ``nnz`` entries;
    - the other ``(1 - signal) nnz`` entries are at uniformly random positions (Poisson
      counts per row), standard normal times ``noise``: a bulk of singular values of about
      ``noise ((nnz'/m)^{1/2} + (nnz'/n)^{1/2})`` (``nnz'`` the noise entries).

    (Observing a dense low-rank matrix on a uniform pattern instead, ``P_Omega(L)``, buries
    the low-rank part under its own sampling noise at ten entries per row: the spectrum is
    flat, measured on 1e5 x 1e4 with 1e6 entries.) Repeated positions are summed.

    The stream's rows come from the same model (new rows join the same components, whose
    columns are fixed; noise at the same density), so the updated matrix keeps its
    structure: ``updates`` blocks of ``block`` rows each. Returns
    ``{"A": CSR (m x n), "updates": [CSR (block x n)] * updates}``, float64. Cost and
    memory ``O(nnz)``: the dense ``m x n`` matrix is never formed.
    """
    p = min(1.0, float(np.sqrt(signal * nnz / (rank * m * n))))
    w = decay ** np.arange(rank, dtype=np.float64)
    cols = [np.flatnonzero(rng.random(n) < p) for _ in range(rank)]
    y = [rng.standard_normal(C.size) for C in cols]
    noise_per_row = (1.0 - signal) * nnz / m
    A = _rows(rng, m, n, cols, y, w, p, noise_per_row, noise)
    blocks = [_rows(rng, block, n, cols, y, w, p, noise_per_row, noise) for _ in range(updates)]
    return {"A": A, "updates": blocks}
