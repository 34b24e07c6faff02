"""Reference: a float64 Cholesky factorization of ``A(mu)`` at every test parameter.

Dense: LAPACK ``potrf`` (``n^3 / 3`` flops), then ``2 n^2 k`` for the solves; sparse: SuperLU's
symmetric ``L D L^T`` (:class:`implementations.parametric._affine.Factor`). The
log-determinant is ``sum log`` of the pivots (``2 sum log L_ii`` dense).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from matrixbench.registry import method

from ._affine import Factor, assemble


def direct_flops(inputs: dict[str, Any], **_: Any) -> float | None:
    """``S (n^3 / 3 + 2 n^2 k)`` dense; None sparse (the fill is known only once ordered)."""
    import scipy.sparse as sp

    if sp.issparse(inputs["terms"][0]):
        return None
    n, k = inputs["B"].shape
    return inputs["theta_test"].shape[0] * (n**3 / 3.0 + 2.0 * n * n * k)


def solve_all(terms: Sequence[Any], thetas: np.ndarray, B: np.ndarray, quantity: str) -> np.ndarray:
    """``A(mu)^-1 B`` or ``log det A(mu)`` at each row of ``thetas``, one factorization each."""
    out = []
    for theta in thetas:
        F = Factor(assemble(terms, theta))
        out.append(F.solve(B) if quantity == "solve" else F.logdet())
    return np.asarray(out, dtype=B.dtype)


@method("parametric", "reference", kind="reference", backends=("numpy",), dtypes=("float64",), sparse=True,
        flops=direct_flops)
def reference(terms: Sequence[Any], theta_train: np.ndarray, theta_test: np.ndarray, mu_train: np.ndarray,
              mu_test: np.ndarray, domain: np.ndarray, B: np.ndarray, quantity: str = "solve") -> np.ndarray:
    """Cholesky of ``A(mu)`` per test parameter, float64."""
    return solve_all(terms, theta_test, B, quantity)
