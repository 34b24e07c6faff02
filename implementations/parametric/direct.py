"""Solving from scratch at every parameter: a Cholesky factorization, or warm-started CG.

- ``direct``: ``A(mu) = sum_q theta_q A_q`` assembled and factorized at each test
  parameter (dense ``potrf``, ``n^3 / 3`` flops; sparse symmetric ``L D L^T``), then solves
  (``2 n^2 k``) or ``log det`` from the pivots. No offline phase; exact to rounding
  (backward stable, Higham 2002, Theorem 10.3). The cost to beat.
- ``cg_warm``: conjugate gradients (Hestenes and Stiefel 1952) per test parameter and
  right-hand side column, started from the solution at the previous test parameter (the
  first from 0): ``2 nnz + 10 n`` flops per iteration, until ``||b - A x|| <= tol ||b||``.
  After ``t`` iterations the ``A``-norm error has fallen by ``2 ((sqrt(kappa) - 1) /
  (sqrt(kappa) + 1))^t`` from the start's, so a close previous solution saves iterations
  when consecutive parameters are close. Gives no log-determinant (skipped on ``logdet``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._affine import Clock, Factor, assemble
from .reference import direct_flops


@method("parametric", "direct", kind="baseline", backends=("numpy",), dtypes=("float64", "float32"), sparse=True,
        flops=direct_flops)
def direct(terms: Sequence[Any], theta_train: np.ndarray, theta_test: np.ndarray, mu_train: np.ndarray,
           mu_test: np.ndarray, domain: np.ndarray, B: np.ndarray, quantity: str = "solve") -> WithInfo:
    """Cholesky of ``A(mu)`` at each test parameter: no offline phase."""
    clock = Clock()
    out = []
    with clock.phase("online"):
        for theta in theta_test:
            F = Factor(assemble(terms, theta))
            out.append(F.solve(B) if quantity == "solve" else F.logdet())
    return WithInfo(np.asarray(out, dtype=B.dtype), clock.info(len(theta_test), size=0, train_points=0))


def solves_only(inputs: dict[str, Any], **_: Any) -> str | None:
    return None if inputs["quantity"] == "solve" else "it gives solves A(mu)^-1 B, not log-determinants"


def cg(A: Any, b: np.ndarray, x: np.ndarray, tol: float, budget: int) -> tuple[np.ndarray, int, bool]:
    """Conjugate gradients from ``x``: (solution, iterations, converged)."""
    r = b - A @ x
    stop = tol * np.linalg.norm(b)
    if np.linalg.norm(r) <= stop:
        return x, 0, True
    p = r.copy()
    rr = r @ r
    for t in range(1, budget + 1):
        Ap = A @ p
        pAp = p @ Ap
        if not pAp > 0:  # A is not positive definite along p
            return x, t, False
        a = rr / pAp
        x = x + a * p
        r = r - a * Ap
        rr_new = r @ r
        if np.sqrt(rr_new) <= stop:
            return x, t, True
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, budget, False


@method("parametric", "cg_warm", kind="baseline", backends=("numpy",), dtypes=("float64", "float32"), sparse=True,
        applies=solves_only,
        params={"tol": Param(float, 0.0, min=0.0, doc="relative residual to stop at (0: 1e-10 float64, 1e-5 float32)"),
                "budget": Param(int, 5000, min=1, doc="iterations per solve at most")})
def cg_warm(terms: Sequence[Any], theta_train: np.ndarray, theta_test: np.ndarray, mu_train: np.ndarray,
            mu_test: np.ndarray, domain: np.ndarray, B: np.ndarray, quantity: str = "solve", tol: float = 0.0,
            budget: int = 5000) -> WithInfo:
    """CG at each test parameter, warm-started from the previous parameter's solution."""
    tol = tol or (1e-10 if B.dtype == np.float64 else 1e-5)
    clock = Clock()
    out, iterations, failed = [], 0, []
    X = np.zeros_like(B)
    with clock.phase("online"):
        for s, theta in enumerate(theta_test):
            A = assemble(terms, theta)
            X = X.copy()
            for j in range(B.shape[1]):
                X[:, j], t, ok = cg(A, B[:, j], X[:, j], tol, budget)
                iterations += t
                if not ok:
                    failed.append(s)
            out.append(X)
    failure = (f"CG did not reach the relative residual {tol:g} within {budget} iterations at test parameters "
               f"{sorted(set(failed))}") if failed else None
    return WithInfo(np.asarray(out, dtype=B.dtype),
                    clock.info(len(theta_test), size=0, train_points=0, iterations=iterations), failure=failure)
