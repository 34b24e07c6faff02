"""Scaled Newton iteration for the polar factor of square nonsingular matrices.

N. J. Higham, "Computing the polar decomposition, with applications", SIAM J. Sci.
Stat. Comput. 7(4), 1986; Higham, *Functions of Matrices*, SIAM 2008, chapter 8.

Algorithm (Frobenius-norm scaling)::

    X_0 = G
    repeat steps times:
        z_k = (||X_k^{-1}||_F / ||X_k||_F)^{1/2}
        X_{k+1} = (z_k X_k + X_k^{-T} / z_k) / 2

Unscaled, each singular value follows ``s -> (s + 1/s) / 2``: quadratic convergence to
1 in the end, but only halving while ``s`` is large (or ``1/s`` is). The scaling
``z_k`` balances the largest and smallest singular values around 1 (it is the cheap
stand-in for the optimal ``(s_min s_max)^{-1/2}``), so that few steps suffice whatever
the conditioning. Measured in float64 on 128 x 128 inputs with log-uniform singular
values, steps to reach the rounding level: 6 for ``kappa = 1e2``, 7 for 1e4, 8 for 1e8
and 1e12. Near convergence ``z_k -> 1`` and the scaling fades out.

Needs a square nonsingular ``G``: the method declares (:func:`applies`) that it does not
apply to rectangular inputs, whose cells are then ``skipped`` (called directly on one,
it raises ``ValueError``); for an exactly singular one the inverse fails
(``torch.linalg.LinAlgError``), and a numerically singular one gives an inaccurate or
non-finite result. Stable: the inverse is backward stable enough in practice, and the
iteration is self-correcting.

Cost: one inverse a step, ``2 n^3`` flops (LU ``2/3 n^3`` and the inverse from the LU
factors ``4/3 n^3``; Golub & Van Loan, 4th ed., section 3.4), ``2 n^3 steps`` in all.
Not offered in bfloat16: PyTorch has no 16-bit inverse.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._iteration import check_batch


def newton_flops(inputs: Mapping[str, Any], steps: int = 10) -> float:
    batch, m, n = inputs["G"].shape
    return float(batch * steps * 2 * n**3)


def applies(inputs: Mapping[str, Any], **params: Any) -> str | None:
    """Square inputs only: the iteration inverts ``X``."""
    m, n = inputs["G"].shape[-2:]
    return None if m == n else f"scaled Newton needs square matrices; got {m} x {n}"


@method(
    "polar",
    "newton",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={"steps": Param(int, 10, min=1, doc="number of scaled Newton steps (one inverse each)")},
    flops=newton_flops,
    applies=applies,
)
def newton(G: torch.Tensor, steps: int = 10) -> torch.Tensor:
    """Scaled Newton ``X <- (z X + X^{-T} / z) / 2`` (Higham 1986), square nonsingular G only."""
    check_batch(G)
    if G.shape[-1] != G.shape[-2]:
        raise ValueError(
            f"scaled Newton needs square nonsingular matrices, found {G.shape[-2]} x {G.shape[-1]}; "
            "use qdwh or a Newton-Schulz method for rectangular ones"
        )
    X = G
    for _ in range(steps):
        Xinv = torch.linalg.inv(X)
        z = torch.sqrt(torch.linalg.matrix_norm(Xinv, keepdim=True) / torch.linalg.matrix_norm(X, keepdim=True))
        # (z X + X^{-T} / z) / 2, written as one fused multiply-add over X^{-T}
        X = torch.addcmul(Xinv.mT * (0.5 / z), X, 0.5 * z)
    return X
