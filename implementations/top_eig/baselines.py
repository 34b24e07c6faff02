"""SciPy's ``eigsh`` (ARPACK) and ``lobpcg`` on the counted operator.

- ``eigsh``: the implicitly restarted Lanczos method of ARPACK (Lehoucq, Sorensen and
  Yang, *ARPACK Users' Guide*, SIAM 1998), ``which="LA"``, ``ncv = max(2k + 1, 20)``
  Lanczos vectors (fewer on a small budget), ``maxiter`` restarts chosen so that ``ncv +
  maxiter (ncv - k)`` products fit the budget, ``tol = 0`` (machine precision), the start vector seeded. If
  ARPACK has not converged when its restarts run out, the pairs it has are returned and
  the cell is ``inaccurate`` with ARPACK's message; missing pairs are zeros.
- ``scipy_lobpcg``: ``scipy.sparse.linalg.lobpcg(largest=True)`` from the same start block
  as ours, ``maxiter = budget // k - 5`` (its start and final steps take up to ``4 k`` more).
  It has no callback to stop it at a product count, and when its basis loses conditioning it
  restarts and spends more (436 products for a budget of 300 at ``k = 4``, gap 0.9, ``n =
  300``, measured): its ``matvecs`` say what it spent.

Both get ``A`` as a ``scipy.sparse.linalg.LinearOperator`` whose products go through the
harness's counted operator (NumPy backend).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import WithInfo, method

from ._common import SEED
from .task import budget_flops


def _start(A: Any, k: int, seed: int) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((A.n, k)))[0].astype(A.dtype)


NUMPY = dict(kind="baseline", backends=("numpy",), dtypes=("float32", "float64"), flops=budget_flops, sparse=True)


@method("top_eig", "eigsh", **NUMPY, params={"seed": SEED})
def eigsh(A: Any, k: int = 1, budget: int = 200, seed: int = 0) -> WithInfo:
    """ARPACK's top-``k`` (``which="LA"``) within the budget (see the module docstring)."""
    from scipy.sparse.linalg import ArpackNoConvergence
    from scipy.sparse.linalg import eigsh as arpack

    # ARPACK spends ncv products, then ncv - k per restart: at least one restart must fit
    ncv = min(max(2 * k + 1, 20), A.n, (budget + k) // 2)
    if ncv <= k:
        raise ValueError(f"a budget of {budget} products leaves ARPACK no Lanczos vectors beyond the k = {k} wanted")
    maxiter = max(1, (budget - ncv) // (ncv - k))
    v0 = np.random.default_rng(seed).standard_normal(A.n).astype(A.dtype)
    try:
        values, vectors = arpack(A.scipy(), k=k, which="LA", ncv=ncv, maxiter=maxiter, tol=0, v0=v0)
        failure = None
    except ArpackNoConvergence as exc:
        values, vectors = exc.eigenvalues, exc.eigenvectors
        failure = f"ARPACK did not converge within the budget: {len(values)} of {k} pairs ({exc})"
        pad = k - len(values)
        values = np.concatenate([values, np.zeros(pad, dtype=A.dtype)])
        vectors = np.concatenate([vectors.reshape(A.n, -1), np.zeros((A.n, pad), dtype=A.dtype)], axis=1)
    order = np.argsort(values)[::-1]
    return WithInfo({"values": values[order], "vectors": vectors[:, order]}, {"iterations": maxiter}, failure=failure)


@method("top_eig", "scipy_lobpcg", **NUMPY, params={"seed": SEED})
def scipy_lobpcg(A: Any, k: int = 1, budget: int = 200, seed: int = 0) -> WithInfo:
    """``scipy.sparse.linalg.lobpcg(largest=True)`` from a seeded start block."""
    from scipy.sparse.linalg import lobpcg as scipy_lobpcg_

    # k products to start, k a step and up to 4 k more in its last steps and postprocessing
    # (measured: 3 k for k = 1, 4 k for k = 4)
    maxiter = max(1, budget // k - 5)
    values, vectors = scipy_lobpcg_(A.scipy(), _start(A, k, seed), largest=True, maxiter=maxiter, tol=1e-30)
    order = np.argsort(values)[::-1]
    return WithInfo({"values": values[order], "vectors": vectors[:, order]}, {"iterations": maxiter})
