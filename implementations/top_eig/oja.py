"""Oja's streaming update: one pass over the data rows of a covariance.

E. Oja, "Simplified neuron model as a principal component analyzer", J. Math. Biol. 15,
1982; the block (mini-batch) form with an orthonormalization per batch is the noisy power
method of Hardt and Price (NeurIPS 2014) and the streaming PCA of Jain et al. (COLT 2016).
With ``A = J^T J`` and ``J``'s rows ``x_t / sqrt(N)`` arriving in batches ``J_b`` of ``B``
rows::

    W = (N / B) J_b^T (J_b V),  V <- orth(V + lr W / ||W||_2)      (one pass: N / B updates)

``(N / B) J_b^T J_b`` is an unbiased estimate of ``A`` from the batch, so each update is a
step of the power method on a noisy ``I + lr A / l_1`` (``||W||_2`` estimates ``l_1``):
the step is scale-free, as Oja's ``eta_t`` must be tuned to ``1/l_1`` (with a fixed
``eta = 1`` on MiniLM's embedding covariance, whose top eigenvalue is far below 1, the pass
did not move the start block: angle 0.96-1.0, measured). Direction ``i`` grows like ``(1 +
lr l_i / l_1)`` an update. After the pass the Rayleigh-Ritz pairs
on ``span(V)`` take ``k`` products of ``A`` (counted; the rows themselves are not
products). Only for ``form: covariance``, whose operator carries its rows (``factor``); the
budget does not apply: one pass is the method. Cost: ``4 N k`` per pass plus a QR of
``n x k`` per batch.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, TORCH, rayleigh_ritz, result, start_block
from .task import budget_flops


def streams(inputs: dict[str, Any], **_: Any) -> str | None:
    return None if isinstance(inputs["A"], Mapping) else "Oja's method reads data rows: it needs form: covariance"


@method("top_eig", "oja", kind="optimized", **TORCH, flops=budget_flops, applies=streams,
        params={"batch": Param(int, 64, min=1, doc="rows per update B"),
                "lr": Param(float, 1.0, min=0.0, doc="step of each update, relative to the batch's top eigenvalue"),
                "seed": SEED})
def oja(A: Any, k: int = 1, budget: int = 200, batch: int = 64, lr: float = 1.0, seed: int = 0) -> WithInfo:
    """One pass of block Oja over ``A.factor``'s rows, then Rayleigh-Ritz (see the module docstring)."""
    J = A.factor
    if J is None:
        raise ValueError("Oja's method needs the data rows of a covariance (form: covariance)")
    N = J.shape[0]
    V = start_block(A, k, seed)
    updates = 0
    for lo in range(0, N, batch):
        Jb = J[lo:lo + batch]
        W = (N / Jb.shape[0]) * (Jb.mT @ (Jb @ V))
        top = torch.linalg.matrix_norm(W, ord=2)
        V = torch.linalg.qr(V + lr * W / torch.where(top > 0, top, 1)).Q
        updates += 1
    theta, X, _ = rayleigh_ritz(V, A @ V, k)
    return WithInfo(result(theta, X), {"iterations": updates})
