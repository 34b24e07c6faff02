"""The adaptive multi-stage weighted-l1 estimator of an M-matrix precision (MTP2 Gaussian).

Ying, Cardoso and Palomar, "Adaptive Estimation of Graphical Models under Total
Positivity", ICML 2023 (arXiv:2210.15471). Stage ``k = 1, ..., stages`` solves::

    T^(k) = argmin_{T in M}  -log det T + tr(S T) + sum_{i != j} lambda_ij^(k) |T_ij|

over M-matrices ``M`` (projected gradient, :mod:`implementations.precision._pgd`, warm
started from ``T^(k-1)``), with ``lambda_ij^(1) = lambda`` (stage 1 is the l1-penalized
MTP2 estimator) and, after that, weights from the derivative of a nonconvex sparsity
penalty at the previous estimate::

    lambda_ij^(k) = h'_lambda(|T_ij^(k-1)|),
    MCP  (Zhang 2010):        h'(t) = (lambda - t / gamma)_+                        (gamma = 2)
    SCAD (Fan and Li 2001):   h'(t) = lambda (t <= lambda),  (gamma lambda - t)_+ / (gamma - 1)
                                                                                    (gamma = 3.7)

so entries that the previous stage found large (``|T_ij| >= gamma lambda``) are no longer
penalized (no l1 shrinkage bias on the true edges) while small ones keep the full
weight: a local linear approximation of the nonconvex penalty (Zou and Li 2008). ``lambda
= lam sqrt(log p / n)`` (:func:`implementations.precision._common.penalty`).

What we used and could not check in the paper's text: the abstract and introduction (the
problem, the multi-stage weighted-l1 scheme, gradient projection with projections for
M-matrices and diagonally dominant M-matrices) are from the paper; the penalty (MCP by
default, SCAD as an option), ``gamma``, the number of stages (``stages``, default 4) and
the Barzilai-Borwein step are our choices, as the algorithm box was not available to us.
The diagonally dominant variant (another projection) is not implemented.

Each stage's KKT conditions (checked independently in the tests): ``(T^-1)_ii = S_ii``,
``(T^-1)_ij = S_ij - lambda_ij`` where ``T_ij < 0``, ``(T^-1)_ij >= S_ij - lambda_ij`` where
``T_ij = 0``. Cost: about ``p^3`` flops per projected-gradient iteration (a Cholesky and an
inverse); ``iterations`` reports their total over the stages.
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, sample_covariance, tolerance
from ._common import penalty as l1_weight  # the method's parameter `penalty` names the nonconvex penalty
from ._pgd import diagonal_start, projected_gradient
from .mtp2 import SOLVER_PARAMS

PENALTIES = ("mcp", "scad")
#: the concavity parameter of each penalty when ``gamma`` is 0: MCP's 2 (our choice) and
#: SCAD's 3.7 (Fan and Li 2001, a Bayes-risk argument)
DEFAULT_GAMMA = {"mcp": 2.0, "scad": 3.7}


def penalty_derivative(t: torch.Tensor, lam: float, kind: str = "mcp", gamma: float = 0.0) -> torch.Tensor:
    """``h'_lambda(t)`` for ``t >= 0`` (module docstring)."""
    g = gamma or DEFAULT_GAMMA[kind]
    if kind == "mcp":
        return torch.clamp(lam - t / g, min=0.0)
    if kind == "scad":
        return torch.where(t <= lam, torch.full_like(t, lam), torch.clamp(g * lam - t, min=0.0) / (g - 1.0))
    raise ValueError(f"unknown penalty {kind!r}: expected one of {', '.join(PENALTIES)}")


def off_diagonal(W: torch.Tensor) -> torch.Tensor:
    return W - torch.diag_embed(torch.diagonal(W))


def stage_weights(T: torch.Tensor | None, lam: float, kind: str, gamma: float, like: torch.Tensor) -> torch.Tensor:
    """``lambda^(1)`` (uniform) for ``T = None``, else ``h'(|T_ij|)``; zero diagonal."""
    W = torch.full_like(like, lam) if T is None else penalty_derivative(T.abs(), lam, kind, gamma)
    return off_diagonal(W)


@method("precision", "mtp2_adaptive", kind="optimized", **TORCH, params={
    "lam": Param(float, 1.0, min=0.0, doc="lambda as a multiple of sqrt(log p / n)"),
    "stages": Param(int, 4, min=1, doc="weighted-l1 stages (1: the l1-penalized MTP2 estimator)"),
    "penalty": Param(str, "mcp", choices=PENALTIES, doc="the nonconvex penalty whose derivative gives the weights"),
    "gamma": Param(float, 0.0, min=0.0, doc="its concavity parameter (0: 2 for MCP, 3.7 for SCAD)"),
    **SOLVER_PARAMS,
})
def mtp2_adaptive(X: torch.Tensor, lam: float = 1.0, stages: int = 4, penalty: str = "mcp", gamma: float = 0.0,
                  tol: float = 0.0, max_iter: int = 5000) -> WithInfo:
    """Adaptive multi-stage weighted-l1 M-matrix estimator (Ying, Cardoso and Palomar 2023)."""
    S = sample_covariance(X)
    n, p = X.shape
    alpha = l1_weight(lam, n, p)
    T, total, failure = diagonal_start(S), 0, None
    for stage in range(stages):
        Lam = stage_weights(None if stage == 0 else T, alpha, penalty, gamma, S)
        sol = projected_gradient(S, Lam, T, tolerance(tol, X.dtype), max_iter)
        T, total = sol.T, total + sol.iterations
        if sol.failure:
            failure = f"stage {stage + 1}: {sol.failure}"
            break
    return WithInfo(T, {"iterations": total}, failure=failure)

