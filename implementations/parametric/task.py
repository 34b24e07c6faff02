"""The ``parametric`` contract: inputs, metrics and scoring.

A parametrized SPD matrix with an affine decomposition ``A(mu) = sum_{q=1}^Q theta_q(mu) A_q``
(``A_q`` symmetric, dense or SciPy sparse, ``n x n``), a training set and a test set of
parameters (``mu_train``: ``T x d``, ``mu_test``: ``S x d``) with the values of the parameter
functions there (``theta_train``: ``T x Q``, ``theta_test``: ``S x Q``), the parameter
domain (``domain``: ``d x 2``, the box the sets are drawn from) and a fixed right-hand side
block ``B`` (``n x k``). For every test parameter compute, by the task parameter ``quantity``:

- ``solve``: ``X(mu) = A(mu)^-1 B`` (output ``S x n x k``). The action on a small block, not
  the inverse itself: ``S`` full ``n x n`` inverses at ``n = 5000`` are ``S`` times 200 MB
  and ``n^3`` flops each, and no application needs them (a quantity of interest is
  ``L^T A(mu)^-1 B``);
- ``logdet``: ``log det A(mu)`` (output ``S``).

One quantity per problem rather than both in one output: a method's time is then the time
of what it computes (a log-determinant from a Cholesky factor is free once the factor
exists, from a power series it is not), and methods that give only solves (conjugate
gradients, a Galerkin projection) are skipped on ``logdet`` with the reason.

Methods split their work into an offline phase (anything done once: training solves,
interpolation points, projections) and an online phase (per test parameter), time both
with ``time.perf_counter`` and report them (``offline_time`` in seconds, ``online_time`` in
seconds per test parameter). How the offline phase may use the problem: only through
``A(mu)`` at the training parameters (``theta_train``) and, online, ``theta_test``; a method
that needs ``A(mu)`` at other parameters (Chebyshev nodes) finds them in the training set,
which for a one-parameter problem is the Chebyshev-Lobatto grid of the domain.

Preconditions (:func:`check_inputs`): the terms square, of one size, symmetric to ``1e-12``
and finite; ``theta``, ``mu``, ``B`` finite with consistent shapes; ``B`` not zero; and
``A(mu)`` positive definite at every test parameter (a Cholesky factorization each, the
reference's own work): a problem breaking one is refused with the reason.

Metrics, lower is better, in float64: ``rel_error_max`` and ``rel_error_median`` over the
test parameters of ``||X - X*||_F / ||X*||_F`` (solve) or ``|l - l*| / |l*|`` (logdet; the
denominator floored at ``n 2^-53``); ``offline_time`` and ``online_time`` (scale ``value``:
measured, no exact value); ``size`` (count: the terms per power, basis vectors or nodes a
method's online phase combines), ``train_points`` (count: training parameters at which the
offline phase used ``A(mu)``), ``powers`` (EIM) and ``iterations`` (CG).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse as sp

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from ._affine import Factor, NotDefinite, assemble

QUANTITIES = ("solve", "logdet")
SYMMETRY_TOL = 1e-12


def make_inputs(matrix: Mapping[str, Any], quantity: str = "solve") -> dict[str, Any]:
    """The generator's parts as float64 arrays (terms a list, dense or CSR) and ``quantity``."""
    if not isinstance(matrix, Mapping) or "terms" not in matrix:
        raise ValueError("parametric needs a generator of this task (param_diffusion, param_kernel, "
                         "param_graph_reg): a dict with terms, theta_train, theta_test, mu_train, mu_test, B")
    terms = [sp.csr_matrix(A, dtype=np.float64) if sp.issparse(A) else np.ascontiguousarray(A, dtype=np.float64)
             for A in matrix["terms"]]
    out = {"terms": terms}
    for key in ("theta_train", "theta_test", "mu_train", "mu_test", "domain"):
        out[key] = np.atleast_2d(np.asarray(matrix[key], dtype=np.float64))
    B = np.asarray(matrix["B"], dtype=np.float64)
    out["B"] = np.ascontiguousarray(B[:, None] if B.ndim == 1 else B)
    out["quantity"] = quantity
    return out


def _finite(x: Any) -> bool:
    return bool(np.all(np.isfinite(x.data if sp.issparse(x) else x)))


def _asymmetry(A: Any) -> float:
    if sp.issparse(A):
        from scipy.sparse.linalg import norm

        den = norm(A)
        return float(norm(A - A.T) / den) if den > 0 else 0.0
    den = np.linalg.norm(A)
    return float(np.linalg.norm(A - A.T) / den) if den > 0 else 0.0


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    terms = inputs["terms"]
    if inputs["quantity"] not in QUANTITIES:
        return f"quantity must be one of {QUANTITIES}, got {inputs['quantity']!r}"
    if not terms:
        return "no affine terms A_q"
    n = terms[0].shape[0]
    for q, A in enumerate(terms):
        if A.ndim != 2 or A.shape != (n, n):
            return f"term A_{q} has shape {A.shape}, expected ({n}, {n}) like A_0"
        if not _finite(A):
            return f"term A_{q} has NaN or Inf entries"
        if _asymmetry(A) > SYMMETRY_TOL:
            return f"term A_{q} is not symmetric: ||A - A^T||_F/||A||_F = {_asymmetry(A):.3g} (tolerance 1e-12)"
    if sum(sp.issparse(A) for A in terms) not in (0, len(terms)):
        return "the terms mix dense and sparse matrices"
    Q = len(terms)
    for name in ("theta_train", "theta_test", "mu_train", "mu_test", "domain", "B"):
        if not _finite(inputs[name]):
            return f"{name} has NaN or Inf entries"
    for name in ("theta_train", "theta_test"):
        if inputs[name].ndim != 2 or inputs[name].shape[1] != Q:
            return f"{name} has shape {inputs[name].shape}, expected (count, Q = {Q}): one value per affine term"
    d = inputs["mu_train"].shape[1]
    for theta, mu in (("theta_train", "mu_train"), ("theta_test", "mu_test")):
        if inputs[mu].shape != (inputs[theta].shape[0], d):
            return f"{mu} has shape {inputs[mu].shape}, expected ({inputs[theta].shape[0]}, {d}): one row per {theta} row"
    if inputs["domain"].shape != (d, 2) or np.any(inputs["domain"][:, 0] > inputs["domain"][:, 1]):
        return f"domain must be ({d}, 2) with low <= high per parameter, got {inputs['domain'].tolist()}"
    B = inputs["B"]
    if B.ndim != 2 or B.shape[0] != n:
        return f"B has shape {B.shape}, expected ({n}, k)"
    if not np.any(B):
        return "B is zero: every solution is 0 and relative errors are undefined"
    for s, theta in enumerate(inputs["theta_test"]):
        try:
            Factor(assemble(terms, theta))
        except NotDefinite as exc:
            return (f"A(mu) is not positive definite at test parameter {s} (mu = {inputs['mu_test'][s].tolist()}, "
                    f"theta = {theta.tolist()}): {exc}")
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    S = inputs["theta_test"].shape[0]
    want = (S,) + inputs["B"].shape if inputs["quantity"] == "solve" else (S,)
    if np.shape(output) != want:
        return f"expected an output of shape {want} ({inputs['quantity']} at {S} test parameters), got {np.shape(output)}"
    return None


def errors(output: Any, reference: Any, inputs: Mapping[str, Any]) -> np.ndarray:
    """The relative error at each test parameter."""
    got = np.asarray(output, dtype=np.float64)
    want = np.asarray(reference, dtype=np.float64)
    if inputs["quantity"] == "solve":
        num = np.linalg.norm((got - want).reshape(len(want), -1), axis=1)
        den = np.linalg.norm(want.reshape(len(want), -1), axis=1)
        return num / np.maximum(den, 2.0**-53)
    floor = inputs["B"].shape[0] * 2.0**-53
    return np.abs(got - want) / np.maximum(np.abs(want), floor)


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    e = errors(output, reference, inputs)
    return {"rel_error_max": float(e.max()), "rel_error_median": float(np.median(e))}


TASK = register_task(
    Task(
        name="parametric",
        description="A(mu)^-1 B and log det A(mu) for affine A(mu) = sum_q theta_q(mu) A_q over many mu: "
                    "nonintrusive EIM, reduced basis, Chebyshev interpolation, solving from scratch.",
        metrics=(
            Metric("rel_error_max", "lower", doc="max over test mu of the relative error (Frobenius; |.| for logdet)"),
            Metric("rel_error_median", "lower", doc="median over test mu of the relative error"),
            Metric("offline_time", "lower", unit="s", scale="value",
                   doc="seconds of the offline phase, measured by the method (time.perf_counter)"),
            Metric("online_time", "lower", unit="s", scale="value",
                   doc="seconds of the online phase per test parameter, measured by the method"),
            Metric("size", "lower", unit="terms", scale="count",
                   doc="terms (EIM, per power), basis vectors (RB) or nodes (Chebyshev) combined online"),
            Metric("train_points", "lower", unit="parameters", scale="count",
                   doc="training parameters at which the offline phase used A(mu) (solves, power sequences)"),
            Metric("powers", "lower", unit="powers", scale="count", doc="powers of the EIM's series, P"),
            Metric("iterations", "lower", unit="steps", scale="count", doc="CG iterations, all test mu together"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        example={"generator": "param_diffusion",
                 "params": {"n": 40, "regions": 2, "contrast": 2.0, "train": 17, "test": 5},
                 "task_params": {"quantity": "solve"}},
        example_gates={"rel_error_max": {"float64": 1e-5, "float32": 1e-2}},
        params={"quantity": Param(str, "solve", choices=QUANTITIES,
                                  doc="solve: A(mu)^-1 B at each test mu; logdet: log det A(mu)")},
    )
)
