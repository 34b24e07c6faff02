"""Sparse 2-D Laplacians (``laplacian_2d``): the model problem of iterative solvers.

The five-point finite-difference Laplacian ``-u_xx - eps u_yy`` on the unit square with
zero Dirichlet boundary, an ``g x g`` grid of interior points (``n = g^2``), times
``h^2 = 1/(g+1)^2``: ``A = T (x) I + eps I (x) T`` with ``T = tridiag(-1, 2, -1)``
(LeVeque, *Finite Difference Methods for Ordinary and Partial Differential Equations*,
SIAM 2007, section 3.2; SciPy's ``LaplacianNd`` builds the same matrix). Its eigenvalues
are ``4 sin^2(i pi / (2(g+1))) + 4 eps sin^2(j pi / (2(g+1)))``, ``i, j = 1..g``, so
``kappa_2 = cot^2(pi / (2(g+1)))`` (``eps = 1``), about ``4 (g+1)^2 / pi^2``, grows
like ``n``: CG needs ``O(g)`` iterations, multigrid ``O(1)``. ``eps < 1`` (anisotropy) is
where point smoothers and incomplete factorizations degrade and line or algebraic
coarsening pays (Trottenberg, Oosterlee and Schuller, *Multigrid*, 2001, section 5.1).
Returned as SciPy CSR, about ``5 n`` non-zeros; no randomness.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..params import Param
from ..registry import generator


def eigenvalues(g: int, eps: float = 1.0) -> np.ndarray:
    """The ``g^2`` eigenvalues of ``laplacian_2d(g, eps)``, ascending."""
    s = 4.0 * np.sin(np.arange(1, g + 1) * np.pi / (2.0 * (g + 1))) ** 2
    return np.sort((s[:, None] + eps * s[None, :]).ravel())


@generator("laplacian_2d", params={
    "grid": Param(int, 64, min=1, doc="interior points per side g (n = g^2)"),
    "anisotropy": Param(float, 1.0, min=0.0, doc="eps in -u_xx - eps u_yy (1: the plain Laplacian)"),
})
def laplacian_2d(rng: np.random.Generator, grid: int = 64, anisotropy: float = 1.0) -> sp.csr_matrix:
    """``T (x) I + eps I (x) T`` on a ``grid x grid`` interior grid, SciPy CSR (rng unused)."""
    T = sp.diags([-np.ones(grid - 1), 2.0 * np.ones(grid), -np.ones(grid - 1)], [-1, 0, 1], format="csr")
    eye = sp.identity(grid, format="csr")
    A = (sp.kron(T, eye) + anisotropy * sp.kron(eye, T)).tocsr()
    A.sort_indices()
    return A.astype(np.float64)
