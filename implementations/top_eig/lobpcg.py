"""LOBPCG: ours, and ``torch.lobpcg`` on the counted operator.

A. V. Knyazev, "Toward the optimal preconditioned eigensolver: locally optimal block
preconditioned conjugate gradient method", SIAM J. Sci. Comput. 23(2), 2001 (Algorithm
4.1, no preconditioner). Each step takes the Rayleigh-Ritz pairs of ``A`` on the span of
the iterate ``X``, the residuals ``R = A X - X Theta`` and the previous direction ``P``::

    AR = A R                                            (k products a step)
    S = [X, R, P],  AS = [AX, AR, AP]                   (AX, AP updated, never recomputed)
    S = U Sigma W^T,  Q = U, AQ = AS W Sigma^-1         (directions under sqrt(eps) dropped)
    (Theta, C) = top-k eig(Q^T AQ);  Y = W Sigma^-1 C
    X <- S Y,  AX <- AS Y,  P <- S[:, k:] Y[k:],  AP <- AS[:, k:] Y[k:]

The three-term span makes it a block conjugate-gradient for the Rayleigh quotient: it
converges like block Lanczos restarted every step with the best two previous directions
(Knyazev, section 4). Cost per step: ``k`` products and ``O(n k^2)`` (an SVD of
``n x 3k``). Dropping dependent directions (the SVD cutoff) is the usual guard against
the loss of orthogonality that plain Gram-Schmidt LOBPCG suffers in float32 (Hetmaniuk and
Lehoucq, J. Comput. Phys. 218, 2006).

``torch_lobpcg``: ``torch.lobpcg`` (its ``ortho`` variant, after Stathopoulos and Wu)
takes a tensor, not an operator; it is given a zero-stride placeholder of shape ``(n,
n)`` and, for the duration of the call, its product routine
(``torch._linalg_utils.matmul``) routes products with that placeholder to the counted
operator: it reads ``A`` through products only, as it would a sparse tensor. It needs ``n
>= 3 k``; its iteration count is set so that its products stay within the budget.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import torch

from matrixbench.registry import WithInfo, method

from ._common import SEED, TORCH, rayleigh_ritz, result, start_block
from .task import budget_flops


def _orthonormal_span(S: torch.Tensor, AS: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(Q, AQ, T)`` with ``Q = S T`` orthonormal, dependent directions of ``S`` dropped."""
    U, sig, Wh = torch.linalg.svd(S, full_matrices=False)
    keep = sig > torch.finfo(S.dtype).eps ** 0.5 * sig[0]
    T = Wh.mT[:, keep] / sig[keep]
    return U[:, keep], AS @ T, T


@method("top_eig", "lobpcg", kind="optimized", **TORCH, flops=budget_flops, params={"seed": SEED})
def lobpcg(A: Any, k: int = 1, budget: int = 200, seed: int = 0) -> WithInfo:
    """LOBPCG without preconditioner within ``budget`` products (see the module docstring)."""
    if budget < 2 * k:
        raise ValueError(f"a budget of {budget} products is below two blocks of {k}")
    X = start_block(A, k, seed)
    theta, X, AX = rayleigh_ritz(X, A @ X, k)
    spent, steps = k, 0
    P = AP = None
    eps = torch.finfo(A.dtype).eps
    while budget - spent >= k:
        R = AX - X * theta
        if torch.linalg.vector_norm(R, dim=0).max() <= 10 * eps * theta.abs().max():
            break  # converged to rounding: another step would only divide noise by noise
        R = R - X @ (X.mT @ R)
        # unit columns: a small residual is a scale, not a dependency, and must survive the
        # cutoff below (unnormalized, the angle stalled at sqrt(eps) = 1e-8 in float64)
        R = R / torch.linalg.vector_norm(R, dim=0).clamp_min(torch.finfo(A.dtype).tiny)
        if P is not None:
            scale = torch.linalg.vector_norm(P, dim=0).clamp_min(torch.finfo(A.dtype).tiny)
            P, AP = P / scale, AP / scale
        AR = A @ R
        spent += k
        S = torch.cat([X, R] + ([P] if P is not None else []), dim=1)
        AS = torch.cat([AX, AR] + ([AP] if AP is not None else []), dim=1)
        Q, AQ, T = _orthonormal_span(S, AS)
        H = Q.mT @ AQ
        vals, C = torch.linalg.eigh(0.5 * (H + H.mT))
        C = C[:, -k:].flip(-1)
        Y = T @ C
        theta = vals[-k:].flip(-1)
        X, AX = S @ Y, AS @ Y
        P, AP = S[:, k:] @ Y[k:], AS[:, k:] @ Y[k:]
        steps += 1
    return WithInfo(result(theta, X), {"iterations": steps})


@contextmanager
def _products_of(placeholder: torch.Tensor, A: Any) -> Iterator[None]:
    """``torch._linalg_utils.matmul(placeholder, B)`` becomes ``A @ B`` inside the block."""
    import torch._linalg_utils as lu

    original = lu.matmul

    def matmul(M: Any, B: torch.Tensor) -> torch.Tensor:
        return A @ B if M is placeholder else original(M, B)

    lu.matmul = matmul
    try:
        yield
    finally:
        lu.matmul = original


def needs_3k(inputs: dict[str, Any], **_: Any) -> str | None:
    A = inputs["A"]
    n = A["gram_factor"].shape[1] if isinstance(A, dict) else A.shape[0]
    return f"torch.lobpcg needs n >= 3 k; n = {n}, k = {inputs['k']}" if n < 3 * inputs["k"] else None


@method("top_eig", "torch_lobpcg", kind="baseline", **TORCH, flops=budget_flops, applies=needs_3k,
        params={"seed": SEED})
def torch_lobpcg(A: Any, k: int = 1, budget: int = 200, seed: int = 0) -> WithInfo:
    """``torch.lobpcg(largest=True)`` through the counted operator (see the module docstring)."""
    X0 = start_block(A, k, seed)
    placeholder = torch.zeros((), dtype=A.dtype, device=A.device).expand(A.n, A.n)
    # measured on this operator: k products to start, then about 4 k a step (its ortho
    # variant multiplies [R, P] and re-forms the basis): stay within the budget
    niter = max(1, (budget - k) // (4 * k) - 1)
    with _products_of(placeholder, A):
        values, vectors = torch.lobpcg(placeholder, k=k, X=X0, niter=niter, largest=True, tol=1e-30)
    return WithInfo(result(values, vectors), {"iterations": niter})
