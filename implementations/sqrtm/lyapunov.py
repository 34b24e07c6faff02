"""MPA-Lya and MTP-Lya: the Pade / Taylor forward with the Lyapunov-equation backward.

Song, Sebe & Wang, "Fast Differentiable Matrix Square Root", ICLR 2022, section 3.3. The
forward pass is :func:`implementations.sqrtm.pade.mpa` or :func:`~implementations.sqrtm.taylor.mtp`;
the backward pass does not differentiate through the polynomial but solves the
continuous-time Lyapunov equation of the square root's derivative,

    X G + G X = C,        X = A^{1/2},  C = dL/dX,  G = dL/dA,

with the matrix sign function: for ``H = [[X, C], [0, -X]]``,
``sign(H) = [[I, 2G], [0, -I]]`` (``H sign(H) = sign(H) H`` holds exactly when
``X G + G X = C``). The Newton-Schulz iteration for the sign, ``S <- S (3I - S^2) / 2``,
keeps the block form; on its blocks ``(B, D)``, from ``B_0 = X / ||X||_F`` and
``D_0 = C / ||X||_F`` (scaling ``H`` leaves its sign alone)::

    B_{k+1} = B_k (3I - B_k^2) / 2
    D_{k+1} = (-B_k^2 D_k + B_k D_k B_k + D_k (3I - B_k^2)) / 2
    G ~ D_K / 2

Cost: 5 products a step (``B^2``, ``B^2 D``, ``B D``, ``(B D) B``, ``D B^2``), ``10 n^3``
flops. Convergence: the eigenvalues of ``B_0`` lie in ``(0, 1]``; each grows by up to
1.5x a step until it nears 1, then converges quadratically, so about
``log_1.5(||X||_F / l_min(X)) + 4`` steps: 10 to 14 for ``cond(A) = 1e3`` at the sizes
of the suites (the paper uses a fixed number of steps, as here).

The inverse root ``Y = X^{-1}``: ``dY = -Y dX Y``, so ``dL/dX = -Y C Y``; multiplying
``X G + G X = -Y C Y`` by ``Y`` on both sides gives ``Y G + G Y = -Y^2 C Y^2``, the same
equation in ``Y`` (no inverse needed).
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from .pade import mpa, mpa_flops
from .taylor import mtp, mtp_flops

def mpa_lya_flops(inputs: Any, degree: int = 10, iters: int = 12) -> float:
    """The forward's (:func:`~implementations.sqrtm.pade.mpa_flops`); the backward is not timed by ``forward``."""
    return mpa_flops(inputs, degree)


def mtp_lya_flops(inputs: Any, degree: int = 10, iters: int = 12) -> float:
    return mtp_flops(inputs, degree)


ITERS = Param(int, 12, min=1, doc="Newton-Schulz steps of the backward's sign iteration (5 products each)")


def lyapunov_sign(B: torch.Tensor, C: torch.Tensor, iters: int) -> torch.Tensor:
    """``G`` with ``B G + G B = C`` for SPD ``B`` (batched), by the sign iteration above."""
    c = torch.linalg.matrix_norm(B, keepdim=True)
    c = torch.where(c > 0, c, 1.0)
    B, D = B / c, C / c
    eye3 = 3 * torch.eye(B.shape[-1], dtype=B.dtype, device=B.device)
    for _ in range(iters):
        B2 = B @ B
        T = eye3 - B2
        D = (-(B2 @ D) + (B @ D) @ B + D @ T) / 2
        B = B @ T / 2
    return D / 2


class _LyapunovBackward(torch.autograd.Function):
    """A forward root whose backward solves the Lyapunov equation (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, A: torch.Tensor, forward: Any, inverse: bool, degree: int, iters: int) -> torch.Tensor:
        out = forward(A, inverse=inverse, degree=degree)
        ctx.save_for_backward(out)
        ctx.inverse, ctx.iters = inverse, iters
        return out

    @staticmethod
    def backward(ctx: Any, C: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (out,) = ctx.saved_tensors
        if ctx.inverse:
            Y2 = out @ out
            C = -(Y2 @ C @ Y2)
        return lyapunov_sign(out, C, ctx.iters), None, None, None, None


@method("sqrtm", "mpa_lya", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"),
        params={"degree": Param(int, 10, min=1, doc="K = m + n, the [ceil(K/2) / floor(K/2)] Pade approximant"),
                "iters": ITERS},
        flops=mpa_lya_flops)
def mpa_lya(A: torch.Tensor, inverse: bool = False, degree: int = 10, iters: int = 12) -> torch.Tensor:
    """MPA forward, Lyapunov backward by the matrix sign iteration (Song et al., ICLR 2022)."""
    return _LyapunovBackward.apply(A, mpa, inverse, degree, iters)


@method("sqrtm", "mtp_lya", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"),
        params={"degree": Param(int, 10, min=1, doc="K: the Taylor polynomial's degree"), "iters": ITERS},
        flops=mtp_lya_flops)
def mtp_lya(A: torch.Tensor, inverse: bool = False, degree: int = 10, iters: int = 12) -> torch.Tensor:
    """MTP forward, Lyapunov backward by the matrix sign iteration (Song et al., ICLR 2022)."""
    return _LyapunovBackward.apply(A, mtp, inverse, degree, iters)
