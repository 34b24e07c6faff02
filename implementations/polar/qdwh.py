"""QDWH: the QR-based dynamically weighted Halley iteration for the polar factor.

Y. Nakatsukasa, Z. Bai, F. Gygi, "Optimizing Halley's iteration for computing the
matrix polar decomposition", SIAM J. Matrix Anal. Appl. 31(5), 2010; with the switch
to Cholesky of Y. Nakatsukasa and N. J. Higham, "Stable and efficient spectral divide
and conquer algorithms for the symmetric eigenvalue decomposition and the SVD", SIAM J.
Sci. Comput. 35(3), 2013 (Algorithm 3.1). Works on the tall orientation (``m >= n``;
a wide ``G`` is transposed), so every factored matrix is ``n x n`` or ``(m + n) x n``.

Algorithm::

    X_0 = G / alpha,  alpha = ||G||_F >= ||G||_2           (singular values in (0, 1])
    l_0 = 1 / ||R^{-1}||_F <= s_min(X_0),  X_0 = Q R        (a lower bound, clipped to [u, 1])
    repeat:
        a = h(l),  b = (a - 1)^2 / 4,  c = a + b - 1
        h(l) = sqrt(1 + d) + (1/2) sqrt(8 - 4 d + 8 (2 - l^2) / (l^2 sqrt(1 + d))),
        d = (4 (1 - l^2) / l^4)^{1/3}
        if c > 100:   [sqrt(c) X; I] = [Q1; Q2] R  (QR)
                      X <- (b/c) X + (a - b/c) / sqrt(c) Q1 Q2^T
        else:         Z = I + c X^T X = W W^T  (Cholesky)
                      X <- (b/c) X + (a - b/c) X Z^{-1}
        l <- l (a + b l^2) / (1 + c l^2)
    until |1 - l| <= 10 u and ||X_new - X||_F <= (5 u)^{1/3}

Each step applies the rational map ``s -> s (a + b s^2) / (1 + c s^2)``, chosen (the
"dynamical weights") so that the interval ``[l, 1]`` holding the singular values is
mapped as close to 1 as possible; Halley's fixed weights are ``(3, 1, 3)``. The bound
``l`` follows the same map. Convergence is cubic, and at most six steps are needed for
``kappa_2(G) <= 1e16`` in float64. The QR form is backward stable for any ``c``; the
Cholesky form is as accurate once ``c <= 100`` (Nakatsukasa and Higham 2013), and
cheaper. The batch shares the choice of form (QR while any matrix needs it) and the
number of steps (until every matrix has converged); ``l`` and the weights are per
matrix. ``u`` is the dtype's machine epsilon, or ``tol`` when given.

Cost per matrix (``m >= n``): the estimate of ``l_0`` ``2 m n^2 - n^3/3`` (R of a QR
and a triangular inverse); a QR step ``6 m n^2 + 8/3 n^3`` (Householder QR of the
``(m + n) x n`` stack ``2 n^2 (m + n) - 2/3 n^3``, forming its Q as much again, the
product ``Q1 Q2^T`` ``2 m n^2``); a Cholesky step ``4 m n^2 + n^3/3`` (``X^T X``, the
factorization, two triangular solves with ``m`` right-hand sides).
Not offered in bfloat16: PyTorch has no 16-bit QR or Cholesky.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._iteration import check_batch

#: Above this weight ``c`` a step uses the QR form, at or below it the Cholesky form.
CHOLESKY_MAX_C = 100.0

#: The worst case the FLOP model assumes: a float64 input with ``l_0 = 2^-53``, which
#: takes 6 steps, the first 2 in the QR form (see :func:`weights` and the tests).
WORST_STEPS, WORST_QR_STEPS = 6, 2


def weights(l: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The dynamical weights ``(a, b, c)`` for a lower bound ``l`` in ``(0, 1]`` (float64)."""
    l2 = l * l
    d = (4.0 * (1.0 - l2) / (l2 * l2)).pow(1.0 / 3.0)
    sq = torch.sqrt(1.0 + d)
    a = sq + 0.5 * torch.sqrt(8.0 - 4.0 * d + 8.0 * (2.0 - l2) / (l2 * sq))
    b = (a - 1.0) ** 2 / 4.0
    c = a + b - 1.0
    return a, b, c


def lower_bound(X: torch.Tensor, floor: float) -> torch.Tensor:
    """``1 / ||R^{-1}||_F``, a lower bound on ``s_min(X)`` (X tall), clipped to ``[floor, 1]``.

    ``s_min(X) = s_min(R) = 1 / ||R^{-1}||_2 >= 1 / ||R^{-1}||_F``. A singular ``R`` gives
    an infinite or NaN norm: the bound is then ``floor``. Returned in float64, (batch, 1, 1).
    """
    R = torch.linalg.qr(X, mode="r").R
    eye = torch.eye(R.shape[-1], dtype=R.dtype, device=R.device).expand_as(R)
    Rinv = torch.linalg.solve_triangular(R, eye, upper=True)
    l0 = 1.0 / torch.linalg.matrix_norm(Rinv, keepdim=True).double()
    l0 = torch.where(torch.isfinite(l0), l0, torch.zeros_like(l0))
    return l0.clamp(min=floor, max=1.0)


def qdwh_flops(inputs: Mapping[str, Any], steps: int = 10, tol: float = 0.0) -> float:
    """The estimate of ``l_0`` plus the worst case: 6 steps (2 QR, 4 Cholesky), at most ``steps``.

    An upper bound: a well-conditioned input converges in fewer steps (the ``iterations``
    and ``qr_iterations`` info metrics of each cell give the counts taken).
    """
    batch, m, n = inputs["G"].shape
    m, n = max(m, n), min(m, n)
    qr_steps = min(steps, WORST_QR_STEPS)
    chol_steps = min(steps, WORST_STEPS) - qr_steps
    per = (2 * m * n**2 - n**3 / 3) + qr_steps * (6 * m * n**2 + 8 * n**3 / 3) + chol_steps * (4 * m * n**2 + n**3 / 3)
    return float(batch * per)


@method(
    "polar",
    "qdwh",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={
        "steps": Param(int, 10, min=1, doc="cap on the number of steps (6 suffice for kappa <= 1e16)"),
        "tol": Param(float, 0.0, min=0.0, doc="u of the stopping test; 0: the dtype's machine epsilon"),
    },
    flops=qdwh_flops,
)
def qdwh(G: torch.Tensor, steps: int = 10, tol: float = 0.0) -> WithInfo:
    """QDWH (Nakatsukasa, Bai, Gygi 2010): dynamically weighted Halley, QR then Cholesky steps."""
    check_batch(G)
    transposed = G.shape[-2] < G.shape[-1]
    X = G.mT if transposed else G
    u = tol if tol > 0 else torch.finfo(G.dtype).eps
    n = X.shape[-1]
    eye = torch.eye(n, dtype=X.dtype, device=X.device)

    X = X / torch.linalg.matrix_norm(X, keepdim=True)  # alpha = ||G||_F bounds ||G||_2
    l = lower_bound(X, floor=u)
    change_tol = (5.0 * u) ** (1.0 / 3.0)
    m = X.shape[-2]
    qr_steps = 0
    converged = False
    for k in range(1, steps + 1):
        a, b, c = weights(l)
        l = (l * (a + b * l * l) / (1.0 + c * l * l)).clamp(max=1.0)
        # the float64 weights in the working dtype, (batch, 1, 1) each
        bc, ab = (b / c).to(X.dtype), (a - b / c).to(X.dtype)
        if float(c.max()) > CHOLESKY_MAX_C:
            qr_steps += 1
            sc = torch.sqrt(c).to(X.dtype)
            Q = torch.linalg.qr(torch.cat([sc * X, eye.expand(X.shape[0], n, n)], dim=-2)).Q
            Xn = torch.baddbmm(bc * X, Q[:, :m] * (ab / sc), Q[:, m:].mT)  # (b/c) X + (a - b/c)/sqrt(c) Q1 Q2^T
        else:
            Z = torch.bmm(X.mT, X).mul_(c.to(X.dtype))
            Z.diagonal(dim1=-2, dim2=-1).add_(1.0)  # Z = I + c X^T X
            W = torch.linalg.cholesky(Z)
            Xn = torch.addcmul(bc * X, ab, torch.cholesky_solve(X.mT, W).mT)  # (b/c) X + (a - b/c) X Z^{-1}
        change = float(torch.linalg.matrix_norm(Xn - X).max())
        X = Xn
        converged = float((1.0 - l).abs().max()) <= 10.0 * u and change <= change_tol
        if converged:
            break
    info = {"iterations": k, "qr_iterations": qr_steps}
    failure = None if converged else (
        f"no convergence after {steps} steps: last change {change:.2e} (tolerance {change_tol:.2e}), "
        f"bound 1 - l = {float((1.0 - l).abs().max()):.2e} (tolerance {10.0 * u:.2e})"
    )
    return WithInfo(X.mT if transposed else X, info, failure)
