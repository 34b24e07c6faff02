"""Stochastic Lanczos quadrature (SLQ) for ``tr(f(A))``: ``log det A`` and ``tr A``.

S. Ubaru, J. Chen and Y. Saad, "Fast estimation of tr(f(A)) via stochastic Lanczos
quadrature", SIAM J. Matrix Anal. Appl. 38(4), 2017 (Algorithm 1); G. H. Golub and G.
Meurant, *Matrices, Moments and Quadrature with Applications*, 2010, for the Gauss rule.

For each of ``p = floor(budget / steps)`` Rademacher probes ``v`` (``||v||^2 = n``), ``k =
floor(budget / p)`` Lanczos steps (``steps`` or a few more: the whole budget is spent) from ``v / ||v||`` give a tridiagonal ``T_k = Y diag(theta) Y^T``; its
Gauss quadrature rule approximates the quadratic form::

    v^T f(A) v ~= n sum_j tau_j^2 f(theta_j),    tau_j = e_1^T y_j
    tr f(A) ~= (1/p) sum_probes n sum_j tau_j^2 f(theta_j)

The ``p`` Lanczos recurrences run side by side, one block product ``A V`` (``p`` vectors)
per step, with full reorthogonalization of each against its own basis (``O(n k^2 p)``; it
keeps the Ritz values from duplicating in float32). A recurrence that breaks down
(``beta`` below ``n eps ||T||``: the Krylov space is invariant, e.g. ``A`` of low rank)
stops there and its rule uses the steps it has, which is exact. Error: the quadrature
error falls like ``((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^(2k)`` for ``f = log`` (Ubaru et
al., Theorem 4.2) and the Monte Carlo error like ``1/sqrt(p)``. Cost: ``k p`` products plus
``O(n k^2 p)``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import SEED, TORCH, draw
from .task import budget_flops

FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"trace": lambda x: x, "logdet": torch.log}


def lanczos_blocks(A: Any, V: torch.Tensor, steps: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(alpha, beta)`` of each column's Lanczos recurrence from ``V`` (``n x p``), run
    together: ``steps`` block products, fewer for a column that broke down."""
    n, p = V.shape
    Q = torch.zeros(steps, n, p, dtype=V.dtype, device=V.device)
    q = V / torch.linalg.vector_norm(V, dim=0)
    alphas, betas = [], []
    live = torch.ones(p, dtype=torch.bool, device=V.device)
    length = torch.full((p,), steps, dtype=torch.long)
    for j in range(steps):
        Q[j] = q
        w = A @ q
        a = (q * w).sum(dim=0)
        w = w - a * q - (betas[-1] * Q[j - 1] if j else 0)
        # full reorthogonalization against this column's own basis (twice is enough)
        for _ in range(2):
            w = w - torch.einsum("jnp,jp->np", Q[: j + 1], torch.einsum("jnp,np->jp", Q[: j + 1], w))
        b = torch.linalg.vector_norm(w, dim=0)
        alphas.append(a)
        betas.append(b)
        scale = torch.stack(alphas).abs().amax(dim=0) + torch.stack(betas).amax(dim=0)
        broke = live & (b <= n * torch.finfo(V.dtype).eps * scale)
        for c in torch.nonzero(broke).flatten().tolist():
            length[c] = j + 1
        live = live & ~broke
        if not bool(live.any()) or j == steps - 1:
            break
        q = torch.where(live, w / torch.where(b > 0, b, 1), torch.zeros_like(w))
    a_all, b_all = torch.stack(alphas), torch.stack(betas)
    return [(a_all[: length[c], c], b_all[: length[c] - 1, c]) for c in range(p)]


def gauss_rule(alpha: torch.Tensor, beta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes ``theta`` and weights ``tau^2`` of the Gauss rule of a tridiagonal ``T``."""
    T = torch.diag(alpha) + torch.diag(beta, 1) + torch.diag(beta, -1)
    theta, Y = torch.linalg.eigh(T)
    return theta, Y[0] ** 2


@method("trace_logdet", "slq", kind="optimized", **TORCH, flops=budget_flops,
        params={"steps": Param(int, 15, min=1, doc="Lanczos steps per probe (k); probes = budget // k"),
                "seed": SEED})
def slq(A: Any, quantity: str = "trace", budget: int = 100, steps: int = 15, seed: int = 0) -> torch.Tensor:
    """SLQ estimate of ``tr f(A)`` (``f`` = identity or ``log``) with at most ``budget`` products."""
    # p probes of `steps` steps, the budget's remainder spread over them as extra steps
    p = max(1, budget // min(steps, A.n))
    k = min(budget // p, A.n)
    f = FUNCTIONS[quantity]
    V = draw(A, p, "rademacher", seed)
    total = torch.zeros((), dtype=A.dtype, device=A.device)
    for alpha, beta in lanczos_blocks(A, V, k):
        theta, w = gauss_rule(alpha, beta)
        total = total + (w * f(theta)).sum()
    return A.n * total / p
