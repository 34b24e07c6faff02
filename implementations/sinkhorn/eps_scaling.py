"""Epsilon scaling: log-domain Sinkhorn along a decreasing sequence of regularizations
(Kosowsky and Yuille, "The invisible hand algorithm", Neural Networks 1994; Schmitzer,
"Stabilized sparse scaling algorithms for entropy regularized transport problems", SIAM
J. Sci. Comput. 2019, section 3.2, Algorithm 3; Feydy et al., "Interpolating between
optimal transport and MMD using Sinkhorn divergences", AISTATS 2019, the annealing of
GeomLoss).

Start at ``reg_0 = max C - min C`` (where the plan is near ``a b^T``) and divide by
``1 / scaling`` at each stage, ``reg_k = max(reg, reg_0 scaling^k)``; at each
intermediate stage run ``inner`` log-domain iterations (:mod:`.log_domain`) from the
previous stage's potentials (``f``, ``g`` carry over in the units of the cost), then
iterate at ``reg`` itself under the stopping rule (:mod:`._common`). The potentials at
``reg_k`` are a good start at ``reg_{k+1}``: at small ``reg`` Sinkhorn's slow phase is the
global transport of mass, which the coarse stages do cheaply, so the final stage starts
near its linear regime. Cost ``8 n m`` flops an iteration as the log domain,
``inner ceil(log(reg_0 / reg) / log(1 / scaling))`` iterations before the last stage (all
counted in ``iterations``). Batched over leading axes.
"""

from __future__ import annotations

import math

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import CHECK_EVERY, TORCH, Stopping
from .task import tolerance
from .log_domain import log_plan, sweeps


def schedule(spread: float, reg: float, scaling: float) -> list[float]:
    """The intermediate regularizations ``reg_0 scaling^k > reg``, ``reg_0 = spread``."""
    if spread <= reg:
        return []
    stages = math.ceil(math.log(spread / reg) / math.log(1 / scaling))
    return [spread * scaling**k for k in range(stages) if spread * scaling**k > reg]


def anneal(C: torch.Tensor, a: torch.Tensor, b: torch.Tensor, reg: float, scaling: float, inner: int
           ) -> tuple[torch.Tensor, int]:
    """The column potential ``g`` (units of the cost) after the intermediate stages, and
    the iterations they ran."""
    g = torch.zeros_like(b)
    spread = float((C.amax(dim=(-2, -1)) - C.amin(dim=(-2, -1))).max())
    done = 0
    for eps in schedule(spread, reg, scaling):
        _, G, t = sweeps(C / eps, a, b, g / eps, inner)
        g, done = G * eps, done + t
    return g, done


@method("sinkhorn", "eps_scaling", kind="optimized", **TORCH, params={
    "scaling": Param(float, 0.5, min=0.01, max=0.99, doc="ratio of two successive regularizations"),
    "inner": Param(int, 3, min=1, doc="iterations at each intermediate regularization"),
    "check_every": CHECK_EVERY,
})
def eps_scaling(a: torch.Tensor, b: torch.Tensor, C: torch.Tensor, reg: float, tol: float = 1e-7,
                max_iter: int = 1000, scaling: float = 0.5, inner: int = 3, check_every: int = 10) -> WithInfo:
    """Log-domain Sinkhorn along ``reg_0 scaling^k`` down to ``reg`` (module docstring)."""
    g, done = anneal(C, a, b, reg, scaling, inner)
    Cr = C / reg
    stop = Stopping(tolerance(tol, C.dtype), max_iter)
    F, G, t = sweeps(Cr, a, b, g / reg, max(max_iter - done, 1), stop, check_every, done)
    return WithInfo(log_plan(F, G, Cr), {"iterations": done + t}, stop.failure)
