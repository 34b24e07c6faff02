"""I.i.d. row sampling: uniform, and leverage scores with and without reweighting.

**Leverage-score sampling** (Drineas, Mahoney and Muthukrishnan, "Sampling algorithms for
l2 regression and applications", SODA 2006; Cohen and Migliorati, "Optimal weighted
least-squares methods", SMAI J. Comput. Math. 3, 2017): ``n`` i.i.d. rows from ``p_i =
l_i / m`` (``l`` the leverage scores, :mod:`._common`), each weighted ``w = 1 / (n p_i)``
so that ``E sum_k w_k a_k a_k^T = A^T A``. With ``n = O(m log m / delta + m / eps)`` the
weighted fit has ``||b - A x_S||^2 <= (1 + eps) ||r*||^2`` with probability ``1 - delta``
(the ``m log m`` is the coupon collector's: fewer draws leave directions unseen). Cost: the
QR (``4 m^2 (N - m/3)``) and ``O(N + n log N)`` for the draws. ``reweight=False`` fits the
draws unweighted: its fit converges, as ``n`` grows, to the ``l``-weighted least-squares
solution, not to ``x*`` (a bias that no sample size removes unless ``b`` is in range(A)).

**Uniform sampling**: ``n`` i.i.d. rows uniformly, unweighted (equal weights ``N / n``):
no preprocessing, and fine when the leverage scores are nearly uniform (incoherent
``A``), but it misses the few rows that carry a coherent ``A``'s leverage. Blocks: one
per draw.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import SEED, TORCH, Clock, draws_of, drawn, iid, optimal_weights, qr_flops, timed_basis, uniforms


def leverage_flops(inputs: dict[str, Any], **_: Any) -> float:
    N, m, n = draws_of(inputs["A"], inputs["factor"])
    return qr_flops(N, m) + 2.0 * N * m + N


@method("dpp_sampling", "leverage", kind="optimized", **TORCH, flops=leverage_flops,
        params={"seed": SEED, "reweight": Param(bool, True, doc="weights 1 / (n p_i); false: unweighted fit")})
def leverage(A: torch.Tensor, factor: float = 10.0, constant: float = 2.0, seed: int = 0,
             reweight: bool = True) -> Any:
    """Leverage-score sampling (Drineas, Mahoney and Muthukrishnan 2006): n i.i.d. rows from l / m."""
    N, m, n = draws_of(A, factor)
    clock, _, lev = timed_basis(A)
    p = lev / m
    idx = iid(p, n, uniforms(seed, (n,), A))
    w = optimal_weights(p[idx], n, reweight)
    clock.stop("sampling")
    return drawn(idx, w, torch.arange(n, device=A.device), clock)


def uniform_flops(inputs: dict[str, Any], **_: Any) -> float:
    """No preprocessing: ``n`` scaled uniforms (counted as ``n`` flops)."""
    return float(draws_of(inputs["A"], inputs["factor"])[2])


@method("dpp_sampling", "uniform", kind="optimized", **TORCH, flops=uniform_flops, params={"seed": SEED})
def uniform(A: torch.Tensor, factor: float = 10.0, constant: float = 2.0, seed: int = 0) -> Any:
    """Uniform i.i.d. rows, unweighted: the baseline without preprocessing."""
    N, m, n = draws_of(A, factor)
    clock = Clock(A.device)
    clock.start()
    idx = torch.clamp((uniforms(seed, (n,), A) * N).long(), max=N - 1)
    w = torch.full((n,), N / n, dtype=A.dtype, device=A.device)
    clock.stop("sampling")
    return drawn(idx, w, torch.arange(n, device=A.device), clock)
