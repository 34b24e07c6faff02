"""The ``sqrtm`` contract: inputs, metrics and scoring.

Given a batch of symmetric positive definite matrices ``A`` (batch, n, n), compute
``X = A^{1/2}``, or ``X = A^{-1/2}`` when the task parameter ``inverse`` is true.

Metrics (lower is better), each computed per matrix and reported as the worst (max)
over the batch:

- ``rel_error = ||X - X_ref||_F / ||X_ref||_F`` against the float64 reference.
- ``residual``: for the square root ``||X X - A||_F / ||A||_F``; for the inverse root
  ``||X A X - I||_F / sqrt(n)``. Dividing by ``||I||_F = sqrt(n)`` makes the inverse
  residual a relative one too (the RMS deviation of ``X A X`` from ``I``), comparable
  across sizes.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task


def make_inputs(matrix: np.ndarray, inverse: bool = False) -> dict[str, Any]:
    """Batch (n, n) -> (1, n, n) and symmetrize: ``A = (M + M^T) / 2``."""
    A = np.asarray(matrix, dtype=np.float64)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"sqrtm needs square matrices, shape (n, n) or (batch, n, n); got {A.shape}")
    A = 0.5 * (A + A.transpose(0, 2, 1))
    return {"A": np.ascontiguousarray(A), "inverse": bool(inverse)}


def _fro(M: np.ndarray) -> np.ndarray:
    """Frobenius norm of each matrix of a batch."""
    return np.linalg.norm(M, ord="fro", axis=(-2, -1))


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    X = np.asarray(output, dtype=np.float64)
    X_ref = np.asarray(reference, dtype=np.float64)
    A = np.asarray(inputs["A"], dtype=np.float64)
    if X.shape != X_ref.shape:
        raise ValueError(f"sqrtm output has shape {X.shape}, expected {X_ref.shape} (the reference's)")
    rel_error = _fro(X - X_ref) / _fro(X_ref)
    if inputs.get("inverse", False):
        n = A.shape[-1]
        residual = _fro(X @ A @ X - np.eye(n)) / np.sqrt(n)
    else:
        residual = _fro(X @ X - A) / _fro(A)
    return {"rel_error": float(np.max(rel_error)), "residual": float(np.max(residual))}


TASK = register_task(
    Task(
        name="sqrtm",
        description="Square root (or inverse square root) of batched SPD matrices.",
        metrics=(
            Metric("rel_error", "lower", doc="max over the batch of ||X - X_ref||_F / ||X_ref||_F"),
            Metric(
                "residual",
                "lower",
                doc="max over the batch of ||X X - A||_F / ||A||_F, or ||X A X - I||_F / sqrt(n) if inverse",
            ),
        ),
        make_inputs=make_inputs,
        score=score,
        reference="reference",
        params={"inverse": Param(bool, False, doc="compute A^{-1/2} instead of A^{1/2}")},
    )
)
