"""The ``polar`` contract: inputs, metrics and scoring.

Given a batch of matrices ``G`` (batch, m, n), any aspect ratio, compute the orthogonal
polar factor ``Q = U V^T`` where ``G = U S V^T`` is the thin SVD (``k = min(m, n)``
singular values): the nearest matrix with orthonormal columns (``m >= n``) or rows
(``m < n``) to ``G``, and the update direction of the Muon optimizer.

Metrics, each computed per matrix and reduced over the batch to its worst value:

- ``rel_error = ||Q - U V^T||_F / ||U V^T||_F`` against the float64 reference (the
  denominator is ``sqrt(k)``, floored by :func:`matrixbench.accuracy.relative` at
  ``2^-53 sqrt(k)``: the polar factor does not scale with ``G``, so its natural size is
  that of ``I_k``, whatever ``||G||``). Lower is better; max over the batch.
- ``orthogonality = ||Q^T Q - I_k||_F / sqrt(k)``, with ``Q Q^T`` instead when ``m < n``
  (the ``k x k`` Gram matrix either way). Dividing by ``||I_k||_F = sqrt(k)`` makes it
  the root mean square of ``s_i^2 - 1`` over the singular values ``s_i`` of ``Q``,
  comparable across sizes. It needs no reference: it measures how orthogonal the output
  is, not whether it is the right orthogonal matrix. Lower is better; max.
- ``s_min`` and ``s_max``: the smallest and largest singular value of ``Q`` (all are 1
  for the exact factor). Methods that stop early leave them spread: Muon's quintic maps
  singular values into about ``[0.68, 1.13]`` on purpose. ``s_min`` is declared "higher
  is better" (min over the batch; a gate ``s_min: 0.5`` demands ``s_min >= 0.5``) and
  ``s_max`` "lower is better" (max over the batch; a gate ``1.3`` demands ``s_max <= 1.3``),
  so that gates bound the output's spectrum from both sides.

The singular values of ``Q`` come from the eigenvalues of the ``k x k`` Gram matrix
(``s_i = sqrt(lambda_i)``), which the orthogonality needs anyway; near 1, where they
matter, this loses nothing in float64.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative
from matrixbench.registry import Metric, Task, register_task


def make_inputs(matrix: np.ndarray) -> dict[str, Any]:
    """Batch ``(m, n) -> (1, m, n)``; ``(batch, m, n)`` is kept."""
    G = np.asarray(matrix, dtype=np.float64)
    if G.ndim == 2:
        G = G[None]
    if G.ndim != 3:
        raise ValueError(f"polar needs matrices, shape (m, n) or (batch, m, n); got {G.shape}")
    return {"G": np.ascontiguousarray(G)}


def _fro(M: np.ndarray) -> np.ndarray:
    """Frobenius norm of each matrix of a batch."""
    return np.linalg.norm(M, ord="fro", axis=(-2, -1))


def small_gram(Q: np.ndarray) -> np.ndarray:
    """``Q^T Q`` (``m >= n``) or ``Q Q^T`` (``m < n``): the ``k x k`` Gram matrix."""
    Qt = np.swapaxes(Q, -1, -2)
    return Qt @ Q if Q.shape[-2] >= Q.shape[-1] else Q @ Qt


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    Q = np.asarray(output, dtype=np.float64)
    Q_ref = np.asarray(reference, dtype=np.float64)
    if Q.shape != Q_ref.shape:
        raise ValueError(f"polar output has shape {Q.shape}, expected {Q_ref.shape} (the reference's)")
    k = min(Q.shape[-2:])
    unit = np.sqrt(k)  # ||I_k||_F: the size of any k-frame, whatever the scale of G
    rel_error = relative(_fro(Q - Q_ref), _fro(Q_ref), unit)
    gram = small_gram(Q)
    orthogonality = relative(_fro(gram - np.eye(k)), unit, unit)
    lam = np.linalg.eigvalsh(gram)  # ascending, per matrix
    s = np.sqrt(np.clip(lam, 0.0, None))
    return {
        "rel_error": float(np.max(rel_error)),
        "orthogonality": float(np.max(orthogonality)),
        "s_min": float(np.min(s[..., 0])),
        "s_max": float(np.max(s[..., -1])),
    }


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"rel_error": {"float64": 0.5, "float32": 0.5, "bfloat16": 0.5, "float16": 0.5}}

def gradient(inputs: Mapping[str, Any], reference: np.ndarray, C: np.ndarray) -> dict[str, np.ndarray]:
    """The float64 gradient of ``L = <C, polar(G)>`` for the backward mode.

    With the thin SVD ``G = P S Q^T`` of a wide ``G`` (``m <= n``, full rank) and
    ``U = P Q^T``, the differential is ``dU = P W Q^T + P S^-1 P^T dG (I - Q Q^T)`` with
    ``W_ij = (M_ij - M_ji) / (s_i + s_j)``, ``M = P^T dG Q`` (the polar factor's
    derivative; e.g. Higham, *Functions of Matrices*, 2008, section 8.1, and the
    Sylvester form ``S W + W S = M - M^T``). Its adjoint gives
    ``dL/dG = P ((K - K^T) / (s_i + s_j)) Q^T + P S^-1 P^T C (I - Q Q^T)``,
    ``K = P^T C Q``. A tall ``G`` is done as ``G^T`` (``polar(G^T) = polar(G)^T``).
    """
    G = np.asarray(inputs["G"], dtype=np.float64)
    out = np.empty_like(G)
    for b in range(G.shape[0]):
        g, c = G[b], C[b]
        tall = g.shape[0] > g.shape[1]
        if tall:
            g, c = g.T, c.T
        P, s, Qt = np.linalg.svd(g, full_matrices=False)
        Q = Qt.T
        K = P.T @ c @ Q
        inner = P @ ((K - K.T) / (s[:, None] + s[None, :])) @ Q.T
        outer = P @ ((P.T @ c) / s[:, None]) @ (np.eye(g.shape[1]) - Q @ Q.T)
        grad = inner + outer
        out[b] = grad.T if tall else grad
    return {"G": out}


TASK = register_task(
    Task(
        name="polar",
        description="Orthogonal polar factor U V^T of batched m x n matrices (Muon's orthogonalization).",
        metrics=(
            Metric("rel_error", "lower", doc="max over the batch of ||Q - U V^T||_F / ||U V^T||_F"),
            Metric(
                "orthogonality",
                "lower",
                doc="max over the batch of ||Q^T Q - I||_F / sqrt(k) (Q Q^T when m < n), k = min(m, n)",
            ),
            Metric("s_min", "higher", doc="smallest singular value of Q over the batch (1 when exact)", scale="ratio"),
            Metric("s_max", "lower", doc="largest singular value of Q over the batch (1 when exact)", scale="ratio"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "singular", "params": {"m": 16, "n": 16, "kappa": 10.0, "batch": 2}},
        example_gates=EXAMPLE_GATES,
        reference="reference",
        gradient=gradient,
        grad_inputs=("G",),
    )
)
