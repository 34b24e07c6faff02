"""The ``sqrtm`` contract: inputs, metrics and scoring.

Given a batch of symmetric positive semidefinite matrices ``A`` (batch, n, n), compute
``X = A^{1/2}``, or ``X = A^{-1/2}`` (``A`` definite) when the task parameter
``inverse`` is true.

Preconditions (:func:`check_inputs`; a violating problem's cells are ``invalid``, its
input is never repaired behind the user's back): ``A`` symmetric to ``1e-12`` relative,
positive semidefinite for the square root (eigenvalues down to ``-n eps ||A||_2``, the
rounding of a singular matrix, are allowed, and the reference clips them to 0),
positive definite beyond that rounding level for the inverse root. The task parameter
``symmetrize: true`` replaces ``A`` by ``(A + A^T) / 2`` explicitly (and is part of the
problem's key).

Metrics (lower is better), each computed per matrix and reported as the worst (max)
over the batch, with :func:`matrixbench.accuracy.relative` (a floored denominator, so
that the zero matrix scores 0 for the exact answer and the size of the error otherwise,
never NaN):

- ``rel_error = ||X - X_ref||_F / max(||X_ref||_F, u s)`` against the float64
  reference, ``u = 2^-53``, ``s = ||A||_F^{1/2}`` (``||A||_F^{-1/2}`` for the inverse
  root): the size an answer has for an input of that norm, so that the metric does not
  depend on the units of ``A``. The floor matters only for the zero matrix.
- ``residual``: for the square root ``||X X - A||_F / ||A||_F`` (absolute for the zero
  matrix); for the inverse root ``||X A X - I||_F / sqrt(n)``. Dividing by
  ``||I||_F = sqrt(n)`` makes the inverse residual a relative one too (the RMS deviation
  of ``X A X`` from ``I``), comparable across sizes.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import check_definite, check_finite, check_symmetric


def make_inputs(matrix: np.ndarray, inverse: bool = False, symmetrize: bool = False) -> dict[str, Any]:
    """Batch (n, n) -> (1, n, n); ``A = (M + M^T) / 2`` only when ``symmetrize`` asks for it."""
    A = np.asarray(matrix, dtype=np.float64)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"sqrtm needs square matrices, shape (n, n) or (batch, n, n); got {A.shape}")
    if symmetrize:
        A = 0.5 * (A + A.transpose(0, 2, 1))
    return {"A": np.ascontiguousarray(A), "inverse": bool(inverse)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """Why ``A`` has no (inverse) square root the methods can be scored on, or None."""
    A = np.asarray(inputs["A"], dtype=np.float64)
    inverse = bool(inputs.get("inverse", False))
    return (
        check_finite(A)
        or check_symmetric(A, hint="; the task parameter symmetrize: true uses (A + A^T)/2")
        or check_definite(A, definite=inverse, why="; A^{-1/2} needs A > 0" if inverse else "")
    )


def _fro(M: np.ndarray) -> np.ndarray:
    """Frobenius norm of each matrix of a batch."""
    return np.linalg.norm(M, ord="fro", axis=(-2, -1))


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    X = np.asarray(output, dtype=np.float64)
    X_ref = np.asarray(reference, dtype=np.float64)
    A = np.asarray(inputs["A"], dtype=np.float64)
    if X.shape != X_ref.shape:
        raise ValueError(f"sqrtm output has shape {X.shape}, expected {X_ref.shape} (the reference's)")
    norm_A = _fro(A)
    if inputs.get("inverse", False):
        n = A.shape[-1]
        root_scale = np.where(norm_A > 0, 1.0 / np.sqrt(np.where(norm_A > 0, norm_A, 1.0)), 0.0)
        residual = relative(_fro(X @ A @ X - np.eye(n)), np.sqrt(n), np.sqrt(n))
    else:
        root_scale = np.sqrt(norm_A)
        residual = relative(_fro(X @ X - A), norm_A, norm_A)
    rel_error = relative(_fro(X - X_ref), _fro(X_ref), root_scale)
    return {"rel_error": float(np.max(rel_error)), "residual": float(np.max(residual))}


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"rel_error": {"float64": 0.1, "float32": 0.1}}

def gradient(inputs: Mapping[str, Any], reference: np.ndarray, C: np.ndarray) -> dict[str, np.ndarray]:
    """The float64 gradient of ``L = <C, f(A)>`` for the backward mode.

    The Frechet derivative of the square root at ``A``, ``E -> L(E)``, solves the Sylvester
    equation ``X L + L X = E`` with ``X = A^{1/2}`` (Higham, *Functions of Matrices*, 2008,
    section 6.1), and is self-adjoint for symmetric ``X``: ``dL/dA = G`` with
    ``X G + G X = C``. For the inverse root ``Y = A^{-1/2} = X^{-1}``,
    ``dY = -Y dX Y``, so the right-hand side is ``-Y C Y``. Solved per matrix of the batch
    with ``scipy.linalg.solve_sylvester`` (Bartels-Stewart).
    """
    import scipy.linalg

    A = np.asarray(inputs["A"], dtype=np.float64)
    lam, Q = np.linalg.eigh(A)
    X = (Q * np.sqrt(np.clip(lam, 0.0, None))[..., None, :]) @ Q.swapaxes(-1, -2)
    rhs = -(reference @ C @ reference) if inputs["inverse"] else C
    return {"A": np.stack([scipy.linalg.solve_sylvester(X[b], X[b], rhs[b]) for b in range(A.shape[0])])}


TASK = register_task(
    Task(
        name="sqrtm",
        description="Square root (or inverse square root) of batched SPD matrices.",
        metrics=(
            Metric("rel_error", "lower",
                   doc="max over the batch of ||X - X_ref||_F / max(||X_ref||_F, 2^-53 ||A||_F^(+-1/2))"),
            Metric(
                "residual",
                "lower",
                doc="max over the batch of ||X X - A||_F / ||A||_F (absolute if A = 0), or ||X A X - I||_F / sqrt(n) "
                    "if inverse",
            ),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "spd", "params": {"n": 16, "cond": 10.0, "batch": 2}},
        example_gates=EXAMPLE_GATES,
        reference="reference",
        params={
            "inverse": Param(bool, False, doc="compute A^{-1/2} instead of A^{1/2}"),
            "symmetrize": Param(bool, False, omit_default=True,
                                doc="use (A + A^T)/2; otherwise a non-symmetric A is invalid"),
        },
        check_inputs=check_inputs,
        gradient=gradient,
        symmetric_output=True,
    )
)
