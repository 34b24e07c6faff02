"""Exact projection DPPs by the chain rule, and repeated projection DPPs for weighted least squares.

**Projection DPP** of the kernel ``K = U U^T`` (``U`` an ``N x m`` orthonormal basis of
range(A)): a random ``m``-subset ``S`` with ``P(S) = det(K_S) = det(U_S)^2 =
det(A_S)^2 / det(A^T A)``, i.e. volume sampling of size ``m``; its marginals are
``P(i in S) = K_ii = l_i``, the leverage scores. Sampled by the spectral algorithm's
second phase (Hough, Krishnapur, Peres and Virág, "Determinantal processes and
independence", Probab. Surveys 3, 2006, Algorithm 18; Kulesza and Taskar, "Determinantal
point processes for machine learning", FnT ML 5, 2012, Algorithm 1) in its Gram-Schmidt
form (as in Gillenwater's thesis, 2014, and DPPy's ``proj_dpp_sampler_eig_GS``, read for
the facts only): with ``d_i = ||U_i||^2`` and no directions yet, for ``t = 1..m``::

    draw s_t with probability d_i / (m - t + 1)           (d is the mass left off span(e))
    e_t = (U_{s_t} - sum_{j<t} <U_{s_t}, e_j> e_j), normalized    (Gram-Schmidt, done twice)
    d_i <- d_i - <U_i, e_t>^2  for all i                     (2 N m flops)

``d_i = ||P_perp U_i||^2`` is ``K_ii - K_{i,S}K_S^-1 K_{S,i}``, the Schur complement of the
chain rule; a drawn row's mass is then 0, so the ``m`` indices are distinct and ``U_S``
(hence ``A_S``) is nonsingular with probability one. Cost ``2 N m^2 + O(N m + m^3)`` per
sample after the ``O(N m^2)`` QR; ``r`` independent samples run as one batch (the products
``U e_t`` become one ``N x m`` by ``m x r`` product a step).

**Repeated projection DPPs** (Nouy and Michel, "Weighted least-squares approximation with
determinantal point processes and generalized volume sampling", arXiv:2312.14057, 2023,
section on independent repetitions): the union of ``r = n / m`` independent projection
DPPs, each drawn row weighted by the optimal weight of i.i.d. optimal sampling, ``w_i =
1 / (n p_i)`` with ``p_i = l_i / m`` (their ``m / K(x, x)`` with the uniform measure on the
rows; scaled so that ``E sum_k w_k a_k a_k^T = A^T A``, since each DPP includes row ``i``
with probability ``l_i``). They prove error bounds like those of i.i.d. optimal sampling
(quasi-optimality in expectation, with the stability event ``||G - I|| <= 1/2`` of the
empirical Gram matrix) and observe far fewer samples needed in practice; a single DPP
(``r = 1``) interpolates ``m`` rows, with expected loss ``(m + 1) ||r*||^2`` (Dereziński
and Warmuth, "Unbiased estimates for linear regression via volume sampling", NeurIPS
2017). ``weighted=False`` fits the union unweighted (the DPP marginals are then an
unweighted leverage-score design: biased, as unweighted leverage sampling is). Blocks:
one per DPP.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import (SEED, TORCH, categorical, dpp_flops, draws_of, drawn, optimal_weights, qr_flops, timed_basis,
                      uniforms)


def projection_dpp(U: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``r`` independent projection DPP samples of ``U U^T`` (``U`` ``N x m`` orthonormal),
    one per row of the uniforms ``u`` (``r x m``): an ``r x m`` index tensor, each row in
    the order drawn (module docstring)."""
    N, m = U.shape
    r = u.shape[0]
    mass = (U * U).sum(dim=1).expand(r, N).clone()
    E = torch.zeros((r, m, m), dtype=U.dtype, device=U.device)  # e_1..e_t of each sample, as rows
    picks = torch.empty((r, m), dtype=torch.long, device=U.device)
    rows = torch.arange(r, device=U.device)
    for t in range(m):
        s = categorical(mass, u[:, t])
        picks[:, t] = s
        e = U[s]
        for _ in range(2):  # classical Gram-Schmidt twice ("twice is enough", Giraud et al. 2005)
            if t:
                e = e - torch.einsum("rk,rkm->rm", torch.einsum("rkm,rm->rk", E[:, :t], e), E[:, :t])
        e = e / torch.linalg.vector_norm(e, dim=1, keepdim=True)
        E[:, t] = e
        mass -= (e @ U.T) ** 2
        mass.clamp_(min=0.0)
        mass[rows.unsqueeze(1), picks[:, : t + 1]] = 0.0  # rounding must not let a drawn row back in
    return picks


def repeated_flops(inputs: dict[str, Any], **_: Any) -> float:
    N, m, n = draws_of(inputs["A"], inputs["factor"])
    return qr_flops(N, m) + (n // m) * dpp_flops(N, m)


def whole_dpps(inputs: dict[str, Any], **_: Any) -> str | None:
    N, m, n = draws_of(inputs["A"], inputs["factor"])
    return None if n % m == 0 else f"does not apply: n = {n} draws is not a whole number of {m}-point DPPs"


@method("dpp_sampling", kind="optimized", **TORCH, flops=repeated_flops, applies=whole_dpps,
        params={"seed": SEED, "weighted": Param(bool, True, doc="the optimal weights 1 / (n p_i); false: unweighted")})
def repeated_dpp(A: torch.Tensor, factor: float = 10.0, constant: float = 2.0, seed: int = 0,
                 weighted: bool = True) -> Any:
    """Nouy and Michel (2023): ``n / m`` independent projection DPPs, optimal weights."""
    N, m, n = draws_of(A, factor)
    clock, U, lev = timed_basis(A)
    r = n // m
    idx = projection_dpp(U, uniforms(seed, (r, m), U)).reshape(-1)
    w = optimal_weights(lev[idx] / m, n, weighted)
    blocks = torch.arange(r, device=A.device).repeat_interleave(m)
    clock.stop("sampling")
    return drawn(idx, w, blocks, clock)
