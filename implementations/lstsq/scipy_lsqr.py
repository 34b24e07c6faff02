"""Baseline: unpreconditioned LSQR, ``scipy.sparse.linalg.lsqr`` (dense or sparse ``A``).

SciPy's implementation of Paige & Saunders (1982), the algorithm of :mod:`.lsqr`, applied
to ``A`` itself: the error falls like ``((kappa - 1) / (kappa + 1))^i``, fast for
well-conditioned ``A`` (a tall Gaussian has ``kappa`` near ``(sqrt(m) + sqrt(n)) /
(sqrt(m) - sqrt(n))``), hopeless for ``kappa(A) = 1e5``: what the sketch-and-precondition
methods add is exactly the preconditioner. Stopping: ``atol = btol = tol`` (S1 and S2);
the iteration cap ends as ``inaccurate`` with its reason, and so do SciPy's ``istop = 3``
and ``6`` (its estimate of ``cond(A)`` passed ``conlim = 1e8``, or ``1 / eps``: it
stopped early, before either test held; a square ``A`` with ``kappa = 1e10`` returned
an answer with relative error 1 that way, silently).

Cost per step: ``4 nnz(A)`` for ``A v`` and ``A^T u`` plus ``O(m + n)``.
"""

from __future__ import annotations

from typing import Any, Mapping

import scipy.sparse.linalg as spla

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import nnz

PARAMS = {
    "tol": Param(float, 1e-10, min=0.0, doc="atol = btol of scipy's lsqr"),
    "max_iter": Param(int, 500, min=1, doc="iteration cap (iter_lim)"),
}


def scipy_lsqr_flops(inputs: Mapping[str, Any], tol: float = 1e-10, max_iter: int = 500) -> float:
    """At the cap: ``max_iter`` steps of ``4 nnz(A) + 9 n + 5 m`` (an upper bound)."""
    m, n = inputs["A"].shape
    return max_iter * (4.0 * nnz(inputs["A"]) + 9.0 * n + 5.0 * m)


# float64 only: SciPy's LSQR works in result_type(A, b, float), float64 for float32 inputs, so
# a float32 cell would time and score a float64 solve (the engine refuses such outputs).
@method("lstsq", "scipy_lsqr", kind="baseline", backends=("numpy",), dtypes=("float64",), params=PARAMS,
        flops=scipy_lsqr_flops, sparse=True)
def scipy_lsqr(A: Any, b: Any, tol: float = 1e-10, max_iter: int = 500) -> WithInfo:
    """``scipy.sparse.linalg.lsqr(A, b, atol=tol, btol=tol, iter_lim=max_iter)``."""
    x, istop, itn = spla.lsqr(A, b, atol=tol, btol=tol, iter_lim=max_iter)[:3]
    failure = None
    if istop == 7:
        failure = f"scipy lsqr hit its iteration limit ({max_iter})"
    elif istop in (3, 6):
        limit = "1e8 (conlim)" if istop == 3 else "1/eps"
        failure = f"scipy lsqr stopped at istop = {istop}: its estimate of cond(A) exceeds {limit}"
    return WithInfo(x, {"iterations": itn}, failure=failure)
