"""The ``inv_root`` contract: inputs, metrics and scoring.

Given a batch of symmetric matrices ``A`` (batch, n, n) with ``A + eps I`` positive
definite (Shampoo's statistics are positive semidefinite), a root ``p`` in {2, 4, 8}
and a damping ``eps``, compute ``X = (A + eps I)^{-1/p}``: Shampoo's preconditioner.

Every method receives ``A``, ``p``, ``eps`` and ``Q_prev``: the (float64) eigenbasis of a
slightly perturbed ``A`` (relative Frobenius size ``perturbation``), what an optimizer
holds from its previous step; only the warm-started method uses it. The perturbation is
deterministic (a fixed seed), part of input generation, and not timed.

Preconditions (:func:`check_inputs`; a violating problem's cells are ``invalid``, its
input is never repaired behind the user's back): ``A`` symmetric to ``1e-12`` relative
and ``B = A + eps I`` positive definite beyond the rounding level ``n eps ||B||_2``
(``A`` itself may be singular or carry eigenvalues slightly below 0 that ``eps``
lifts). The task parameter ``symmetrize: true`` replaces ``A`` by ``(A + A^T) / 2``
explicitly (and is part of the problem's key).

Metrics (lower is better), the worst over the batch, with
:func:`matrixbench.accuracy.relative` (a floored denominator, never NaN):

- ``rel_error = ||X - X_ref||_F / max(||X_ref||_F, 2^-53 ||B||_F^{-1/p})`` against the
  float64 reference (the floor, the size of the answer for an input of that norm, never
  binds for a positive definite ``B``: ``||X_ref||_F >= ||B||_2^{-1/p}``);
- ``residual = ||X^{-p} - B||_inf / ||B||_inf``, with ``X^{-p}`` formed in float64 as
  ``(X^{-1})^p`` (``inv`` then repeated products); ``inf`` for a singular ``X``. A
  relative residual whatever the scale of ``B`` (it used to be divided by
  ``max(1, ||B||_inf)``, an absolute one for small ``B``);
- ``iterations``: steps an iterative method used (reported by the method).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import check_definite, check_finite, check_symmetric

PERTURBATION_SEED = 20240917


def previous_basis(A: np.ndarray, perturbation: float) -> np.ndarray:
    """Eigenvectors of ``A + E`` with a symmetric Gaussian ``E``, ``||E||_F = perturbation ||A||_F``."""
    rng = np.random.default_rng(PERTURBATION_SEED)
    E = rng.standard_normal(A.shape)
    E = 0.5 * (E + E.swapaxes(-1, -2))
    fro = lambda M: np.linalg.norm(M, axis=(-2, -1), keepdims=True)  # noqa: E731
    scale = perturbation * fro(A) / fro(E)
    return np.ascontiguousarray(np.linalg.eigh(A + scale * E)[1])


def make_inputs(matrix: np.ndarray, p: int = 2, eps: float = 1e-12, perturbation: float = 1e-3,
                symmetrize: bool = False) -> dict[str, Any]:
    """Batch (n, n) -> (1, n, n), ``(A + A^T) / 2`` only when asked, and the previous basis."""
    A = np.asarray(matrix, dtype=np.float64)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"inv_root needs square matrices, shape (n, n) or (batch, n, n); got {A.shape}")
    if symmetrize:
        A = 0.5 * (A + A.swapaxes(-1, -2))
    A = np.ascontiguousarray(A)
    # A non-finite A is reported by check_inputs; eigh would only fail on it here.
    Q_prev = previous_basis(A, perturbation) if np.all(np.isfinite(A)) else np.full(A.shape, np.nan)
    return {"A": A, "p": int(p), "eps": float(eps), "Q_prev": Q_prev}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """Why ``(A + eps I)^{-1/p}`` is not a well-posed problem for this ``A``, or None."""
    A = np.asarray(inputs["A"], dtype=np.float64)
    eps = float(inputs["eps"])
    return (
        check_finite(A)
        or check_symmetric(A, hint="; the task parameter symmetrize: true uses (A + A^T)/2")
        or check_definite(A, definite=True, shift=eps, name="A + eps I", why=f" (eps = {eps:g})")
    )


def _inf_norm(M: np.ndarray) -> np.ndarray:
    """The infinity norm (largest absolute row sum) of each matrix of a batch."""
    return np.abs(M).sum(axis=-1).max(axis=-1)


def _inverse_power(X: np.ndarray, p: int) -> np.ndarray:
    """``(X^{-1})^p`` per matrix; a singular matrix gives Inf (its residual is infinite)."""
    try:
        return np.linalg.matrix_power(np.linalg.inv(X), p)
    except np.linalg.LinAlgError:  # some matrix of the batch is singular: one at a time
        out = np.full(X.shape, np.inf)
        for i, x in enumerate(X):
            try:
                out[i] = np.linalg.matrix_power(np.linalg.inv(x), p)
            except np.linalg.LinAlgError:
                pass
        return out


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    X = np.asarray(output, dtype=np.float64)
    X_ref = np.asarray(reference, dtype=np.float64)
    if X.shape != X_ref.shape:
        raise ValueError(f"inv_root output has shape {X.shape}, expected {X_ref.shape} (the reference's)")
    A, p, eps = inputs["A"], inputs["p"], inputs["eps"]
    damped = A + eps * np.eye(A.shape[-1])
    norm_B = np.linalg.norm(damped, axis=(-2, -1))
    root_scale = np.where(norm_B > 0, np.where(norm_B > 0, norm_B, 1.0) ** (-1.0 / p), 0.0)
    rel = relative(np.linalg.norm(X - X_ref, axis=(-2, -1)), np.linalg.norm(X_ref, axis=(-2, -1)), root_scale)
    inf_B = _inf_norm(damped)
    residual = relative(_inf_norm(_inverse_power(X, p) - damped), inf_B, inf_B)
    return {"rel_error": float(np.max(rel)), "residual": float(np.max(residual))}


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"rel_error": {"float64": 1e-2, "float32": 1e-2}}

TASK = register_task(
    Task(
        name="inv_root",
        description="Inverse p-th root (A + eps I)^(-1/p) of batched SPD matrices (Shampoo preconditioners).",
        metrics=(
            Metric("rel_error", "lower", doc="max over the batch of ||X - X_ref||_F / ||X_ref||_F (floored)"),
            Metric("residual", "lower",
                   doc="max over the batch of ||X^-p - (A + eps I)||_inf / ||A + eps I||_inf"),
            Metric("iterations", "lower", unit="steps", doc="steps an iterative method used (max over the batch)", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "spd", "params": {"n": 16, "cond": 10.0, "batch": 2}, "task_params": {"p": 4, "eps": 0.0}},
        example_gates=EXAMPLE_GATES,
        reference="reference",
        params={
            "p": Param(int, 2, choices=(2, 4, 8), doc="the root: X = (A + eps I)^(-1/p)"),
            "eps": Param(float, 1e-12, min=0.0, doc="damping added to the diagonal"),
            "perturbation": Param(float, 1e-3, min=0.0,
                                  doc="relative size of the perturbation that gives the previous eigenbasis Q_prev"),
            "symmetrize": Param(bool, False, omit_default=True,
                                doc="use (A + A^T)/2; otherwise a non-symmetric A is invalid"),
        },
        check_inputs=check_inputs,
    )
)
