"""``gap_spectrum``: a symmetric matrix with a controlled eigengap after the top ``k``.

``A = Q diag(l) Q^T``, ``Q`` Haar-random, with ``l_1..l_k`` evenly spaced in ``[1/2, 1]``
(``l_1 = 1``), ``l_(k+1) = gap l_k`` and the other ``n - k - 1`` evenly spaced in
``[0, l_(k+1))``. Power and subspace iteration converge like ``gap^t`` (Saad, *Numerical
Methods for Large Eigenvalue Problems*, 2011, Theorem 5.2), Lanczos like
``T_t(1 + 2 (1 - gap)/gap)^-1``, so sweeping ``gap`` from 0.5 to 0.999 separates them.
"""

from __future__ import annotations

import numpy as np

from matrixbench.generators.common import haar_orthogonal, serial_blas, symmetrize
from matrixbench.params import Param
from matrixbench.registry import generator


def eigenvalues(n: int, k: int, gap: float) -> np.ndarray:
    """The spectrum of ``gap_spectrum``, descending."""
    top = np.linspace(1.0, 0.5, k) if k > 1 else np.ones(1)
    nxt = gap * top[-1]
    rest = nxt * (1.0 - np.arange(n - k) / (n - k))  # l_(k+1) = nxt, then down towards 0
    return np.concatenate([top, rest])


@generator("gap_spectrum", task="top_eig", params={
    "n": Param(int, 500, min=3, doc="matrix size"),
    "k": Param(int, 1, min=1, doc="the gap follows the k-th eigenvalue"),
    "gap": Param(float, 0.9, min=0.0, max=1.0, doc="l_(k+1) / l_k"),
})
def gap_spectrum(rng: np.random.Generator, n: int = 500, k: int = 1, gap: float = 0.9) -> np.ndarray:
    """``Q diag(l) Q^T`` with ``l_(k+1) / l_k = gap`` (see the module docstring)."""
    if k >= n:
        raise ValueError(f"k = {k} must be below n = {n}")
    with serial_blas():
        Q = haar_orthogonal(rng, n, 1)[0]
        return symmetrize((Q * eigenvalues(n, k, gap)) @ Q.T)
