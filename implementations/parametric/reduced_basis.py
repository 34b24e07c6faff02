"""Reduced basis: POD of training solutions, Galerkin projection of the affine terms.

Offline (Prud'homme, Rovas, Veroy, Machiels, Maday, Patera and Turinici, "Reliable real-time
solution of parametrized partial differential equations: reduced-basis output bound
methods", J. Fluids Eng. 2002; Quarteroni, Manzoni and Negri, *Reduced Basis Methods for
Partial Differential Equations*, 2016, chapters 3 and 6): the snapshots ``X(mu_t) =
A(mu_t)^-1 B`` at the ``T`` training parameters (``T`` factorizations), their thin SVD
(proper orthogonal decomposition), ``V`` the ``r`` leading left singular vectors
(``n x r``, orthonormal), and the projections ``A_q^r = V^T A_q V`` (``Q`` of ``r x r``) and
``B^r = V^T B``: ``O(T n^3 / 3 + n (T k)^2 + Q nnz r)``.

Online, per test parameter: ``A^r(mu) = sum_q theta_q A_q^r`` (``Q r^2``), its Cholesky
(``r^3 / 3``), ``y = A^r(mu)^-1 B^r`` and ``X = V y`` (``2 n r k``). The Galerkin solution is
the ``A(mu)``-orthogonal projection of ``X(mu)`` on the span of ``V`` (Cea's lemma: its
energy-norm error is the best in that span), so it is exact whenever ``X(mu)`` lies in the
span: at the training parameters once ``r`` reaches the snapshots' rank. Its error elsewhere
decays with ``r`` as the Kolmogorov ``r``-width of the solution set. Gives no
log-determinant (skipped on ``logdet``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.linalg as la

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._affine import Clock, Factor, assemble
from .direct import solves_only


def rb_flops(inputs: dict[str, Any], basis: int = 20) -> float | None:
    """Online flops only: ``S (Q r^2 + r^3 / 3 + 2 n r k)``."""
    n, k = inputs["B"].shape
    S, Q = inputs["theta_test"].shape
    r = min(basis, inputs["theta_train"].shape[0] * k, n)
    return S * (Q * r * r + r**3 / 3.0 + 2.0 * n * r * k)


def pod_basis(snapshots: np.ndarray, r: int) -> np.ndarray:
    """The ``r`` leading left singular vectors of ``snapshots`` (``n x m``), fewer when its
    numerical rank (singular values above ``m eps s_1``) is lower."""
    U, s, _ = la.svd(snapshots, full_matrices=False)
    rank = int(np.sum(s > snapshots.shape[1] * np.finfo(snapshots.dtype).eps * s[0])) if s.size else 0
    return np.ascontiguousarray(U[:, :min(r, rank)])


@method("parametric", "reduced_basis", kind="optimized", backends=("numpy",), dtypes=("float64", "float32"),
        sparse=True, applies=solves_only, flops=rb_flops,
        params={"basis": Param(int, 20, min=1, doc="reduced basis size r (POD modes kept)")})
def reduced_basis(terms: Sequence[Any], theta_train: np.ndarray, theta_test: np.ndarray, mu_train: np.ndarray,
                  mu_test: np.ndarray, domain: np.ndarray, B: np.ndarray, quantity: str = "solve",
                  basis: int = 20) -> WithInfo:
    """Galerkin projection on the POD basis of the training solutions."""
    clock = Clock()
    with clock.phase("offline"):
        snapshots = np.concatenate([Factor(assemble(terms, theta)).solve(B).reshape(B.shape)
                                    for theta in theta_train], axis=1)
        V = pod_basis(snapshots, basis)
        reduced = np.stack([V.T @ (A @ V) for A in terms])  # Q x r x r
        Br = V.T @ B
    out = []
    with clock.phase("online"):
        for theta in theta_test:
            Ar = np.tensordot(theta, reduced, axes=1)
            y = la.cho_solve(la.cho_factor(Ar, lower=True, check_finite=False), Br, check_finite=False)
            out.append(V @ y)
    return WithInfo(np.asarray(out, dtype=B.dtype),
                    clock.info(len(theta_test), size=V.shape[1], train_points=len(theta_train)))
