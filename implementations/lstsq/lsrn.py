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

Rank check: the numerical rank ``r`` of the sketch equals that of ``A`` only if ``G``
embeds range(A). A sketch that does not (a CountSketch or very sparse sketch with
``k`` near ``n`` leaves rows of ``G`` empty) drops directions ``A`` has, and LSQR then
converges on the wrong, smaller problem while its stopping test holds. So when
``r < n`` the dropped space is probed on ``A`` itself: ``||A Z||_F <= 100 k eps s_1
||Z||_F`` for ``Z`` the projection of 4 Gaussian vectors onto the orthogonal complement
of ``V_r`` (one product with an n x 4 block, ``8 nnz(A)`` flops, only when ``r < n``).
A truly rank-deficient ``A`` passes (``A Z`` is rounding, up to ``u kappa_r s_1``
through the computed ``V_r``: the margin 100 covers ``kappa_r`` up to ``200 k``), and
keeps its minimum-norm solution; a lost direction ``v`` shows up as ``||A v||`` and
the cell is ``inaccurate`` with that reason.
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


@method("lstsq", "lsrn", kind="optimized", backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"),
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
    if r < n:
        fail = lost_rank(A, V, float(s[0]), k, seed) or fail
    return WithInfo(x, {"iterations": res.iterations, "rank": r}, failure=fail)


#: Probes of the dropped space, and the margin over LSRN's own rank threshold ``k eps s_1``.
RANK_PROBES, RANK_MARGIN = 4, 100.0


def lost_rank(A: torch.Tensor, V: torch.Tensor, s1: float, k: int, seed: int) -> str | None:
    """A reason when ``A`` is not negligible on the space the sketch dropped (``V_r``'s
    orthogonal complement), or None: the module docstring's rank check."""
    n = A.shape[1]
    gen = torch.Generator(device=A.device)
    gen.manual_seed(seed + 1)
    Z = torch.randn(n, RANK_PROBES, generator=gen, dtype=A.dtype, device=A.device)
    Z = Z - V @ (V.mT @ Z)
    Z = Z - V @ (V.mT @ Z)  # twice: Z orthogonal to V_r to working precision
    z = float(torch.linalg.matrix_norm(Z))
    if z == 0.0:
        return None
    seen = float(torch.linalg.matrix_norm(A @ Z)) / z
    limit = RANK_MARGIN * k * float(torch.finfo(A.dtype).eps) * s1
    if seen > limit:
        return (f"the sketch has rank {V.shape[1]} < n = {n} but A does not vanish on the dropped space "
                f"(||A z|| / ||z|| = {seen:.2g} > {limit:.2g}): the sketch did not embed range(A)")
    return None
