"""Blendenpik: sketch, QR of the sketch, LSQR preconditioned by ``R``.

H. Avron, P. Maymounkov & S. Toledo, "Blendenpik: Supercharging LAPACK's least-squares
solver", SIAM J. Sci. Comput. 32(3), 2010 (after Rokhlin & Tygert, PNAS 2008)::

    S A = Q_s R             (S: k x m sketch, k = factor * n, factor 2..4; QR of k x n)
    y = LSQR(A R^{-1}, b)   (to tolerance tol on the normal-equation residual)
    x = R^{-1} y

Blendenpik mixes rows with a randomized DCT/Hadamard and samples them (our ``srht``);
a sparse sign embedding (Clarkson & Woodruff 2013; Meng & Mahoney 2013; our default,
8 nonzeros per column) embeds as well and applies in ``8 nnz(A)`` flops instead of
``m n log2 m``. Guarantee: if ``S`` is an eps-subspace embedding of range(A),
``kappa(A R^{-1}) <= (1 + eps) / (1 - eps)`` (see :mod:`._precondition`), so LSQR takes
``O(log(1/tol))`` steps whatever ``kappa(A)``; the paper reports 4x or more over LAPACK's
QR for m >> n. Working precision: the cell's dtype throughout (LSQR with triangular
solves included); ``tol`` is raised to ``16 u`` in float32.

Cost: the sketch, ``2 n^2 (k - n/3)`` for the QR, then per LSQR step ``4 nnz(A) + 2 n^2``
(two passes over ``A``, two triangular solves) plus vector updates.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SKETCH_KINDS, effective_tol, nnz, qr_flops, sketch_flops, sketch_rows, sketch_size
from ._precondition import lsqr_iteration_bound, lsqr_preconditioned, triangular

PARAMS = {
    "sketch": Param(str, "sparse_sign", choices=SKETCH_KINDS, doc="sketch kind (implementations.common.sketching)"),
    "factor": Param(float, 4.0, min=1.0, doc="sketch rows k = factor * n"),
    "tol": Param(float, 1e-10, min=0.0, doc="LSQR stopping tolerance (S1/S2, Paige-Saunders)"),
    "max_iter": Param(int, 200, min=1, doc="LSQR step cap (beyond it the cell is inaccurate)"),
    "seed": Param(int, 0, doc="seed of the sketch"),
}


def blendenpik_flops(inputs: Mapping[str, Any], sketch: str = "sparse_sign", factor: float = 4.0, tol: float = 1e-10,
                     max_iter: int = 200, seed: int = 0) -> float:
    """Sketch + QR of the sketch + (modelled) LSQR steps, see :func:`lsqr_iteration_bound`."""
    m, n = inputs["A"].shape
    k, z = sketch_size(factor, n, m), nnz(inputs["A"])
    steps = min(max_iter, lsqr_iteration_bound(k, n, max(tol, 1e-16)))
    return sketch_flops(sketch, k, m, n, z) + qr_flops(k, n) + steps * (4.0 * z + 2.0 * n * n + 9.0 * n + 5.0 * m)


def precondition_failure(diag: torch.Tensor, dtype: torch.dtype) -> str | None:
    """A reason when the preconditioner is numerically singular (the sketch lost rank)."""
    d = diag.abs()
    if not bool(torch.isfinite(d).all()) or d.min().item() <= torch.finfo(dtype).eps * d.max().item() * d.numel():
        return "the sketch is numerically rank-deficient: no preconditioner (A rank-deficient or k too small)"
    return None


@method("lstsq", "blendenpik", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), params=PARAMS, flops=blendenpik_flops, sparse=True)
def blendenpik(A: torch.Tensor, b: torch.Tensor, sketch: str = "sparse_sign", factor: float = 4.0,
               tol: float = 1e-10, max_iter: int = 200, seed: int = 0) -> WithInfo:
    """Sketch ``S A = Q R``, then LSQR on ``A R^{-1}`` warm-started at sketch-and-solve."""
    m, n = A.shape
    SA, Sb = sketch_rows(A, b, sketch, sketch_size(factor, n, m), seed)
    R = torch.linalg.qr(SA, mode="r")[1]
    failure = precondition_failure(torch.diagonal(R), A.dtype)
    if failure:
        return WithInfo(torch.zeros(n, dtype=A.dtype, device=A.device), {"iterations": 0}, failure=failure)
    N, Nt = triangular(R)
    y0 = Nt(SA.mT @ Sb)  # = Q^T S b: sketch-and-solve's y, without forming Q
    x, res = lsqr_preconditioned(A, b, N, Nt, y0, tol=effective_tol(tol, A.dtype), max_iter=max_iter)
    fail = None if res.converged else f"LSQR did not converge in {max_iter} steps (S2 ratio {res.normal_residual:.2g})"
    return WithInfo(x, {"iterations": res.iterations}, failure=fail)
