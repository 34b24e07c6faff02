"""Greenkhorn: greedy Sinkhorn (Altschuler, Weed and Rigollet, "Near-linear time
approximation algorithms for optimal transport via Sinkhorn iteration", NeurIPS 2017,
Algorithm 2).

On the scaling form ``G = diag(u) K diag(v)``, ``K = exp(-C / reg)``, from
``G = K / ||K||_1``, update one row or one column at a time, the one whose marginal is
furthest off in the divergence ``rho(x, y) = y - x + x log(x / y)``:

    i = argmax_i rho(a_i, r_i(G)),  j = argmax_j rho(b_j, c_j(G)),
    if rho(a_i, r_i) > rho(b_j, c_j):  u_i <- a_i / (K v)_i   else  v_j <- b_j / (K^T u)_j,

keeping the row sums ``r`` and column sums ``c`` current (an update changes one of them
by one entry and the other by a scaled row or column of ``K``): ``O(n + m)`` flops a
step. ``n + m`` steps update as many scalings as one Sinkhorn iteration, so
``iterations`` counts steps divided by ``n + m`` (a fraction) and ``max_iter`` allows
``max_iter (n + m)`` steps. The paper bounds the steps to ``||G 1 - a||_1 + ||G^T 1 -
b||_1 <= eps'`` by ``O((n + m) log(n) ||C||_inf / (reg eps'))``-like terms (Theorem 4);
each step is sequential, one small kernel after another (a device sync per step on a
GPU: Python decides row or column). Every ``n + m`` steps the stopping rule
(:mod:`._common`) reads the tracked sums; every ``check_every`` of those, and before
stopping, they are recomputed exactly (the updates accumulate rounding). Underflow of
``K`` stops it with the reason, as Sinkhorn's scaling form. One problem at a time (the
greedy choice is per problem).
"""

from __future__ import annotations

import torch

from matrixbench.registry import WithInfo, method

from ._common import CHECK_EVERY, TORCH, Stopping, finite, l1
from .task import tolerance
from .sinkhorn import scaling_plan, vanished


def rho(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``y - x + x log(x / y)``, the paper's divergence of a marginal ``y`` from ``x``."""
    return y - x + x * torch.log(x / y)


@method("sinkhorn", "greenkhorn", kind="optimized", params={"check_every": CHECK_EVERY}, **TORCH)
def greenkhorn(a: torch.Tensor, b: torch.Tensor, C: torch.Tensor, reg: float, tol: float = 1e-7,
               max_iter: int = 1000, check_every: int = 10) -> WithInfo:
    """Greedy row or column scaling (module docstring)."""
    n, m = C.shape
    K = torch.exp(-C / reg)
    Kt = K.T.contiguous()
    stop = Stopping(tolerance(tol, C.dtype), max_iter)
    why = vanished(K, C, reg)
    if why:
        stop.underflow(0, why)
        return WithInfo(K, {"iterations": 0}, stop.failure)
    scale = float(K.sum()) ** -0.5
    u = torch.full_like(a, scale)
    v = torch.full_like(b, scale)
    r, c = u * (K @ v), v * (Kt @ u)
    good = (u.clone(), v.clone())
    steps, sweep = 0, n + m
    while True:
        rows, cols = rho(a, r), rho(b, c)
        i, j = int(torch.argmax(rows)), int(torch.argmax(cols))
        if float(rows[i]) > float(cols[j]):
            new = a[i] / (K[i] @ v)
            c += (new - u[i]) * K[i] * v
            u[i], r[i] = new, a[i]
        else:
            new = b[j] / (Kt[j] @ u)
            r += (new - v[j]) * Kt[j] * u
            v[j], c[j] = new, b[j]
        steps += 1
        if steps % sweep:
            continue
        sweeps = steps // sweep
        if not finite(u, v, r, c):
            u, v = good
            stop.underflow(sweeps, "a row or column of exp(-C / reg) underflows to 0, so its scaling is infinite")
            break
        good = (u.clone(), v.clone())
        err_a, err_b = l1(r - a), l1(c - b)
        if sweeps % check_every == 0 or max(err_a, err_b) <= stop.tol:  # exact sums: no drift, no false stop
            r, c = u * (K @ v), v * (Kt @ u)
            err_a, err_b = l1(r - a), l1(c - b)
        if stop.update(err_a, err_b, sweeps):
            break
    return WithInfo(scaling_plan(u, K, v), {"iterations": steps / sweep}, stop.failure)
