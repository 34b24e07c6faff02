"""Power iteration and subspace (block power) iteration.

**Power iteration** (von Mises; Golub and Van Loan, *Matrix Computations*, 4th ed., 2013,
section 7.3.1), ``k = 1``::

    w = A v,  m = v^T w,  v <- w / ||w||                 (one product per step)

converges to the dominant eigenvector when ``|l_1| > |l_2|``, the error in angle falling
like ``|l_2 / l_1|^t`` and the eigenvalue error like ``|l_2 / l_1|^(2t)``. It finds the
eigenvalue of largest *magnitude*: on an indefinite matrix whose most negative eigenvalue
is larger in magnitude it converges to that one (the cell is then inaccurate, rightly).

**Subspace iteration** (Rutishauser 1970; Saad, *Numerical Methods for Large Eigenvalue
Problems*, 2nd ed., 2011, Algorithm 5.3) with ``b = k + p`` columns::

    W = A V,  H = V^T W,  (theta, C) = top-k eig(H),  V <- orth(W)      (b products per step)

the Rayleigh-Ritz pairs ``(theta, V C)`` of the last step are returned. Eigenvector ``i``
converges like ``|l_(b+1) / l_i|^t``: oversampling ``p`` replaces the gap ``l_(k+1)/l_k``
by ``l_(b+1)/l_k``. Cost per step: ``b`` products, a QR of ``n x b`` (``4 n b^2``).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, TORCH, rayleigh_ritz, result, start_block
from .task import budget_flops


def only_one(inputs: dict[str, Any], **_: Any) -> str | None:
    return "power iteration finds one eigenpair (k = 1); subspace_iteration finds k" if inputs["k"] != 1 else None


@method("top_eig", "power_iteration", kind="optimized", **TORCH, flops=budget_flops, applies=only_one,
        params={"seed": SEED})
def power_iteration(A: Any, k: int = 1, budget: int = 200, seed: int = 0) -> WithInfo:
    """``budget`` power steps from a random start; the last Rayleigh quotient and vector."""
    v = start_block(A, 1, seed)
    m = torch.zeros(1, dtype=A.dtype, device=A.device)
    for _ in range(budget):
        w = A @ v
        m = (v * w).sum(dim=0)
        v = w / torch.linalg.vector_norm(w)
    return WithInfo(result(m, v), {"iterations": budget})


@method("top_eig", "subspace_iteration", kind="optimized", **TORCH, flops=budget_flops,
        params={"oversample": Param(int, 5, min=0, doc="extra columns p: b = k + p"), "seed": SEED})
def subspace_iteration(A: Any, k: int = 1, budget: int = 200, oversample: int = 5, seed: int = 0) -> WithInfo:
    """Block power iteration with Rayleigh-Ritz, ``budget // (k + oversample)`` steps."""
    b = min(k + oversample, A.n)
    steps = budget // b
    if steps < 1:
        raise ValueError(f"a budget of {budget} products is below one block of {b} columns")
    V = start_block(A, b, seed)
    for _ in range(steps):
        W = A @ V
        theta, X, _ = rayleigh_ritz(V, W, k)
        V = torch.linalg.qr(W).Q
    return WithInfo(result(theta, X), {"iterations": steps})
