"""Coupled Newton-Schulz iteration for the square root and inverse square root.

Higham, *Functions of Matrices*, SIAM 2008, section 6.7 (Newton-Schulz iteration for
the matrix sign function applied to ``[[0, A], [I, 0]]``); used for deep networks by
Lin & Maji, "Improved bilinear pooling with CNNs", BMVC 2017, and benchmarked by Song,
Sebe & Wang, "Fast Differentiable Matrix Square Root", ICLR 2022.

Algorithm::

    c = ||A||_F;  Y_0 = A / c;  Z_0 = I
    repeat iters times:
        T = (3I - Z_k Y_k) / 2
        Y_{k+1} = Y_k T;   Z_{k+1} = T Z_k
    A^{1/2} ~ sqrt(c) Y;   A^{-1/2} ~ Z / sqrt(c)

Only matrix products: ``3 * 2 n^3`` flops a step, ``6 n^3 * iters`` per matrix.

Convergence: ``Y_k -> (A/c)^{1/2}`` and ``Z_k -> (A/c)^{-1/2}`` when ``||I - A/c|| < 1``,
which holds for SPD A since the eigenvalues of ``A/c`` lie in ``(0, 1]``. Quadratic in
the end, but at an eigenvalue ``w`` of ``Z_k Y_k`` (``w_0 = l / c``) a step maps
``w -> w (3 - w)^2 / 4``, only a factor 9/4 while ``w`` is small: about
``log(c / l_min) / log(9/4)`` steps before the quadratic phase, so ill-conditioned
matrices, and large ones (``c >= sqrt(n) l_min``), need more steps. Not
tolerance-driven: a fixed ``iters`` is fixed work.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method


def newton_schulz_flops(inputs: Mapping[str, Any], iters: int = 10) -> float:
    batch, n, _ = inputs["A"].shape
    return batch * iters * 3 * 2 * n**3


@method(
    "sqrtm",
    "newton_schulz",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={"iters": Param(int, 10, min=1, doc="number of Newton-Schulz steps (3 products each)")},
    flops=newton_schulz_flops,
    trace=True,
)
def newton_schulz(A: torch.Tensor, inverse: bool = False, iters: int = 10,
                  callback: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Coupled Newton-Schulz iteration (Higham 2008, section 6.7), matrix products only.

    ``callback`` (a convergence trace) gets each step's root estimate."""
    c = torch.linalg.matrix_norm(A, keepdim=True)  # ||A||_F, shape (batch, 1, 1)
    # The zero matrix: divide by 1, not 0. Y_k then stays exactly 0 (Z_k = 1.5^k I is
    # finite for fewer than 219 float32 steps) and sqrt(c) Y = 0 is the exact root; the
    # inverse root does not exist and comes out Inf (check_inputs rejects such A).
    Y = A / torch.where(c > 0, c, 1.0)
    Z = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device).expand_as(A)
    for _ in range(iters):
        T = -0.5 * (Z @ Y)
        T.diagonal(dim1=-2, dim2=-1).add_(1.5)  # T = (3I - Z Y) / 2
        Y, Z = Y @ T, T @ Z
        if callback is not None:
            callback(Z / c.sqrt() if inverse else Y * c.sqrt())
    return Z / c.sqrt() if inverse else Y * c.sqrt()
