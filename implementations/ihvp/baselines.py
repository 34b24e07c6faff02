"""Third-party baseline: SciPy's conjugate gradients on a matrix-free ``LinearOperator``.

``scipy.sparse.linalg.cg`` (Hestenes and Stiefel 1952) on ``F = lambda I + G^T G / m``
given only as its product ``x -> lambda x + G^T (G x) / m`` (``4 m d`` flops), one column of
``V`` at a time (SciPy's ``cg`` takes one right-hand side), ``rtol = tol``, ``atol = 0``,
``maxiter = max_iter``: the same iteration as :mod:`.cg` without the blocking of the ``k``
products into GEMMs, so the two show what batching the vectors buys.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import WithInfo, method

from ._common import check_damping
from .cg import PARAMS


def scipy_tolerance(tol: float, dtype: Any) -> float:
    return float(tol) if tol > 0 else (1e-10 if np.dtype(dtype) == np.float64 else 1e-5)


@method("ihvp", "scipy_cg", kind="baseline", backends=("numpy",), dtypes=("float32", "float64"), params=PARAMS)
def scipy_cg(G: np.ndarray, V: np.ndarray, damping: float, history: Any = None, tol: float = 0.0,
             max_iter: int = 1000) -> WithInfo:
    """``scipy.sparse.linalg.cg`` per column on the implicit ``F``."""
    from scipy.sparse.linalg import LinearOperator, cg

    lam = check_damping(damping)
    m, d = G.shape
    F = LinearOperator((d, d), matvec=lambda x: lam * x + G.T @ (G @ x) / m, dtype=G.dtype)
    rtol = scipy_tolerance(tol, G.dtype)
    X = np.empty_like(V)
    steps, failed = 0, []
    for j in range(V.shape[1]):
        count = 0

        def counter(_: np.ndarray) -> None:
            nonlocal count
            count += 1

        X[:, j], info = cg(F, V[:, j], rtol=rtol, atol=0.0, maxiter=max_iter, callback=counter)
        steps = max(steps, count)
        if info:
            failed.append(j)
    failure = (f"scipy's cg did not reach rtol {rtol:g} in {max_iter} iterations on columns {failed[:5]}"
               if failed else None)
    return WithInfo(X, {"iterations": steps}, failure=failure)
