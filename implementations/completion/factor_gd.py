"""Gradient descent on the factors (Ma, Wang, Chi and Chen, "Implicit regularization in
nonconvex statistical estimation", Found. Comput. Math. 2020, section 3.2; Sun and Luo,
IEEE Trans. Inf. Theory 2016; Zheng and Lafferty 2016).

From the spectral start ``X_0 = U_r s_r^{1/2}``, ``Y_0 = V_r s_r^{1/2}``, plain gradient
steps on

    f(X, Y) = 1/(4p) ||P_Omega(X Y^T) - observed||_F^2 + 1/16 ||X^T X - Y^T Y||_F^2,

whose second term balances the two factors (it removes the invertible ``r x r``
ambiguity's bad directions):

    R = P_Omega(X Y^T) - observed,   B = X^T X - Y^T Y,
    X <- X - eta (R Y / (2p) + X B / 4),   Y <- Y - eta (R^T X / (2p) - Y B / 4),

``eta = step / s_1`` with ``step = 0.5``, ``s_1`` the start's largest singular value
(Ma et al. take ``eta`` a constant over ``sigma_max``; no projection or explicit
incoherence regularizer is needed, their Theorem 2). Per iteration ``4 m n r`` flops for
``X Y^T`` and the two products with ``R``. Linear convergence at rate about
``1 - eta sigma_min / 2``: ``O(kappa log(1/eps))`` iterations.
"""

from __future__ import annotations

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, TOL, TORCH, Callback, Monitor, generator, spectral_start


@method("completion", "factor_gd", kind="optimized",
        params={"max_iter": Param(int, 2000, min=1, doc="iteration cap"),
                "step": Param(float, 0.5, min=0.0, doc="eta times the start's largest singular value"),
                "seed": SEED, "tol": TOL}, **TORCH)
def factor_gd(observed: torch.Tensor, mask: torch.Tensor, rank: int, max_iter: int = 2000, step: float = 0.5,
              seed: int = 0, tol: float = 0.0, callback: Callback = None) -> WithInfo:
    """Balanced gradient descent on ``(X, Y)`` (module docstring)."""
    p = float(mask.mean())
    U, s, V = spectral_start(observed, mask, rank, generator(seed, observed.device))
    X, Y = U * s.sqrt(), V * s.sqrt()
    eta = step / float(s[0])
    monitor = Monitor(observed, mask, tol, max_iter, callback)
    while True:
        R = mask * (X @ Y.T) - observed
        B = X.T @ X - Y.T @ Y
        X, Y = X - eta * (R @ Y / (2 * p) + X @ B / 4), Y - eta * (R.T @ X / (2 * p) - Y @ B / 4)
        if monitor.update(X, Y.T):
            return monitor.result(X, Y.T)
