"""M-FAC's static algorithm: the recursive Woodbury (Sherman-Morrison) inverse of the damped
empirical Fisher, in its coefficient form.

Frantar, Kurtic and Alistarh, "M-FAC: Efficient Matrix-Free Approximations of Second-Order
Information", NeurIPS 2021: the static algorithm. Add the gradients one at a
time, ``H_0 = lambda I``, ``H_i = H_{i-1} + g_i g_i^T / m``, ``F = H_m``; by Sherman-Morrison

    H_i^-1 = H_{i-1}^-1 - v_i v_i^T / q_i,   v_i = H_{i-1}^-1 g_i,   q_i = m + g_i^T v_i,

so ``F^-1 x = x / lambda - sum_i v_i (v_i^T x) / q_i`` and the ``v_i`` follow by the recursion
``v_i = g_i / lambda - sum_{j<i} v_j (v_j^T g_i) / q_j``. Storing the ``v_i`` costs a second
``m x d`` matrix; the coefficient form keeps only ``G`` and the lower-triangular ``m x m``
matrix ``B`` with ``v_i = sum_l B_il g_l`` (the ``coef`` matrix of the authors' code,
github.com/IST-DASLab/M-FAC, ``optim.py``, read for this fact only). With the Gram matrix
``K = G G^T`` the inner products are ``v_j^T g_i = (B K)_ji``, and the recursion runs on
``m x m`` numbers only::

    K = G G^T                                                        (2 m^2 d, one GEMM)
    for i = 1..m:  c_j = (B K)_ji / q_j  (j < i)
                   B_i = e_i / lambda - sum_{j<i} c_j B_j,  q_i = m + (B K)_ii   (4 i^2)
    X = V / lambda - G^T B^T diag(q)^-1 B (G V)                      (4 m d k + 4 m^2 k)

Setup ``2 m^2 d + 4 m^3 / 3`` flops, then ``4 m d + 4 m^2`` per product: the ``O(m^2 d)`` and
``O(m d + m^2)`` of the paper. No iteration, no tolerance: exact in exact arithmetic. The
denominators are at least ``m`` (``g^T H^-1 g >= 0``), so it never breaks down; in fact
``lambda B`` is the inverse of the unit lower factor of ``m I + K / lambda = L diag(q) L^T``
(an LDL^T without pivoting of a matrix whose eigenvalues are at least ``m``), and its error
is about ``u kappa(F)`` like the Cholesky-based :mod:`.woodbury`, which computes the same
coefficients by LAPACK's blocked factorization instead of the ``m``-step recursion.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.registry import method

from ._common import TORCH, check_damping, sizes


def mfac_coefficients(K: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``B`` (lower triangular) and ``q`` from the Gram matrix ``K`` by the recursion over
    the gradients (module docstring); ``m`` steps of two matrix-vector products."""
    m = K.shape[0]
    B = torch.zeros_like(K)
    q = torch.empty(m, dtype=K.dtype, device=K.device)
    for i in range(m):
        if i:
            c = (B[:i, :i] @ K[:i, i]) / q[:i]  # (B K)_ji / q_j: v_j^T g_i / q_j for j < i
            B[i, :i] = -(c @ B[:i, :i])
        B[i, i] = 1.0 / lam
        q[i] = m + B[i, : i + 1] @ K[: i + 1, i]
    return B, q


def mfac_apply(G: torch.Tensor, B: torch.Tensor, q: torch.Tensor, lam: float, V: torch.Tensor) -> torch.Tensor:
    """``F^-1 V = V / lambda - G^T B^T diag(q)^-1 B (G V)``."""
    W = (B @ (G @ V)) / q[:, None]  # v_j^T V / q_j
    return torch.addmm(V / lam, G.T, B.T @ W, alpha=-1.0)


def mfac_flops(inputs: dict[str, Any], **_: Any) -> float:
    m, d, k = sizes(inputs)
    return 2.0 * m * m * d + 4.0 * m**3 / 3.0 + k * (4.0 * m * d + 4.0 * m * m)


@method("ihvp", "mfac", kind="optimized", **TORCH, flops=mfac_flops)
def mfac(G: torch.Tensor, V: torch.Tensor, damping: float, history: Any = None) -> torch.Tensor:
    """M-FAC's static recursive Woodbury: ``m x m`` coefficients by the recursion, then products."""
    lam = check_damping(damping)
    B, q = mfac_coefficients(G @ G.T, lam)
    return mfac_apply(G, B, q, lam, V)
