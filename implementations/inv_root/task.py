"""The ``inv_root`` contract: inputs, metrics and scoring.

Given a batch of SPD matrices ``A`` (batch, n, n), a root ``p`` in {2, 4, 8} and a
damping ``eps``, compute ``X = (A + eps I)^{-1/p}``: Shampoo's preconditioner.

Every method receives ``A``, ``p``, ``eps`` and ``Q_prev``: the (float64) eigenbasis of a
slightly perturbed ``A`` (relative Frobenius size ``perturbation``), what an optimizer
holds from its previous step; only the warm-started method uses it. The perturbation is
deterministic (a fixed seed), part of input generation, and not timed.

Metrics (lower is better), the worst over the batch:

- ``rel_error = ||X - X_ref||_F / ||X_ref||_F`` against the float64 reference;
- ``residual = ||X^{-p} - (A + eps I)||_inf / max(1, ||A + eps I||_inf)``, with
  ``X^{-p}`` formed in float64 as ``(X^{-1})^p`` (``inv`` then repeated products);
- ``iterations``: steps an iterative method used (reported by the method).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

PERTURBATION_SEED = 20240917


def previous_basis(A: np.ndarray, perturbation: float) -> np.ndarray:
    """Eigenvectors of ``A + E`` with a symmetric Gaussian ``E``, ``||E||_F = perturbation ||A||_F``."""
    rng = np.random.default_rng(PERTURBATION_SEED)
    E = rng.standard_normal(A.shape)
    E = 0.5 * (E + E.swapaxes(-1, -2))
    fro = lambda M: np.linalg.norm(M, axis=(-2, -1), keepdims=True)  # noqa: E731
    scale = perturbation * fro(A) / fro(E)
    return np.ascontiguousarray(np.linalg.eigh(A + scale * E)[1])


def make_inputs(matrix: np.ndarray, p: int = 2, eps: float = 1e-12, perturbation: float = 1e-3) -> dict[str, Any]:
    A = np.asarray(matrix, dtype=np.float64)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"inv_root needs square matrices, shape (n, n) or (batch, n, n); got {A.shape}")
    A = np.ascontiguousarray(0.5 * (A + A.swapaxes(-1, -2)))
    return {"A": A, "p": int(p), "eps": float(eps), "Q_prev": previous_basis(A, perturbation)}


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    X = np.asarray(output, dtype=np.float64)
    X_ref = np.asarray(reference, dtype=np.float64)
    if X.shape != X_ref.shape:
        raise ValueError(f"inv_root output has shape {X.shape}, expected {X_ref.shape} (the reference's)")
    A, p, eps = inputs["A"], inputs["p"], inputs["eps"]
    damped = A + eps * np.eye(A.shape[-1])
    rel = np.linalg.norm(X - X_ref, axis=(-2, -1)) / np.linalg.norm(X_ref, axis=(-2, -1))
    powered = np.linalg.matrix_power(np.linalg.inv(X), p)
    inf = lambda M: np.abs(M).sum(axis=-1).max(axis=-1)  # noqa: E731  (the infinity norm, batched)
    residual = inf(powered - damped) / np.maximum(1.0, inf(damped))
    return {"rel_error": float(np.max(rel)), "residual": float(np.max(residual))}


TASK = register_task(
    Task(
        name="inv_root",
        description="Inverse p-th root (A + eps I)^(-1/p) of batched SPD matrices (Shampoo preconditioners).",
        metrics=(
            Metric("rel_error", "lower", doc="max over the batch of ||X - X_ref||_F / ||X_ref||_F"),
            Metric("residual", "lower",
                   doc="max over the batch of ||X^-p - (A + eps I)||_inf / max(1, ||A + eps I||_inf)"),
            Metric("iterations", "lower", unit="steps", doc="steps an iterative method used (max over the batch)"),
        ),
        make_inputs=make_inputs,
        score=score,
        reference="reference",
        params={
            "p": Param(int, 2, choices=(2, 4, 8), doc="the root: X = (A + eps I)^(-1/p)"),
            "eps": Param(float, 1e-12, min=0.0, doc="damping added to the diagonal"),
            "perturbation": Param(float, 1e-3, min=0.0,
                                  doc="relative size of the perturbation that gives the previous eigenbasis Q_prev"),
        },
    )
)
