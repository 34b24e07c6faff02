"""LSQR in torch: C. C. Paige & M. A. Saunders, "LSQR: An algorithm for sparse linear
equations and sparse least squares", ACM Trans. Math. Softw. 8(1), 1982.

Solves ``min ||M y - c||`` using only products ``M v`` and ``M^T u``: Golub-Kahan
bidiagonalization of ``M`` started from ``c``, with the QR factorization of the
bidiagonal updated by one Givens rotation per step (their section 4, "Algorithm LSQR")::

    beta_1 u_1 = c,   alpha_1 v_1 = M^T u_1,   w_1 = v_1,   phibar_1 = beta_1,   rhobar_1 = alpha_1
    for i = 1, 2, ...
        beta_{i+1}  u_{i+1} = M v_i     - alpha_i u_i
        alpha_{i+1} v_{i+1} = M^T u_{i+1} - beta_{i+1} v_i
        rho_i = hypot(rhobar_i, beta_{i+1});  c_i = rhobar_i / rho_i;  s_i = beta_{i+1} / rho_i
        theta_{i+1} = s_i alpha_{i+1};  rhobar_{i+1} = -c_i alpha_{i+1}
        phi_i = c_i phibar_i;  phibar_{i+1} = s_i phibar_i
        y_i = y_{i-1} + (phi_i / rho_i) w_i;  w_{i+1} = v_{i+1} - (theta_{i+1} / rho_i) w_i

Mathematically CG on the normal equations ``M^T M y = M^T c``, but stabler. The
iterates' residual norms come for free: ``||r_i|| = phibar_{i+1}`` and ``||M^T r_i|| =
phibar_{i+1} alpha_{i+1} |c_i|`` (section 5.1), and ``||M||_F`` is estimated by
``sqrt(sum alpha_i^2 + beta_{i+1}^2)``. Stopping rules (section 6):

- S1 (consistent systems): ``||r_i|| <= tol ||c||``;
- S2 (the normal-equation residual, least squares): ``||M^T r_i|| / (||M|| ||r_i||) <= tol``.

Convergence: the error in the energy norm falls at least like
``2 ((kappa - 1) / (kappa + 1))^i`` (that of CG on ``M^T M``, ``kappa = kappa_2(M)``),
hence the preconditioning of the sketch-and-precondition methods: with ``kappa <= 6``
1e-10 takes about 70 steps, whatever ``kappa(A)``. Cost per step: one ``M v``, one
``M^T u`` and ``9 n + 5 m`` flops of vector updates (for dense ``A`` two passes over
the matrix, bound by memory bandwidth).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

Op = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class LSQRResult:
    y: torch.Tensor
    iterations: int
    converged: bool
    residual_norm: float  # ||c - M y|| estimated by the recurrence
    normal_residual: float  # ||M^T (c - M y)|| / (||M||_F ||c - M y||), the S2 quantity


def lsqr(matvec: Op, rmatvec: Op, c: torch.Tensor, n: int, *, tol: float = 1e-10, max_iter: int = 200) -> LSQRResult:
    """``argmin_y ||M y - c||`` from ``y_0 = 0``; ``matvec(v) = M v``, ``rmatvec(u) = M^T u``.

    Stops at S1 or S2 with ``tol``, or after ``max_iter`` steps (``converged=False``).
    Scalars are read back with ``.item()`` (one device sync per step on CUDA: the
    stopping test needs them on the host anyway).
    """
    y = torch.zeros(n, dtype=c.dtype, device=c.device)
    beta = torch.linalg.vector_norm(c).item()
    if beta == 0.0:  # c = 0: y = 0 is exact
        return LSQRResult(y, 0, True, 0.0, 0.0)
    u = c / beta
    v = rmatvec(u)
    alpha = torch.linalg.vector_norm(v).item()
    if alpha == 0.0:  # c ⟂ range(M): y = 0 is the least-squares solution
        return LSQRResult(y, 0, True, beta, 0.0)
    v = v / alpha
    w = v.clone()
    phibar, rhobar = beta, alpha
    c_norm, anorm2 = beta, 0.0
    ratio = 1.0
    for i in range(1, max_iter + 1):
        # bidiagonalization step
        u = matvec(v).sub_(u, alpha=alpha)
        beta = torch.linalg.vector_norm(u).item()
        if beta > 0.0:
            u.div_(beta)
        anorm2 += alpha * alpha + beta * beta
        v = rmatvec(u).sub_(v, alpha=beta)
        alpha = torch.linalg.vector_norm(v).item()
        if alpha > 0.0:
            v.div_(alpha)
        # Givens rotation eliminating beta_{i+1}
        rho = math.hypot(rhobar, beta)
        cs, sn = rhobar / rho, beta / rho
        theta = sn * alpha
        rhobar = -cs * alpha
        phi = cs * phibar
        phibar = sn * phibar
        # update y and the search direction w
        y.add_(w, alpha=phi / rho)
        w = v.sub(w, alpha=theta / rho)
        # stopping rules S1 (consistent) and S2 (normal-equation residual)
        r_norm = abs(phibar)
        ratio = abs(phibar * alpha * cs) / (math.sqrt(anorm2) * r_norm) if r_norm > 0.0 else 0.0
        if r_norm <= tol * c_norm or ratio <= tol:
            return LSQRResult(y, i, True, r_norm, ratio)
    return LSQRResult(y, max_iter, False, abs(phibar), ratio)
