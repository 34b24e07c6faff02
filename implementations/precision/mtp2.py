"""The M-matrix (MTP2) maximum-likelihood estimator, by projected gradient.

Slawski and Hein, "Estimation of positive definite M-matrices and structure learning for
attractive Gaussian Markov random fields", Linear Algebra Appl. 473, 2015; Lauritzen,
Uhler and Zwiernik, "Maximum likelihood estimation in Gaussian models under total
positivity", Ann. Statist. 47(4), 2019. A Gaussian is MTP2 (multivariate totally positive
of order 2) exactly when its precision is an M-matrix (Karlin and Rinott 1983), and its
MLE::

    minimize -log det T + tr(S T)   over symmetric positive definite T with T_ij <= 0 (i != j)

exists with probability one as soon as ``n >= 2`` (both papers; as the abstract of Ying et
al. 2023 recalls), far below ``n > p``: the sign
constraint is an implicit regularizer, and the estimate is sparse (many ``T_ij`` are 0
exactly). Its KKT conditions: ``(T^-1)_ii = S_ii``, ``(T^-1)_ij = S_ij`` on the estimated
graph, ``(T^-1)_ij >= S_ij`` off it (derived here from the Lagrangian of the sign
constraints; Lauritzen et al. characterize the MLE the same way). Solved by :func:`implementations.precision._pgd.projected_gradient`
with ``Lambda = 0`` (Slawski and Hein use block coordinate descent, Lauritzen et al. a
dual coordinate ascent; projected gradient is the solver of Ying et al. 2023).

Cost: about ``p^3`` flops per iteration (a Cholesky and an inverse); the iterations are
reported. Stops at the relative KKT residual ``tol`` (0: ``1e-7`` in float64, ``1e-3`` in
float32); a cell that hits ``max_iter`` is flagged with the residual it reached.
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, sample_covariance, tolerance
from ._pgd import diagonal_start, projected_gradient

SOLVER_PARAMS = {
    "tol": Param(float, 0.0, min=0.0, doc="relative KKT residual to stop at (0: 1e-7 float64, 1e-3 float32)"),
    "max_iter": Param(int, 5000, min=1, doc="projected-gradient iterations at most"),
}


@method("precision", "mtp2_mle", kind="optimized", **TORCH, params=SOLVER_PARAMS)
def mtp2_mle(X: torch.Tensor, tol: float = 0.0, max_iter: int = 5000) -> WithInfo:
    """Maximum likelihood over M-matrices (MTP2 Gaussians) by projected gradient."""
    S = sample_covariance(X)
    sol = projected_gradient(S, torch.zeros_like(S), diagonal_start(S), tolerance(tol, X.dtype), max_iter)
    return WithInfo(sol.T, {"iterations": sol.iterations}, failure=sol.failure)
