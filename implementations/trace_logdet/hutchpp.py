"""Hutch++: low-rank deflation plus Girard-Hutchinson on the rest.

R. A. Meyer, C. Musco, C. Musco and D. P. Woodruff, "Hutch++: optimal stochastic trace
estimation", SOSA 2021 (Algorithm 1). With ``s = floor(m/3)`` and ``g = m - 2s``::

    Q = orth(A S)                          S: n x s signs           (s products)
    G <- (I - Q Q^T) G                     G: n x g signs
    t = tr(Q^T A Q) + (1/g) tr(G^T A G)                              (s + g products)

The top-``s`` part of ``A`` is taken exactly, Hutchinson estimates the rest: for positive
semidefinite ``A``, ``|t - tr A| <= eps tr A`` with probability ``1 - delta`` from
``m = O(sqrt(log(1/delta))/eps + log(1/delta))`` products, against ``O(1/eps^2)`` for
Hutchinson. Exact (zero variance) when ``rank A <= s``. Cost: ``m`` products, a QR of
``n x s`` (``4 n s^2``) and ``O(n m)``. The split follows the paper's simple variant
(``hutch_plusplus.m`` of XTrace's repository uses ``ceil(m/3)`` twice and ``floor(m/3)``,
which can exceed ``m`` by one).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import PROBES, SEED, TORCH, draw, trace_only
from .task import budget_flops


def split(budget: int) -> tuple[int, int]:
    """``(s, g)``: sketch columns and Hutchinson probes, ``2 s + g = budget``."""
    s = budget // 3
    return s, budget - 2 * s


@method("trace_logdet", "hutchpp", kind="optimized", **TORCH, flops=budget_flops, applies=trace_only,
        params={"probes": Param(str, "rademacher", choices=PROBES, doc="distribution of S and G"), "seed": SEED})
def hutchpp(A: Any, quantity: str = "trace", budget: int = 100, probes: str = "rademacher", seed: int = 0) -> torch.Tensor:
    """Hutch++ with ``budget`` products (see the module docstring)."""
    s, g = split(budget)
    SG = draw(A, s + g, probes, seed)
    S, G = SG[:, :s], SG[:, s:]
    t = torch.zeros((), dtype=A.dtype, device=A.device)
    if s:
        Q = torch.linalg.qr(A @ S).Q
        t = t + (Q * (A @ Q)).sum()
        G = G - Q @ (Q.mT @ G)
    return t + (G * (A @ G)).sum() / g
