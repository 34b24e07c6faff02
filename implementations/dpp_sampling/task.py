"""The ``dpp_sampling`` contract: choose rows of a tall ``A`` for a weighted least-squares fit.

A problem is a tall ``A`` (``N x m``, full column rank) and a target ``b`` (``N``) that a
method may not read (``Task.hidden``: in active regression the responses are costly and
only the chosen rows' are observed). A method draws ``n = round(factor m)`` rows, in
order, with weights, from ``A`` alone, and returns

- ``indices`` (``n``): the rows drawn, repeats allowed (i.i.d. draws);
- ``weights`` (``n``, in the cell's dtype): the weight of each draw in the fit;
- ``blocks`` (``n``): a nondecreasing block number per draw, its natural unit (one i.i.d.
  draw; one whole projection DPP of ``m`` rows): a prefix ending inside a block is not a
  sample the method would produce.

The score fits ``x_S = argmin_x sum_k w_k (a_{i_k}^T x - b_{i_k})^2`` (LAPACK ``gelsd``
on ``sqrt(w) A_S``: the minimum-norm solution when ``A_S`` is rank-deficient, as i.i.d.
uniform draws at ``n ~ m`` often are) and measures it on all ``N`` rows against the
reference's ``x* = argmin ||A x - b||`` (Householder QR in float64, which also keeps
``R`` and ``r* = b - A x*``).

Metrics:

- ``excess_risk`` (primary, scale error): ``||b - A x_S||^2 / ||b - A x*||^2 - 1``, the
  loss over the optimum, evaluated as ``||A (x_S - x*)||^2 / ||r*||^2`` (Pythagoras: ``r*
  ⟂ range(A)``), so no cancellation. ``1 + excess_risk`` is the quasi-optimality constant
  of this draw. A consistent problem (``||r*|| <= 1e-12 ||b||`` or below the rounding of
  ``A x*``): the denominator is ``||b||^2`` and the metric the squared relative fit error,
  0 up to rounding for every sample with a nonsingular ``A_S``.
- ``samples_needed`` (count): the fewest draws, in whole blocks, whose weighted fit
  reaches the quasi-optimality constant ``C`` (task parameter ``constant``), i.e.
  ``||b - A x_prefix||^2 <= C ||r*||^2``: the first such prefix of the method's own order
  (an oracle stopping rule on one sample path, so it varies over seeds like the sample
  itself; ``trials`` give its quantiles). ``n + 1`` means not reached within the ``n``
  draws (censored: give the method a larger ``factor``). Prefixes are evaluated in the
  whitened coordinates ``V = A R^-1`` (``||A d|| = ||R d||``): the weighted Gram matrix
  ``G_k`` and ``h_k = sum w v r*`` are accumulated block by block and ``||G_k^-1
  h_k||^2 / ||r*||^2`` is the prefix's excess risk, ``O(n m^2)`` for the sums and ``m^3/3``
  per evaluated prefix; past :data:`MAX_PREFIXES` block ends only that many, evenly spread
  over the draws, are evaluated (a resolution of ``n / 400`` draws). A singular ``G_k``
  has not reached ``C``.
- ``samples_stable`` (count): the fewest draws, in whole blocks, whose whitened weighted
  Gram matrix ``G_k = sum w v v^T`` has condition number ``<= 3``, i.e. ``||alpha G_k -
  I||_2 <= 1/2`` for the best scale ``alpha`` (the minimum over ``alpha`` is ``(l_max -
  l_min) / (l_max + l_min)``): the stability event under which Cohen and Migliorati
  (2017) and Nouy and Michel (2023) prove quasi-optimality, which i.i.d. sampling reaches
  only with ``n ~ m log m`` draws (a coupon collector). Scale-free, so it also applies to
  unweighted fits. ``n + 1``: not reached.
- ``setup_seconds``, ``sampling_seconds`` (scale value): the time a method measured inside
  itself for its preprocessing (the orthonormal basis and leverage scores) and for its
  draws (device-synchronized), so that a DPP's ``O(N m^2)`` chain rule is seen apart from
  the QR it shares with leverage-score sampling.

Task parameters: ``factor`` (``n = round(factor m)``, at least ``m``: from the dimension
to ``10 m`` in the suites) and ``constant`` (``C > 1``, default 2).

Preconditions (:func:`check_inputs`): ``A`` finite, ``N >= m``, full column rank
(``s_min > max(N, m) eps s_max``: leverage scores and the ``m``-point projection DPP
need rank ``m``); ``b`` finite, nonzero, with ``N`` entries; ``n >= m``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import scipy.linalg as la

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

EPS = float(np.finfo(np.float64).eps)
#: below this times ||b|| the optimal residual counts as zero (a consistent problem)
ZERO_RESIDUAL = 1e-12
#: the condition number of the whitened Gram matrix that counts as stable (``samples_stable``)
STABLE_KAPPA = 3.0
#: the most prefixes :func:`prefix_counts` evaluates
MAX_PREFIXES = 400


def sample_size(m: int, factor: float) -> int:
    """``n = round(factor m)``, the draws every method returns."""
    return int(round(factor * m))


def make_inputs(matrix: Any, factor: float = 10.0, constant: float = 2.0) -> dict[str, Any]:
    """``A``, the hidden ``b`` and the task parameters from a generator's ``{"A", "b"}``."""
    if not isinstance(matrix, Mapping) or set(matrix) != {"A", "b"}:
        got = sorted(matrix) if isinstance(matrix, Mapping) else type(matrix).__name__
        raise ValueError(f"dpp_sampling needs a generator returning {{'A', 'b'}} (implementations/dpp_sampling/"
                         f"generators.py); got {got}")
    A = np.ascontiguousarray(np.asarray(matrix["A"], dtype=np.float64))
    b = np.ascontiguousarray(np.asarray(matrix["b"], dtype=np.float64).ravel())
    return {"A": A, "b": b, "factor": float(factor), "constant": float(constant)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    A, b = inputs["A"], inputs["b"]
    if A.ndim != 2:
        return f"A must be a matrix, got shape {A.shape}"
    N, m = A.shape
    if not np.all(np.isfinite(A)):
        return f"A has {int((~np.isfinite(A)).sum())} NaN or Inf entries"
    if b.shape != (N,):
        return f"b must have N = {N} entries, got shape {b.shape}"
    if not np.all(np.isfinite(b)):
        return f"b has {int((~np.isfinite(b)).sum())} NaN or Inf entries"
    if m < 1 or N < m:
        return f"A must be tall (N >= m >= 1), got {N} x {m}"
    n = sample_size(m, inputs["factor"])
    if n < m:
        return f"n = round(factor m) = {n} draws < m = {m}: a weighted fit of m unknowns needs at least m rows"
    if not inputs["constant"] > 1.0:
        return f"the quasi-optimality constant C = {inputs['constant']} must exceed 1 (1 is the optimum itself)"
    if not np.any(b):
        return "b is zero: x* = 0 and every fit is exact"
    s = np.linalg.svd(A, compute_uv=False)
    tol = max(N, m) * EPS
    if s[0] == 0.0:
        return "A is zero"
    if s[-1] <= tol * s[0]:
        return (f"A is numerically rank-deficient: s_min / s_max = {s[-1] / s[0]:.2g} <= {tol:.2g}; leverage scores "
                f"and an m-point projection DPP need rank m = {m}")
    return None


def draws(output: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indices, weights, blocks)`` of an output, as int, float64, int arrays."""
    idx = np.asarray(output["indices"])
    return (np.rint(idx).astype(np.int64), np.asarray(output["weights"], dtype=np.float64),
            np.rint(np.asarray(output["blocks"])).astype(np.int64))


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    if not isinstance(output, Mapping) or not {"indices", "weights", "blocks"} <= set(output):
        got = sorted(output) if isinstance(output, Mapping) else type(output).__name__
        return f"expected a dict with indices, weights and blocks, got {got}"
    N, m = inputs["A"].shape
    # the reference's own output is every row (it also carries x); a method's is n draws
    n = N if "x" in output else sample_size(m, inputs["factor"])
    for key in ("indices", "weights", "blocks"):
        if np.shape(output[key]) != (n,):
            return f"{key} must have shape ({n},), got {np.shape(output[key])}"
    idx, w, blocks = draws(output)
    if not np.array_equal(idx, np.asarray(output["indices"])):
        return "indices are not integers"
    if idx.min() < 0 or idx.max() >= N:
        return f"indices must lie in [0, {N}), found [{idx.min()}, {idx.max()}]"
    if not np.all(w > 0):
        return f"weights must be positive, found min {w.min():.3g}"
    if np.any(np.diff(blocks) < 0):
        return "blocks must be nondecreasing (draws are returned in order)"
    return None


def consistent(r_norm: float, b_norm: float, A: np.ndarray, x: np.ndarray) -> bool:
    """Whether ``||r*||`` is zero up to rounding: ``<= 1e-12 ||b||`` or ``<= 10 sqrt(m) u
    (||A||_F ||x*|| + ||b||)``, the rounding of computing ``b - A x*``."""
    rounding = 10.0 * math.sqrt(A.shape[1]) * EPS * (np.linalg.norm(A) * np.linalg.norm(x) + b_norm)
    return r_norm <= max(ZERO_RESIDUAL * b_norm, rounding)


def loss_scale(reference: Mapping[str, Any], inputs: Mapping[str, Any]) -> float:
    """``||r*||^2``, or ``||b||^2`` for a consistent problem (module docstring)."""
    b = inputs["b"]
    r_norm, b_norm = float(np.linalg.norm(reference["residual"])), float(np.linalg.norm(b))
    if consistent(r_norm, b_norm, inputs["A"], np.asarray(reference["x"])):
        return b_norm ** 2
    return r_norm ** 2


def weighted_fit(A: np.ndarray, b: np.ndarray, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``argmin_x sum_k w_k (a_{i_k}^T x - b_{i_k})^2``, minimum-norm when not unique."""
    s = np.sqrt(w)
    return la.lstsq(A[idx] * s[:, None], b[idx] * s, lapack_driver="gelsd", check_finite=False)[0]


def prefix_ends(blocks: np.ndarray) -> np.ndarray:
    """The prefix lengths to evaluate: every block end, or :data:`MAX_PREFIXES` of them
    (the last block end at or before each of that many evenly spread draw counts)."""
    ends = np.flatnonzero(np.diff(blocks) != 0) + 1
    ends = np.append(ends, blocks.size)
    if ends.size <= MAX_PREFIXES:
        return ends
    marks = np.linspace(blocks.size / MAX_PREFIXES, blocks.size, MAX_PREFIXES)
    pos = np.searchsorted(ends, marks, side="right") - 1
    return np.unique(ends[pos[pos >= 0]])


def prefix_counts(output: Mapping[str, Any], reference: Mapping[str, Any],
                  inputs: Mapping[str, Any]) -> tuple[int, int]:
    """``(samples_needed, samples_stable)``: the first whole-block prefix whose fit reaches
    ``C``, and the first whose whitened Gram matrix has ``kappa(G_k) <= 3``; ``n + 1`` for
    one never reached (module docstring)."""
    idx, w, blocks = draws(output)
    target = (inputs["constant"] - 1.0) * loss_scale(reference, inputs)
    R = np.asarray(reference["R"])
    V = la.solve_triangular(R, inputs["A"][idx].T, trans="T", lower=False, check_finite=False).T  # rows of A R^-1
    r = np.asarray(reference["residual"])[idx]
    m = R.shape[0]
    G, h, start = np.zeros((m, m)), np.zeros(m), 0
    needed = stable = idx.size + 1
    for end in prefix_ends(blocks):
        Vb = V[start:end] * w[start:end, None]
        G += Vb.T @ V[start:end]
        h += Vb.T @ r[start:end]
        start = end
        if end < m:
            continue
        if stable > end:
            ev = np.linalg.eigvalsh(G)
            if ev[0] > 0 and ev[-1] <= STABLE_KAPPA * ev[0]:
                stable = end
        if needed > end:
            try:
                c = la.cho_factor(G, check_finite=False)
            except la.LinAlgError:
                continue  # singular (or not numerically definite): not reached
            if np.min(np.diag(c[0])) ** 2 <= m * EPS * np.max(np.diag(G)):
                continue
            d = la.cho_solve(c, h, check_finite=False)
            if float(d @ d) <= target:
                needed = end
        if needed <= end and stable <= end:
            break
    return int(needed), int(stable)


def samples_needed(output: Mapping[str, Any], reference: Mapping[str, Any], inputs: Mapping[str, Any]) -> int:
    """The first whole-block prefix whose fit reaches ``C`` (module docstring); ``n + 1`` if none."""
    return prefix_counts(output, reference, inputs)[0]


def score(output: Any, reference: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, float]:
    problem = check_output(output, reference, inputs)
    if problem:
        raise ValueError(problem)
    A, b = inputs["A"], inputs["b"]
    idx, w, _ = draws(output)
    x = weighted_fit(A, b, idx, w)
    excess = float(np.linalg.norm(A @ (x - np.asarray(reference["x"]))) ** 2) / loss_scale(reference, inputs)
    needed, stable = prefix_counts(output, reference, inputs)
    return {"excess_risk": excess, "samples_needed": float(needed), "samples_stable": float(stable)}


TASK = register_task(
    Task(
        name="dpp_sampling",
        description="Diverse row sampling for weighted least squares: projection DPPs, volume and volume-rescaled "
                    "sampling against i.i.d. leverage-score and uniform sampling.",
        metrics=(
            Metric("excess_risk", "lower", doc="||b - A x_S||^2 / ||b - A x*||^2 - 1 over all N rows (primary)"),
            Metric("samples_needed", "lower", unit="samples", scale="count",
                   doc="fewest draws (whole blocks) whose fit has ||b - A x||^2 <= C ||b - A x*||^2; n + 1: none"),
            Metric("samples_stable", "lower", unit="samples", scale="count",
                   doc="fewest draws (whole blocks) whose whitened weighted Gram matrix has condition number <= 3; "
                       "n + 1: not reached"),
            Metric("setup_seconds", "lower", unit="s", scale="value",
                   doc="preprocessing time measured by the method (orthonormal basis, leverage scores)"),
            Metric("sampling_seconds", "lower", unit="s", scale="value",
                   doc="time of the draws measured by the method (device-synchronized)"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        hidden=("b",),
        example={"generator": "dpp_gaussian", "params": {"N": 300, "m": 6}, "task_params": {"factor": 10.0}},
        example_gates={"excess_risk": {"float64": 3.0, "float32": 3.0}},
        params={
            "factor": Param(float, 10.0, min=0.0, doc="draws n = round(factor m), at least m"),
            "constant": Param(float, 2.0, min=1.0, doc="quasi-optimality constant C of samples_needed (> 1)"),
        },
    )
)
