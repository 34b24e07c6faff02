"""The ``precision`` contract: inputs, metrics and scoring.

Given ``n`` samples of ``p`` variables, ``X`` (``n x p``, rows independent draws of
``N(mu, Sigma)``), estimate the precision matrix ``Theta = Sigma^-1``. Methods see ``X``
only. Two inputs are hidden from them (``Task.hidden``), seen by the reference and the
score alone:

- ``heldout``: ``m x p`` further samples of the same distribution (real data: the rows
  not used for training, standardized with the training mean and scale);
- ``precision``: the true ``Theta`` (``p x p``), for synthetic problems only.

Output: the estimate ``Theta_hat`` (``p x p``, symmetric positive definite: a precision
matrix that is not is refused by :func:`check_output`, the cell an ``error``). Metrics:

- ``rel_frobenius``: ``||Theta_hat - Theta||_F / ||Theta||_F`` (synthetic only);
- ``rel_spectral``: ``||Theta_hat - Theta||_2 / ||Theta||_2`` (synthetic only);
- ``edge_f1``: the F1 score of the estimated graph against the true one (synthetic
  only): an edge ``{i, j}`` (``i < j``) is estimated where the partial correlation
  ``|Theta_hat_ij| / sqrt(Theta_hat_ii Theta_hat_jj)`` exceeds :data:`EDGE_THRESHOLD`
  (``1e-4``: "nonzero", so sparse estimators are read as they come, with exact zeros,
  and dense ones, the shrinkage estimators and the sample inverse, select every edge),
  and is true where ``Theta_ij != 0``. ``F1 = 2 TP / (2 TP + FP + FN)``, 1 when both
  graphs are empty;
- ``heldout_loglik``: the mean Gaussian log-likelihood of the held-out samples under
  ``N(xbar, Theta_hat^-1)``, ``xbar`` the training mean: ``(log det Theta_hat -
  tr(S_h Theta_hat) - p log 2 pi) / 2`` with ``S_h`` the held-out scatter about ``xbar``
  (higher is better; a measured value with no exact target, scale ``value``);
- ``iterations``: iterations an iterative method ran (reported by the method).

A metric a problem cannot give is left out of its record (on real data: the three that
need the truth); the engine stores only what the score returns, so a suite must not gate
on them there.

Preconditions (:func:`check_inputs`): ``X`` two-dimensional and finite, ``n >= 2`` (one
sample has no covariance), ``p >= 2``, no constant column (a variable with zero sample
variance has no finite precision: every likelihood-based estimate diverges, and a real
data set such as digits has blank pixels); ``heldout`` finite with ``p`` columns and at
least one row; ``precision``, where given, ``p x p``, symmetric and positive definite.
``n <= p`` is allowed: the sample covariance is then singular and the sample inverse
does not apply (skipped, with the reason), while shrinkage, the graphical lasso and the
M-matrix estimators still exist (the MTP2 MLE exists from ``n = 2`` almost surely,
Lauritzen, Uhler and Zwiernik 2019).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from matrixbench.registry import Metric, Task, register_task

from implementations.common.spd_checks import SYMMETRY_TOL, asymmetry, check_finite

#: the partial correlation above which an estimated entry counts as an edge
EDGE_THRESHOLD = 1e-4
#: the asymmetry ``||T - T^T||_F / ||T||_F`` an output may have (a float32 estimate
#: assembled column by column); the score uses ``(T + T^T) / 2``
OUTPUT_SYMMETRY_TOL = 1e-4


def make_inputs(matrix: Any) -> dict[str, Any]:
    """The generator's ``{"X", "heldout", "precision"?}`` as float64 arrays."""
    if not isinstance(matrix, Mapping) or "X" not in matrix or "heldout" not in matrix:
        raise ValueError("precision needs a generator that gives {'X': samples, 'heldout': samples, "
                         "'precision': Theta (optional)}, such as gaussian_graph or real_features")
    inputs = {"X": np.ascontiguousarray(np.asarray(matrix["X"], dtype=np.float64)),
              "heldout": np.ascontiguousarray(np.asarray(matrix["heldout"], dtype=np.float64))}
    if matrix.get("precision") is not None:
        inputs["precision"] = np.ascontiguousarray(np.asarray(matrix["precision"], dtype=np.float64))
    return inputs


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    X, H = inputs["X"], inputs["heldout"]
    if np.ndim(X) != 2:
        return f"X must be a 2-D array of samples (n x p), got shape {np.shape(X)}"
    n, p = X.shape
    bad = check_finite(X, name="X")
    if bad:
        return bad + " (missing values must be imputed or dropped before estimation)"
    if n < 2:
        return f"n = {n} sample: a covariance needs at least 2 samples"
    if p < 2:
        return f"p = {p} variable: there is no graph to estimate (p >= 2 needed)"
    spread = X.max(axis=0) - X.min(axis=0)
    constant = np.flatnonzero(spread <= 1e-12 * max(float(np.abs(X).max()), 1.0))
    if constant.size:
        return (f"{constant.size} constant column(s) of X (first: column {int(constant[0])}): zero sample variance, "
                f"so no likelihood-based precision estimate is finite; drop them first")
    if np.ndim(H) != 2 or H.shape[1] != p or H.shape[0] < 1:
        return f"heldout must hold at least one sample of the same p = {p} variables, got shape {np.shape(H)}"
    bad = check_finite(H, name="heldout")
    if bad:
        return bad
    if "precision" in inputs:
        T = inputs["precision"]
        if np.shape(T) != (p, p):
            return f"the true precision must be p x p = {p} x {p}, got shape {np.shape(T)}"
        bad = check_finite(T, name="the true precision")
        if bad:
            return bad
        if float(asymmetry(T)) > SYMMETRY_TOL:
            return f"the true precision is not symmetric: ||T - T^T||_F / ||T||_F = {float(asymmetry(T)):.3g}"
        if np.linalg.eigvalsh(T)[0] <= 0:
            return f"the true precision is not positive definite (smallest eigenvalue {np.linalg.eigvalsh(T)[0]:.3g})"
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    p = inputs["X"].shape[1]
    T = np.asarray(output, dtype=np.float64)
    if T.shape != (p, p):
        return f"expected a p x p = {p} x {p} precision estimate, got shape {T.shape}"
    if not np.all(np.isfinite(T)):
        return None  # the engine reports NaN/Inf itself
    if float(asymmetry(T)) > OUTPUT_SYMMETRY_TOL:
        return f"the estimate is not symmetric: ||T - T^T||_F / ||T||_F = {float(asymmetry(T)):.3g}"
    smallest = float(np.linalg.eigvalsh((T + T.T) / 2)[0])
    if smallest <= 0:
        return f"the estimate is not positive definite (smallest eigenvalue {smallest:.3g}): not a precision matrix"
    return None


def edges(T: np.ndarray, threshold: float = EDGE_THRESHOLD) -> np.ndarray:
    """The upper-triangle edge indicator of a precision (estimate): partial correlation above ``threshold``."""
    d = np.sqrt(np.abs(np.diag(T)))
    scale = np.outer(d, d)
    partial = np.abs(T) / np.where(scale > 0, scale, 1.0)
    return partial[np.triu_indices(T.shape[0], 1)] > threshold


def f1_score(estimated: np.ndarray, true: np.ndarray) -> float:
    """``2 TP / (2 TP + FP + FN)`` of two boolean edge sets; 1 when both are empty."""
    tp = int(np.sum(estimated & true))
    wrong = int(np.sum(estimated != true))
    return 1.0 if tp == 0 and wrong == 0 else 2.0 * tp / (2.0 * tp + wrong)


def heldout_loglik(T: np.ndarray, X: np.ndarray, heldout: np.ndarray) -> float:
    """Mean log-density of the held-out rows under ``N(mean(X), T^-1)``."""
    centered = heldout - X.mean(axis=0)
    p = T.shape[0]
    L = np.linalg.cholesky(T)
    logdet = 2.0 * float(np.log(np.diag(L)).sum())
    quad = float(np.einsum("ij,jk,ik->", centered, T, centered)) / heldout.shape[0]
    return 0.5 * (logdet - quad - p * math.log(2.0 * math.pi))


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    T = np.asarray(output, dtype=np.float64)
    T = (T + T.T) / 2
    scores = {"heldout_loglik": heldout_loglik(T, inputs["X"], inputs["heldout"])}
    if "precision" in inputs:
        truth = inputs["precision"]
        E = T - truth
        scores["rel_frobenius"] = float(np.linalg.norm(E) / np.linalg.norm(truth))
        scores["rel_spectral"] = float(np.linalg.norm(E, 2) / np.linalg.norm(truth, 2))
        scores["edge_f1"] = f1_score(edges(T), truth[np.triu_indices(truth.shape[0], 1)] != 0)
    return scores


TASK = register_task(
    Task(
        name="precision",
        description="Precision-matrix estimation from Gaussian samples: sample inverse, Ledoit-Wolf, OAS, "
                    "graphical lasso, M-matrix (MTP2) MLE and adaptive MTP2.",
        metrics=(
            Metric("rel_frobenius", "lower", doc="||T - Theta||_F / ||Theta||_F against the true precision"),
            Metric("rel_spectral", "lower", doc="||T - Theta||_2 / ||Theta||_2 against the true precision"),
            Metric("edge_f1", "higher", doc="F1 of the estimated graph (partial correlation > 1e-4) against the true one",
                   scale="score"),
            Metric("heldout_loglik", "higher", unit="nats/sample",
                   doc="mean Gaussian log-likelihood of held-out samples under N(training mean, T^-1)", scale="value"),
            Metric("iterations", "lower", unit="iterations", doc="iterations the method ran", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        hidden=("heldout", "precision"),
        example={"generator": "gaussian_graph", "params": {"p": 10, "ratio": 20.0, "graph": "chain"}},
        # a sanity gate: every estimator, shrinkage included, is within 60% of the truth at n = 20 p
        example_gates={"rel_frobenius": {"float64": 0.6, "float32": 0.6}},
    )
)
