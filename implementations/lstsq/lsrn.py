"""LSRN: Gaussian sketch, SVD preconditioner ``N = V S^{-1}``, then LSQR on ``A N``.

X. Meng, M. A. Saunders & M. W. Mahoney, "LSRN: A parallel iterative solver for strongly
over- or underdetermined systems", SIAM J. Sci. Comput. 36(2), 2014::

    G A = U S V^T            (G: k x m Gaussian, k = gamma n, gamma = 2 in the paper; thin SVD)
    N = V_r S_r^{-1}         (the r singular values above rcond * s_1: rank-revealing)
    y = LSQR(A N, b);  x = N y

With a Gaussian ``G`` the singular values of ``A N`` lie in ``[1/(1 + sqrt(n/k)),
1/(1 - sqrt(n/k))]`` with high probability (their Theorem 4.4, from the extreme singular
values of Gaussian matrices), independently of ``A``: condition number 5.8 for
``gamma = 2``, and the iteration count depends on ``gamma`` only. Unlike a QR, the SVD
also reveals rank: a rank-deficient ``A`` gets the minimum-norm solution. The paper's
point is parallelism (the Gaussian is embarrassingly parallel; it runs on clusters); on
one node the Gaussian's ``2 k nnz(A)`` flops cost more than a QR of ``A`` for dense ``A``,
so other kinds of sketch are offered through ``sketch``. Our LSQR replaces the paper's
alternative of Chebyshev semi-iteration. Warm start at sketch-and-solve, as in
:mod:`._precondition`.

Cost: the sketch, the SVD of ``k x n`` (about ``6 k n^2 + 20 n^3``, R-SVD), then per LSQR
step ``4 nnz(A) + 4 n r``.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SKETCH_KINDS, effective_tol, nnz, sketch_flops, sketch_rows, sketch_size
from ._precondition import lsqr_iteration_bound, lsqr_preconditioned

PARAMS = {
    "sketch": Param(str, "gaussian", choices=SKETCH_KINDS, doc="sketch kind (LSRN: gaussian)"),
    "factor": Param(float, 2.0, min=1.0, doc="oversampling gamma: sketch rows k = gamma * n"),
    "tol": Param(float, 1e-10, min=0.0, doc="LSQR stopping tolerance (S1/S2)"),
    "max_iter": Param(int, 200, min=1, doc="LSQR step cap"),
    "seed": Param(int, 0, doc="seed of the sketch"),
}


def lsrn_flops(inputs: Mapping[str, Any], sketch: str = "gaussian", factor: float = 2.0, tol: float = 1e-10,
               max_iter: int = 200, seed: int = 0) -> float:
    m, n = inputs["A"].shape
    k, z = sketch_size(factor, n, m), nnz(inputs["A"])
    steps = min(max_iter, lsqr_iteration_bound(k, n, max(tol, 1e-16)))
    return sketch_flops(sketch, k, m, n, z) + 6.0 * k * n * n + 20.0 * n**3 + steps * (4.0 * z + 4.0 * n * n + 5.0 * m)


@method("lstsq", "lsrn", kind="optimized", backend="torch", devices=("cpu", "cuda"), dtypes=("float32", "float64"),
        params=PARAMS, flops=lsrn_flops, sparse=True)
def lsrn(A: torch.Tensor, b: torch.Tensor, sketch: str = "gaussian", factor: float = 2.0, tol: float = 1e-10,
         max_iter: int = 200, seed: int = 0) -> WithInfo:
    """SVD of the sketch ``G A = U S V^T``, then LSQR on ``A V S^{-1}`` (rank-revealing)."""
    m, n = A.shape
    k = sketch_size(factor, n, m)
    GA, Gb = sketch_rows(A, b, sketch, k, seed)
    U, s, Vh = torch.linalg.svd(GA, full_matrices=False)
    keep = s > s[0] * torch.finfo(A.dtype).eps * k  # numerical rank of the sketch (= that of A)
    U, s, V = U[:, keep], s[keep], Vh[keep].mT
    r = s.shape[0]

    def N(v: torch.Tensor) -> torch.Tensor:  # N v = V (v / s)
        return V @ (v / s)

    def Nt(u: torch.Tensor) -> torch.Tensor:  # N^T u = (V^T u) / s
        return (V.mT @ u) / s

    y0 = U.mT @ Gb  # sketch-and-solve: argmin ||G A N y - G b|| = U^T G b
    x, res = lsqr_preconditioned(A, b, N, Nt, y0, tol=effective_tol(tol, A.dtype), max_iter=max_iter)
    fail = None if res.converged else f"LSQR did not converge in {max_iter} steps (S2 ratio {res.normal_residual:.2g})"
    return WithInfo(x, {"iterations": res.iterations, "rank": r}, failure=fail)
