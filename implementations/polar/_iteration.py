"""Shared machinery of the polynomial polar iterations (Newton-Schulz, Polar Express).

Every polynomial method applies odd polynomials ``p(X) = a X + b X X^T X + c (X X^T)^2 X``
to a normalized ``X``. On ``X = U S V^T`` such a map acts on the singular values alone:
``p(X) = U p(S) V^T``, so the scalar map ``s -> a s + b s^3 + c s^5`` on ``[0, 1]`` says
everything about convergence. Two choices make them fast:

- the *wide* orientation: for ``m > n`` the iteration runs on ``G^T`` so that the Gram
  matrix ``A = X X^T`` is ``k x k`` with ``k = min(m, n)``: a quintic step then costs
  ``4 k^2 l + 2 k^3`` flops (``l = max(m, n)``) instead of ``4 l^2 k + 2 l^3``;
- fused products into preallocated buffers: ``torch.baddbmm`` computes
  ``beta * C + alpha * A @ B`` in one BLAS call, so a step is three calls and allocates
  nothing.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

#: Added to the norm before dividing (as in the Muon optimizer's code): a zero input stays
#: zero instead of becoming NaN.
EPS = 1e-7

_LOW_PRECISION = (torch.bfloat16, torch.float16)


def check_batch(G: torch.Tensor) -> None:
    if G.ndim != 3:
        raise ValueError(f"expected a batch of matrices (batch, m, n), found shape {tuple(G.shape)}")


def normalized_wide(G: torch.Tensor, scale: float = 1.0) -> tuple[torch.Tensor, bool]:
    """``X0 = G / (scale ||G||_F + EPS)`` in the wide orientation (``m <= n``), contiguous.

    Returns ``(X0, transposed)``; ``transposed`` is true when ``G`` was tall and ``X0``
    holds ``G^T`` scaled. The norm is accumulated in float32 for 16-bit inputs. Every
    singular value of ``X0`` is at most ``1 / scale`` since ``||G||_2 <= ||G||_F``.
    """
    check_batch(G)
    transposed = G.shape[-2] > G.shape[-1]
    src = G.mT if transposed else G
    acc = torch.float32 if G.dtype in _LOW_PRECISION else G.dtype
    norm = torch.linalg.matrix_norm(src, keepdim=True, dtype=acc)
    inv = 1.0 / (scale * norm + EPS)
    X = torch.empty(src.shape, dtype=G.dtype, device=G.device)  # contiguous, whatever src's strides
    if G.dtype in _LOW_PRECISION:
        X.copy_(src * inv)  # the product is float32; out= cannot narrow it
    else:
        torch.mul(src, inv, out=X)
    return X, transposed


def odd_polynomial_iteration(X: torch.Tensor, coefficients: Sequence[tuple[float, ...]],
                             callback: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Apply ``X <- p_k(X)`` for each coefficient tuple, in place of ``X``'s buffer pair.

    A tuple ``(a, b)`` is the cubic ``a X + b A X``, a tuple ``(a, b, c)`` the quintic
    ``a X + (b A + c A A) X``, with ``A = X X^T`` (``X`` wide, ``(batch, k, l)``, k <= l).
    Per step, with the Gram product ``2 k^2 l``: cubic ``+ 2 k^2 l``; quintic
    ``+ 2 k^3 + 2 k^2 l``. ``X`` is overwritten (it is a buffer of the caller's).
    ``callback`` (a convergence trace) gets each step's iterate (a buffer reused by the
    next steps: copy what must be kept).
    """
    batch, k, _ = X.shape
    A = torch.empty((batch, k, k), dtype=X.dtype, device=X.device)
    B = torch.empty_like(A)
    Y = torch.empty_like(X)
    for coef in coefficients:
        torch.bmm(X, X.mT, out=A)  # A = X X^T
        if len(coef) == 2:
            a, b = coef
            torch.baddbmm(X, A, X, beta=a, alpha=b, out=Y)  # a X + b A X
        elif len(coef) == 3:
            a, b, c = coef
            torch.baddbmm(A, A, A, beta=b, alpha=c, out=B)  # b A + c A^2
            torch.baddbmm(X, B, X, beta=a, out=Y)  # a X + B X
        else:
            raise ValueError(f"expected (a, b) or (a, b, c), found {coef!r}")
        X, Y = Y, X
        if callback is not None:
            callback(X)
    return X


def polynomial_polar(G: torch.Tensor, coefficients: Sequence[tuple[float, ...]], scale: float = 1.0,
                     callback: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Normalize (``scale ||G||_F``), iterate the odd polynomials, restore the orientation;
    ``callback`` gets each step's iterate in the output's orientation."""
    X, transposed = normalized_wide(G, scale)
    step = None if callback is None else (lambda it: callback(it.mT if transposed else it))
    X = odd_polynomial_iteration(X, coefficients, step)
    return X.mT if transposed else X


def polynomial_flops(shape: tuple[int, ...], degrees: Sequence[int]) -> float:
    """FLOPs of the steps of :func:`odd_polynomial_iteration` on inputs of ``shape``.

    A cubic step costs ``4 k^2 l``, a quintic ``4 k^2 l + 2 k^3`` (``k = min(m, n)``,
    ``l = max(m, n)``), for each matrix of the batch.
    """
    batch, m, n = shape
    k, l = min(m, n), max(m, n)
    per = {3: 4 * k * k * l, 5: 4 * k * k * l + 2 * k**3}
    return float(batch * sum(per[d] for d in degrees))
