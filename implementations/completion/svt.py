"""Singular value thresholding (Cai, Candès and Shen, "A singular value thresholding
algorithm for matrix completion", SIAM J. Optim. 2010, section 5.1.1).

Shrinkage iterations on the dual variable ``Y``:

    X_k = S_tau(Y_{k-1}),    Y_k = Y_{k-1} + delta P_Omega(observed - X_k),

``S_tau`` the singular value soft-threshold. It converges to the minimizer of ``tau
||X||_* + 1/2 ||X||_F^2`` subject to ``P_Omega(X) = observed`` for ``0 < delta < 2``
(Theorem 4.2), which is near the nuclear-norm minimizer when ``tau`` is large. The
paper's parameters: ``tau = 5 n`` for its matrices, whose entries have root mean square
``sqrt(r)`` (products of Gaussian factors), here ``tau = 5 sqrt(m n) rms(observed) /
sqrt(r)`` (the same threshold at the matrix's own scale); ``delta = 1.2 m n / |Omega|`` (above the theorem's 2 whenever less than 60% is seen: the
paper's choice works near its sampling rates; far below them ``Y`` grows without bound,
and the cell is ``inaccurate`` with "diverged");
the start ``Y_0 = k_0 delta P_Omega(observed)`` with ``k_0 = ceil(tau / (delta ||P_Omega
observed||_2))`` (the first iterations that would give ``X = 0``); stop when the observed
relative residual is below ``tol = 1e-4`` (the paper's), or at ``max_iter`` (then the
cell is ``inaccurate``; the residual of this dual ascent is not monotone, so there is no
stall rule). The SVD is
dense (``torch.linalg.svd``, about ``4 m n^2 + 8 n^3`` flops an iteration): the paper
uses a partial Lanczos SVD (PROPACK) for its large sizes; ``Y`` is sparse there and dense
here.
"""

from __future__ import annotations

import math

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import TORCH, Callback, Monitor


@method("completion", "svt", kind="optimized",
        params={"max_iter": Param(int, 500, min=1, doc="iteration cap (SVDs)"),
                "tol": Param(float, 1e-4, min=0.0, doc="stop at this observed relative residual (the paper's 1e-4)"),
                "tau_factor": Param(float, 5.0, min=0.0, doc="tau in units of sqrt(m n) rms(observed) / sqrt(r)")},
        **TORCH)
def svt(observed: torch.Tensor, mask: torch.Tensor, rank: int, max_iter: int = 500, tol: float = 1e-4,
        tau_factor: float = 5.0, callback: Callback = None) -> WithInfo:
    """Singular value thresholding with the paper's parameters (module docstring)."""
    m, n = observed.shape
    count = float(mask.sum())
    rms = float(torch.linalg.vector_norm(observed)) / math.sqrt(count)
    tau = tau_factor * math.sqrt(m * n) * rms / math.sqrt(rank)
    delta = 1.2 * m * n / count
    k0 = math.ceil(tau / (delta * float(torch.linalg.matrix_norm(observed, ord=2))))
    Y = k0 * delta * observed
    monitor = Monitor(observed, mask, tol, max_iter, callback)
    L, R = observed[:, :0], observed[:0]
    while True:
        if not bool(torch.isfinite(Y).all()):  # overflowed (delta > 2 lets it diverge): the last iterate, flagged
            monitor.stopped = "diverged"
            monitor.residuals.append(float("inf"))
            return monitor.result(L, R)
        U, s, Vh = torch.linalg.svd(Y, full_matrices=False)
        keep = s > tau
        L, R = U[:, keep] * (s[keep] - tau), Vh[keep]
        X = L @ R
        if monitor.update(L, R, settled=False):  # the dual ascent's residual is not monotone: no stall rule
            return monitor.result(L, R)
        Y = Y + delta * (observed - mask * X)
