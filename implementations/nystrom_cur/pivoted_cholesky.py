"""Pivoted partial Cholesky: randomly pivoted, accelerated (block rejection), greedy.

Partial Cholesky with pivots ``s_1, ..., s_k`` builds ``A_hat = F F^T`` one column at a
time from the residual ``A - F F^T``, reading one column of ``A`` per pivot::

    d = diag(A)                                   # n entries
    for i = 1..k:
        pick s_i                                  # the rule below
        g = A[:, s_i] - F[:, :i] F[s_i, :i]^T     # n entries, 2 n i flops
        F[:, i] = g / sqrt(g[s_i])
        d = d - F[:, i]^2                         # the residual's diagonal

``n (k + 1)`` entries and ``n k^2`` flops in all; ``A_hat`` is the Nyström approximation
of the pivot columns (Chen, Epperly, Tropp and Webber, "Randomly pivoted Cholesky:
practical approximation of a kernel matrix with few entry evaluations", CPAM 2025,
Algorithm 1). The rule:

- ``rpcholesky``: ``s_i`` drawn with probability ``d / sum(d)`` (randomly pivoted
  Cholesky, RPCholesky): ``E tr(A - A_hat) <= (1 + eps) tr(A - A_r)`` once ``k >= r /
  eps + r log(1 / (eps eta))`` (their Theorem 3.1, ``eta`` the relative trace error of
  ``A_r``), near-optimal columns without the outlier-chasing of the greedy rule;
- ``greedy_cholesky``: ``s_i = argmax d`` (the classical diagonal pivoting of Harbrecht,
  Peters and Schneider 2012): excellent when the spectrum decays fast, but it picks
  outliers first (Chen et al., section 4.1: on "smile" it stalls);
- ``accelerated_rpcholesky``: Epperly, Tropp and Webber, "Embrace rejection: kernel
  matrix approximation by accelerated randomly pivoted Cholesky" (SIMAX 2025, Algorithm
  2.2): draw ``b`` candidates i.i.d. from ``d / sum(d)``, read their ``b x b`` residual
  block ``H``, and accept candidate ``j`` with probability ``H'_jj / H_jj`` where ``H'`` is
  ``H`` after eliminating the candidates accepted before it (rejection sampling, an exact
  simulation of RPCholesky's distribution); then read the accepted columns at once and
  update ``F`` by a triangular solve. The same ``n k`` column entries plus ``b^2`` per
  round, but matrix-matrix products instead of ``k`` matrix-vector steps: the paper
  reports up to 40x over RPCholesky (Python, ``n = 10^5``).

Every method stops early when the residual trace ``sum(d)`` falls to the rounding level
``n eps tr(A)``: ``A`` has rank below ``k`` and is recovered.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import SEED, TORCH, entry_matrix, generator, psd_only, sample


def _exhausted(d: torch.Tensor, trace: float) -> bool:
    return float(d.sum()) <= d.shape[0] * torch.finfo(d.dtype).eps * trace


def partial_cholesky(A: Any, k: int, rule: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """One pivot at a time (see the module docstring); ``rule`` is ``"random"`` or ``"greedy"``."""
    A = entry_matrix(A)
    n = A.shape[0]
    d = A.diagonal().clone()
    trace = float(d.sum())
    F = torch.zeros(n, k, dtype=d.dtype, device=d.device)
    gen = generator(seed, d.device)
    i = 0
    while i < k and not _exhausted(d, trace):
        s = int(sample(d, 1, gen)[0]) if rule == "random" else int(torch.argmax(d))
        g = A.columns([s])[:, 0] - F[:, :i] @ F[s, :i]
        if not float(g[s]) > 0:  # rounding made the pivot's residual vanish: it is spent
            d[s] = 0
            continue
        F[:, i] = g / g[s].sqrt()
        d = (d - F[:, i] ** 2).clamp_min(0)
        d[s] = 0
        i += 1
    return {"F": F[:, :i]}


@method("nystrom_cur", "rpcholesky", kind="optimized", **TORCH, params={"seed": SEED}, applies=psd_only)
def rpcholesky(A: Any, k: int = 10, psd: bool = True, seed: int = 0) -> dict[str, torch.Tensor]:
    """Randomly pivoted Cholesky (Chen, Epperly, Tropp and Webber, Algorithm 1)."""
    return partial_cholesky(A, k, "random", seed)


@method("nystrom_cur", "greedy_cholesky", kind="optimized", **TORCH, applies=psd_only)
def greedy_cholesky(A: Any, k: int = 10, psd: bool = True) -> dict[str, torch.Tensor]:
    """Greedy (largest residual diagonal) pivoted Cholesky."""
    return partial_cholesky(A, k, "greedy")


def rejection_cholesky(H: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Accepted candidates of a ``b x b`` residual block and their Cholesky factor.

    Candidate ``j`` is accepted with probability ``H'_jj / u_j``: ``u_j`` its residual
    diagonal when drawn, ``H'`` the block after the candidates accepted before ``j`` are
    eliminated (Epperly, Tropp and Webber, Algorithm 2.1). ``b^3 / 3`` flops at most."""
    H = H.clone()
    b = H.shape[0]
    u = H.diagonal().clone()
    draws = torch.rand(b, generator=gen, dtype=H.dtype, device=H.device)
    L = torch.zeros_like(H)
    accepted = []
    for j in range(b):
        if float(draws[j] * u[j]) < float(H[j, j]):
            accepted.append(j)
            L[j:, j] = H[j:, j] / H[j, j].sqrt()
            H[j + 1:, j + 1:] -= torch.outer(L[j + 1:, j], L[j + 1:, j])
    idx = torch.tensor(accepted, dtype=torch.long, device=H.device)
    return L[idx][:, idx], idx


@method("nystrom_cur", "accelerated_rpcholesky", kind="optimized", **TORCH, applies=psd_only, params={
    "seed": SEED,
    "block": Param(int, 0, min=0, doc="candidates drawn per round (0: ceil(k / 10), the authors' default start)"),
})
def accelerated_rpcholesky(A: Any, k: int = 10, psd: bool = True, seed: int = 0, block: int = 0
                           ) -> dict[str, torch.Tensor]:
    """Accelerated RPCholesky: block proposals, rejection sampling (Epperly, Tropp, Webber, Alg. 2.2)."""
    A = entry_matrix(A)
    n = A.shape[0]
    b = block or max(1, math.ceil(k / 10))
    d = A.diagonal().clone()
    trace = float(d.sum())
    F = torch.zeros(n, k, dtype=d.dtype, device=d.device)
    gen = generator(seed, "cpu")  # the rejection loop runs on the CPU: b scalar decisions
    i = 0
    while i < k and not _exhausted(d, trace):
        S = sample(d.cpu(), b, gen, replacement=True).to(d.device)
        H = A.block(S, S) - F[S, :i] @ F[S, :i].T
        L, acc = rejection_cholesky(H.cpu(), gen)
        acc = acc[: k - i].to(d.device)
        L = L[: len(acc), : len(acc)].to(d.device)
        if len(acc) == 0:
            continue
        piv = S[acc]
        G = A.columns(piv) - F[:, :i] @ F[piv, :i].T  # n x t residual columns
        # F_new L^T = G: the new columns of F (triangular solve, n t^2 flops)
        new = torch.linalg.solve_triangular(L, G.T, upper=False).T
        t = new.shape[1]
        F[:, i:i + t] = new
        d = (d - (new * new).sum(1)).clamp_min(0)
        d[piv] = 0
        i += t
    return {"F": F[:, :i]}
