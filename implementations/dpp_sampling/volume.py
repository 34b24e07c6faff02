"""Volume-rescaled sampling: an ``m``-point projection DPP plus ``n - m`` i.i.d. draws.

Dereziński, Warmuth and Hsu, "Correcting the bias in least squares regression with
volume-rescaled sampling", AISTATS 2019 (arXiv:1810.02453). For a density ``q`` on the
rows, size-``n`` volume-rescaled sampling draws the sequence ``(i_1..i_n)`` with
probability ``proportional to det(sum_k a_k a_k^T / q_k) prod_k q_k``; their Theorem (the
decomposition ``VS_q^n = VS_q^m + q^(n - m)``) samples it as

    S_1 = an m-point volume sample (here: the projection DPP of U U^T, P(S) ∝ det(A_S)^2,
          which does not depend on q: the q's cancel at size m)
    S_2 = n - m i.i.d. draws from q
    weights w_k = 1 / (n q_{i_k}) on all n draws, fit the weighted least squares

and the weighted fit is **unbiased**, ``E[x_S] = x*``, for every ``n >= m`` (i.i.d.
leverage sampling is not). ``volume_rescaled`` takes ``q = l / m`` (leverage scores: the
"leveraged volume sampling" of Dereziński, Warmuth and Hsu, NeurIPS 2018, with the tail
bound ``n = O(m log m + m / eps)`` for a ``1 + eps`` loss); ``volume`` takes ``q`` uniform
(equal weights: the plain fit on the draws), i.e. volume sampling with replacement, whose
loss is unbiased too but, for ``n >> m``, as poor as uniform sampling on a coherent ``A``
(their lower bound). At ``n = m`` both are exactly size-``m`` volume sampling. Cost: the QR,
one DPP (``2 N m^2``) and ``O(N + n log N)`` draws. Blocks: the DPP, then one per draw.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.registry import method

from ._common import SEED, TORCH, dpp_flops, draws_of, drawn, iid, optimal_weights, qr_flops, timed_basis, uniforms
from .projection_dpp import projection_dpp


def volume_flops(inputs: dict[str, Any], **_: Any) -> float:
    N, m, _n = draws_of(inputs["A"], inputs["factor"])
    return qr_flops(N, m) + dpp_flops(N, m) + N


def rescaled(A: torch.Tensor, factor: float, seed: int, leveraged: bool) -> Any:
    """The DPP, then ``n - m`` i.i.d. draws from ``q`` (leverage or uniform), weights ``1 / (n q)``."""
    N, m, n = draws_of(A, factor)
    clock, U, lev = timed_basis(A)
    u = uniforms(seed, (n,), U)
    first = projection_dpp(U, u[None, :m])[0]
    q = lev / m if leveraged else torch.full((N,), 1.0 / N, dtype=A.dtype, device=A.device)
    idx = torch.cat([first, iid(q, n - m, u[m:])])
    w = optimal_weights(q[idx], n, True)
    blocks = torch.cat([torch.zeros(m, dtype=torch.long, device=A.device),
                        torch.arange(1, n - m + 1, device=A.device)])
    clock.stop("sampling")
    return drawn(idx, w, blocks, clock)


@method("dpp_sampling", "volume_rescaled", kind="optimized", **TORCH, flops=volume_flops, params={"seed": SEED})
def volume_rescaled(A: torch.Tensor, factor: float = 10.0, constant: float = 2.0, seed: int = 0) -> Any:
    """Leveraged volume-rescaled sampling (Dereziński, Warmuth and Hsu 2019): DPP + i.i.d. leverage draws."""
    return rescaled(A, factor, seed, leveraged=True)


@method("dpp_sampling", "volume", kind="optimized", **TORCH, flops=volume_flops, params={"seed": SEED})
def volume(A: torch.Tensor, factor: float = 10.0, constant: float = 2.0, seed: int = 0) -> Any:
    """Volume sampling with replacement (Dereziński, Warmuth and Hsu 2019, q uniform): DPP + uniform draws."""
    return rescaled(A, factor, seed, leveraged=False)
