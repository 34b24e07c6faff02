"""Sinkhorn's matrix scaling (Cuturi, "Sinkhorn distances: lightspeed computation of
optimal transport", NeurIPS 2013, Algorithm 1; Sinkhorn and Knopp, Pacific J. Math. 1967).

The entropic problem ``min <C, G> - reg H(G)`` over plans with marginals ``a``, ``b`` has
the solution ``G = diag(u) K diag(v)``, ``K = exp(-C / reg)``; alternate the two scalings

    v <- b / (K^T u),    u <- a / (K v)

from ``u = 1``. After the ``u`` update ``G 1 = a`` exactly and ``G^T 1 = v * (K^T u)``:
the product the next ``v`` update needs gives the stopping measure for free. Two
matrix-vector products, ``4 n m`` flops, an iteration; batched over leading axes
(``a`` (..., n), ``b`` (..., m), ``C`` (..., n, m)). The marginal error falls linearly
(Franklin and Lorenz, Linear Algebra Appl. 1989) at a rate that tends to 1 as ``reg``
falls; below ``reg ~ max C / 87`` (float32, ``exp`` underflows past ``-87``; ``-708`` in
float64) whole rows of ``K`` vanish and the division breaks down: the method then stops
with the reason (:mod:`._common`), which the log-domain form (:mod:`.log_domain`) avoids.
"""

from __future__ import annotations

import torch

from matrixbench.registry import WithInfo, method

from ._common import CHECK_EVERY, TORCH, Stopping, finite, l1
from .task import tolerance


def scaling_plan(u: torch.Tensor, K: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``diag(u) K diag(v)``."""
    return u.unsqueeze(-1) * K * v.unsqueeze(-2)


def vanished(K: torch.Tensor, C: torch.Tensor, reg: float) -> str | None:
    """Why ``K = exp(-C / reg)`` cannot be scaled (a whole row or column is 0), or None."""
    if bool((K.amax(dim=-1) > 0).all()) and bool((K.amax(dim=-2) > 0).all()):
        return None
    worst = max(float(C.amin(dim=-1).max()), float(C.amin(dim=-2).max())) / reg
    return f"exp(-C / reg) is 0 on a whole row or column (min C / reg = {worst:.0f} there)"


def mv(K: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``K x`` over the last axis (batched)."""
    return (K @ x.unsqueeze(-1)).squeeze(-1)


@method("sinkhorn", "sinkhorn", kind="optimized", params={"check_every": CHECK_EVERY}, **TORCH)
def sinkhorn(a: torch.Tensor, b: torch.Tensor, C: torch.Tensor, reg: float, tol: float = 1e-7,
             max_iter: int = 1000, check_every: int = 10) -> WithInfo:
    """Sinkhorn's alternate scaling ``v = b / K^T u``, ``u = a / K v`` (module docstring)."""
    K = torch.exp(-C / reg)
    Kt = K.transpose(-1, -2)
    stop = Stopping(tolerance(tol, C.dtype), max_iter)
    u = torch.ones_like(a)
    v = torch.ones_like(b)
    Ktu = mv(Kt, u)
    good = (u, v)
    why = vanished(K, C, reg)
    if why:
        stop.underflow(0, why)
        return WithInfo(scaling_plan(u, K, v), {"iterations": 0}, stop.failure)
    t = 0
    while True:
        v = b / Ktu
        Kv = mv(K, v)
        u = a / Kv
        Ktu = mv(Kt, u)
        t += 1
        if stop.due(t, check_every):
            if not finite(u, v, Ktu):
                u, v = good
                stop.underflow(t, "the scalings u, v overflowed (K v or K^T u has entries that underflow to 0)")
                break
            good = (u, v)
            if stop.update(l1(u * Kv - a), l1(v * Ktu - b), t):
                break
    return WithInfo(scaling_plan(u, K, v), {"iterations": t}, stop.failure)
