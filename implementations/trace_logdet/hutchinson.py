"""Girard-Hutchinson trace estimator.

D. Girard, "A fast 'Monte-Carlo cross-validation' procedure for large least squares
problems with noisy data", Numer. Math. 56, 1989; M. F. Hutchinson, "A stochastic
estimator of the trace of the influence matrix for Laplacian smoothing splines", Comm.
Statist. Simul. Comput. 18(3), 1989.

With ``m = budget`` probes ``w_i`` (``E[w w^T] = I``)::

    t = (1/m) sum_i w_i^T A w_i = (1/m) sum (W * (A W))        (one block product, m vectors)

Unbiased; for Rademacher probes ``Var t = (2/m)(||A||_F^2 - sum a_ii^2)``, so a relative
error ``eps`` costs ``O(1/eps^2)`` products (Meyer et al. 2021 show this is tight for
non-adaptive estimators without low-rank deflation). Cost: ``m`` products plus ``2 n m``.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._common import PROBES, SEED, TORCH, draw, trace_only
from .task import budget_flops


@method("trace_logdet", "hutchinson", kind="optimized", **TORCH, flops=budget_flops, applies=trace_only,
        params={"probes": Param(str, "rademacher", choices=PROBES, doc="distribution of the probe vectors"),
                "seed": SEED})
def hutchinson(A: Any, quantity: str = "trace", budget: int = 100, probes: str = "rademacher",
               seed: int = 0) -> torch.Tensor:
    """``(1/m) sum_i w_i^T A w_i`` over ``m = budget`` probes, in one block product."""
    W = draw(A, budget, probes, seed)
    return (W * (A @ W)).sum() / budget
