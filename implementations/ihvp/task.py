"""The ``ihvp`` contract: inputs, metrics and scoring.

Given ``m`` gradients ``g_i`` (the rows of ``G``, ``m x d``), a damping ``lambda > 0`` and
``k`` vectors (the columns of ``V``, ``d x k``), return

    X = F^-1 V,   F = lambda I + (1/m) sum_i g_i g_i^T = lambda I + G^T G / m,

the inverse-Hessian-vector products of M-FAC (Frantar, Kurtic and Alistarh, NeurIPS 2021),
of Optimal Brain Surgeon pruning and of natural-gradient steps with the empirical Fisher.
``d`` runs to millions, so no method may form the ``d x d`` matrix ``F`` (only the float64
reference does, for small ``d``); ``m`` runs from a handful to 1024. Methods get

- ``G``: the gradient window (``m x d``, the last ``m`` rows the generator gave);
- ``V``: the vectors (``d x k``);
- ``damping``: the absolute ``lambda`` (a float);
- ``history``: older gradients (``s x d``, rows in stream order, 0 rows by default), which
  only the sliding-window method reads: it streams ``history`` then ``G`` through its ring
  buffer of size ``m`` and must end with the product of the final window ``G``.

Task parameters:

- ``damping``: ``lambda``; with ``relative`` it is a multiple of the largest eigenvalue of
  the empirical Fisher ``G^T G / m`` (computed here from the ``m x m`` Gram matrix, ``m^2 d``
  flops once per problem), so that ``kappa(F) = 1 + 1/damping`` on every problem;
- ``vectors`` (``k``): how many products one call computes. Setup and per-product cost are
  separated by timing ``k = 1`` and ``k = K``: with ``t(k)`` the median time of a cell, the
  per-product cost (of products that come in batches of ``K``) is
  ``(t(K) - t(1)) / (K - 1)`` and the setup ``t(1)`` minus one product;
- ``rhs``: ``gradients`` (default: column ``j`` is the gradient ``g_{m-1-j}``, the newest
  first, cycling when ``k > m``: the optimizer's product ``F^-1 g_t``) or ``gaussian``
  (i.i.d. N(0, 1), seeded by ``vector_seed``). A Gaussian vector has a fraction of only
  about ``m / d`` of its energy in the span of the gradients, where ``F`` differs from
  ``lambda I``: its product is ``V / lambda`` up to a small correction, and a float32
  error there hardly shows in ``rel_error``. The gradients probe the hard part;
- ``stream`` (``s``): the first ``s`` rows of the generator's matrix become ``history``
  and the rest ``G`` (``m`` = rows - ``s``). With ``s > 0`` the sliding-window cell's
  per-update cost is ``(t(s) - t(0)) / s``.

Preconditions (:func:`check_inputs`): ``G``, ``V`` and ``history`` finite, ``lambda > 0``
(a zero or negative damping is refused: ``F`` may be singular), ``V`` of shape ``d x k`` and
not zero, ``history`` with ``d`` columns. Zero gradients are valid (``X = V / lambda``); so
is ``m = 1``.

Output: ``X`` (``d x k``). Metrics, lower is better, in float64:

- ``rel_error``: ``||X - X*||_F / ||X*||_F``, ``X*`` the float64 reference (at most
  ``kappa(F) = 1 + ||G||_2^2 / (m lambda)`` times the residual);
- ``rel_residual``: ``||V - F X||_F / ||V||_F`` (``F X = lambda X + G^T (G X) / m``);
- ``iterations`` (conjugate gradients) and ``updates`` (ring-buffer updates of the
  sliding-window method), reported by the methods.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.accuracy import relative as floored_relative
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import check_finite

RHS = ("gradients", "gaussian")


def as_gradients(matrix: Any) -> np.ndarray:
    """The generator's gradients as one ``rows x d`` float64 array (a batch of one unwrapped)."""
    G = np.asarray(matrix, dtype=np.float64)
    if G.ndim == 3 and G.shape[0] == 1:
        G = G[0]
    if G.ndim != 2:
        raise ValueError(f"ihvp needs one gradient matrix (m x d), got shape {G.shape}")
    return G


def top_fisher_eigenvalue(G: np.ndarray) -> float:
    """The largest eigenvalue of ``G^T G / m``, from the smaller Gram matrix."""
    m, d = G.shape
    gram = G @ G.T if m <= d else G.T @ G
    return float(np.linalg.eigvalsh(gram)[-1]) / m if np.all(np.isfinite(gram)) else float("nan")


def make_vectors(G: np.ndarray, k: int, rhs: str, seed: int) -> np.ndarray:
    """``V`` (``d x k``): the newest gradients first (cycling), or seeded Gaussians."""
    m, d = G.shape
    if rhs == "gradients":
        return np.ascontiguousarray(G[[(m - 1 - j) % m for j in range(k)]].T)
    if rhs == "gaussian":
        return np.random.default_rng(seed).standard_normal((d, k))
    raise ValueError(f"rhs must be one of {RHS}, got {rhs!r}")


def make_inputs(matrix: Any, damping: float = 1e-3, relative: bool = False, vectors: int = 1,
                rhs: str = "gradients", vector_seed: int = 0, stream: int = 0) -> dict[str, Any]:
    """``G``, ``V``, the absolute ``damping`` and ``history`` (module docstring)."""
    rows = as_gradients(matrix)
    if not 0 <= stream < rows.shape[0]:
        raise ValueError(f"stream = {stream} must leave at least one of the {rows.shape[0]} gradients as the window")
    history, G = np.ascontiguousarray(rows[:stream]), np.ascontiguousarray(rows[stream:])
    lam = float(damping) * top_fisher_eigenvalue(G) if relative else float(damping)
    return {"G": G, "V": make_vectors(G, int(vectors), rhs, int(vector_seed)), "damping": lam, "history": history}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    G, V, lam, history = inputs["G"], inputs["V"], inputs["damping"], inputs["history"]
    bad = check_finite(G, name="G") or check_finite(V, name="V") or check_finite(history, name="history")
    if bad:
        return bad
    if not (lam > 0 and np.isfinite(lam)):
        return (f"damping lambda = {lam:g} must be positive and finite: F = lambda I + G^T G / m is singular "
                f"or indefinite otherwise (relative damping of zero gradients is 0: use an absolute one)")
    m, d = G.shape
    if m < 1 or d < 1:
        return f"G must have at least one gradient and one coordinate, got shape {G.shape}"
    if V.ndim != 2 or V.shape[0] != d or V.shape[1] < 1:
        return f"V must be d x k = {d} x k with k >= 1, got shape {V.shape}"
    if history.ndim != 2 or history.shape[1] != d:
        return f"history must have d = {d} columns, got shape {history.shape}"
    if not np.any(V):
        return "V is zero: the product is 0 and every relative error is undefined"
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    want = inputs["V"].shape
    got = np.shape(output)
    return None if got == want else f"expected X of shape {want} (d x k), got {got}"


def gradient_products(G: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``G V`` (``m x k``) as ``(V^T G^T)^T``: OpenBLAS runs the ``m x d`` by ``d x k`` product with
    a long inner dimension thirty times slower in the plain layout (3 s against 0.1 s at
    ``m = k = 64``, ``d = 1e5``)."""
    return (V.T @ G.T).T


def apply_fisher(G: np.ndarray, lam: float, X: np.ndarray) -> np.ndarray:
    """``F X = lambda X + G^T (G X) / m`` in float64, without forming ``F``."""
    return lam * X + G.T @ gradient_products(G, X) / G.shape[0]


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    X = np.asarray(output, dtype=np.float64)
    want = np.asarray(reference, dtype=np.float64)
    G, V, lam = inputs["G"], inputs["V"], inputs["damping"]
    V_norm = float(np.linalg.norm(V))
    residual = np.linalg.norm(V - apply_fisher(G, lam, X))
    return {"rel_error": float(floored_relative(np.linalg.norm(X - want), np.linalg.norm(want), V_norm / lam)),
            "rel_residual": float(residual / V_norm)}


TASK = register_task(
    Task(
        name="ihvp",
        description="Inverse-Hessian-vector products from m gradients: M-FAC (static, sliding window), CG, Woodbury.",
        metrics=(
            Metric("rel_error", "lower", doc="||X - X*||_F / ||X*||_F, X* the float64 reference"),
            Metric("rel_residual", "lower", doc="||V - F X||_F / ||V||_F, in float64"),
            Metric("iterations", "lower", unit="iterations", doc="CG iterations (products with F per column)", scale="count"),
            Metric("updates", "lower", unit="updates", doc="ring-buffer updates of the sliding-window method", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        example={"generator": "gradient_spectrum", "params": {"m": 16, "d": 200},
                 "task_params": {"damping": 0.1, "vectors": 3}},
        example_gates={"rel_error": {"float64": 1e-8, "float32": 1e-3}},
        params={
            "damping": Param(float, 1e-3, min=0.0, doc="lambda (relative: a multiple of the top eigenvalue of G^T G / m)"),
            "relative": Param(bool, False, doc="damping relative to the largest eigenvalue of G^T G / m"),
            "vectors": Param(int, 1, min=1, doc="k: products per call (time k = 1 and k = K to separate setup)"),
            "rhs": Param(str, "gradients", choices=RHS, doc="the vectors: the newest gradients, or Gaussian"),
            "vector_seed": Param(int, 0, min=0, doc="seed of the Gaussian vectors"),
            "stream": Param(int, 0, min=0, doc="leading rows of the generator's matrix that become history"),
        },
    )
)
