"""XTrace and XNysTrace: exchangeable trace estimators that use every sample twice.

E. N. Epperly, J. A. Tropp and R. J. Webber, "XTrace: making the most of every sample in
stochastic trace estimation", SIAM J. Matrix Anal. Appl. 45(1), 2024. The formulas below
are the paper's efficient implementations (its Algorithms 2 and 3, as in ``xtrace_helper.m``
and ``xnystrace_helper.m`` of github.com/eepperly/XTrace, read for the order of the
terms); probes are Gaussian columns normalized to length ``sqrt(n)`` with the paper's
"improved" rescaling.

**XTrace** (``s = floor(m/2)`` probes ``Om``): for each ``i``, the low-rank approximation
is built from all probes but ``omega_i`` and ``omega_i`` estimates the trace of the
rest (leave-one-out, like Hutch++ with the roles exchanged); the ``s`` estimates are
averaged. All of them come from one QR::

    Y = A Om,  Q R = Y,  Z = A Q                                   (2 s products)
    W = Q^T Om,  S = cols(R^-T) normalized,  H = Q^T Z,  T = Z^T Om
    t_i = tr H - (S^T H S)_ii + scale_i * ( -(T^T W)_ii + (W^T H W)_ii
          + (S^T W)_ii (S^T (R - H W))_ii + (S^T W)_ii^2 (S^T H S)_ii
          + ((T - H^T W)^T S)_ii (S^T W)_ii )
    scale_i = (n - s + 1) / (n - ||W e_i||^2 + (S^T W)_ii^2)
    t = mean_i t_i

**XNysTrace** (positive semidefinite ``A``; ``m`` probes, one pass)::

    nu = eps ||Y||_F / sqrt(n),  Y <- A Om + nu Om,  Q R = Y
    C^T C = Om^T Y,  B = R C^-1                         (Nystrom: A_hat = Q B B^T Q^T)
    W = Q^T Om,  S = B C^-T diag(H^-1)^(-1/2)
    t_i = ||B||_F^2 - ||S e_i||^2 + scale_i (S^T W)_ii^2 - nu n

Both are exact when ``rank A`` is below the number of probes minus one, and on fast
decaying spectra they are orders of magnitude ahead of Hutch++ at equal products (the
paper's Figure 1). Cost: ``m`` products, QRs of ``n x s`` and small ``s x s`` work
(``O(n s^2)``).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.registry import method

from ._common import SEED, TORCH, diag_prod, draw, trace_only
from .nystrompp import stable_nystrom
from .task import budget_flops


def _normalized_cols(M: torch.Tensor) -> torch.Tensor:
    return M / torch.linalg.vector_norm(M, dim=0)


def _inverse_upper(R: torch.Tensor) -> torch.Tensor:
    """``R^-1`` of an upper triangular ``R`` whose exact zero pivots (a rank-deficient sketch)
    are lifted to the rounding level, as MATLAB's ``inv`` would return huge, finite entries."""
    d = R.diagonal()
    tiny = torch.finfo(R.dtype).eps * torch.linalg.matrix_norm(R)
    R = R - torch.diag(d) + torch.diag(torch.where(d.abs() > tiny, d, torch.where(d < 0, -tiny, tiny)))
    eye = torch.eye(R.shape[-1], dtype=R.dtype, device=R.device)
    return torch.linalg.solve_triangular(R, eye, upper=True)


def _scale(W: torch.Tensor, S: torch.Tensor, n: int) -> torch.Tensor:
    """The "improved" rescaling of normalized Gaussian probes (XTrace, section 2.3)."""
    s = W.shape[-1]
    return (n - s + 1) / (n - torch.linalg.vector_norm(W, dim=0) ** 2 + diag_prod(S, W) ** 2)


@method("trace_logdet", "xtrace", kind="optimized", **TORCH, flops=budget_flops, applies=trace_only, params={"seed": SEED})
def xtrace(A: Any, quantity: str = "trace", budget: int = 100, seed: int = 0) -> torch.Tensor:
    """XTrace with ``2 floor(budget/2)`` products (see the module docstring)."""
    n, s = A.n, budget // 2
    if s < 2:
        raise ValueError(f"XTrace needs a budget of at least 4 products (2 probes), got {budget}")
    Om = draw(A, s, "improved", seed)
    Q, R = torch.linalg.qr(A @ Om)
    Z = A @ Q
    W = Q.mT @ Om
    S = _normalized_cols(_inverse_upper(R).mT)
    scale = _scale(W, S, n)
    H = Q.mT @ Z
    HW = H @ W
    T = Z.mT @ Om
    dSW, dSHS = diag_prod(S, W), diag_prod(S, H @ S)
    dTW, dWHW = diag_prod(T, W), diag_prod(W, HW)
    dSRmHW, dTmHRS = diag_prod(S, R - HW), diag_prod(T - H.mT @ W, S)
    ests = torch.trace(H) - dSHS + (-dTW + dWHW + dSW * dSRmHW + dSW**2 * dSHS + dTmHRS * dSW) * scale
    return ests.mean()


@method("trace_logdet", "xnystrace", kind="optimized", **TORCH, flops=budget_flops, applies=trace_only, params={"seed": SEED})
def xnystrace(A: Any, quantity: str = "trace", budget: int = 100, seed: int = 0) -> torch.Tensor:
    """XNysTrace with ``budget`` products (see the module docstring)."""
    n, m = A.n, budget
    if m < 2:
        raise ValueError(f"XNysTrace needs a budget of at least 2 products, got {budget}")
    Om = draw(A, m, "improved", seed)
    Y = A @ Om
    nu = torch.finfo(A.dtype).eps * torch.linalg.matrix_norm(Y) / n**0.5
    # Q R = Y_nu and B = R C^-1 is the same Nystrom factor as stable_nystrom's Y_nu C^-1 = Q B
    QB, C, nu = stable_nystrom(Y, Om, nu)
    Q, B = torch.linalg.qr(QB)
    QQ, RR = torch.linalg.qr(Om)
    WW = QQ.mT @ Om
    SS = _normalized_cols(_inverse_upper(RR).mT)
    scale = _scale(WW, SS, n)
    W = Q.mT @ Om
    Cinv = _inverse_upper(C)
    diag_Hinv = (Cinv * Cinv).sum(dim=1)  # H^-1 = C^-1 C^-T
    S = (B @ Cinv.mT) * diag_Hinv.rsqrt()
    dSW = diag_prod(S, W)
    ests = torch.linalg.matrix_norm(B) ** 2 - torch.linalg.vector_norm(S, dim=0) ** 2 + dSW**2 * scale - nu * n
    return ests.mean()
