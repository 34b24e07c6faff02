"""trace_logdet: the counted operator, each estimator's known property against independent
computations (eigenvalues, closed forms, finite differences, curvlinops), the budget, and
the task through the engine and the report."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.trace_logdet  # noqa: F401
from implementations.common.kernels import standardized_rows
from implementations.trace_logdet import generators as gen
from implementations.trace_logdet.baselines import curvlinops_xtrace
from implementations.trace_logdet.hutchinson import hutchinson
from implementations.trace_logdet.hutchpp import hutchpp
from implementations.trace_logdet.nystrompp import nystrompp
from implementations.trace_logdet.slq import gauss_rule, lanczos_blocks, slq
from implementations.trace_logdet.xtrace import xnystrace, xtrace
from matrixbench.operators import LinearOperator
from matrixbench.store import read_run

OURS = {"hutchinson": hutchinson, "hutchpp": hutchpp, "nystrompp": nystrompp, "xtrace": xtrace,
        "xnystrace": xnystrace, "slq": slq}


def op(A: np.ndarray) -> LinearOperator:
    return LinearOperator.of(torch.from_numpy(np.ascontiguousarray(A)))


def with_spectrum(lam: np.ndarray, seed: int = 0) -> np.ndarray:
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(lam), len(lam))))[0]
    A = (Q * lam) @ Q.T
    return 0.5 * (A + A.T)


# ------------------------------------------------------------------ the operator

def test_operator_counts_every_vector_of_every_form():
    rng = np.random.default_rng(0)
    J = rng.standard_normal((30, 8))
    A = J.T @ J + 0.5 * np.eye(8)
    V = rng.standard_normal((8, 3))
    forms = {"dense": torch.from_numpy(A), "numpy": A, "sparse": torch.from_numpy(A).to_sparse_csr(),
             "scipy": sp.csr_matrix(A), "gram": {"gram_factor": torch.from_numpy(J), "shift": 0.5}}
    for name, value in forms.items():
        o = LinearOperator.of(value)
        Vt = torch.from_numpy(V) if name != "numpy" and name != "scipy" else V
        out = o @ Vt
        out = out.numpy() if isinstance(out, torch.Tensor) else out
        assert np.allclose(out, A @ V, rtol=1e-12, atol=1e-12), name
        o @ (Vt[:, 0])
        assert o.products == 4, (name, o.products)
    with pytest.raises(ValueError, match="shape"):
        op(A) @ torch.zeros(5, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match="square"):
        LinearOperator.of(torch.zeros(3, 4))
    # a fresh operator per call: the engine's count starts at zero every time
    assert LinearOperator.of(LinearOperator.of(A)).products == 0


# ------------------------------------------------------------------ estimators

def test_hutchinson_is_unbiased_over_2000_seeds():
    A = with_spectrum(np.linspace(0.5, 4.0, 30))
    exact = np.trace(A)
    for probes in ("rademacher", "gaussian"):
        ests = np.array([float(hutchinson(op(A), budget=3, probes=probes, seed=s)) for s in range(2000)])
        se = ests.std(ddof=1) / math.sqrt(len(ests))
        assert abs(ests.mean() - exact) < 3 * se, (probes, ests.mean(), exact, se)
        assert ests.std() > 1e-3  # the seeds do differ


def test_rademacher_variance_is_the_closed_form():
    """Var of one Rademacher probe: 2 (||A||_F^2 - sum a_ii^2) (Hutchinson 1989)."""
    A = with_spectrum(np.geomspace(0.1, 3.0, 20), seed=3)
    ests = np.array([float(hutchinson(op(A), budget=1, seed=s)) for s in range(4000)])
    want = 2 * (np.sum(A * A) - np.sum(np.diag(A) ** 2))
    assert abs(ests.var() / want - 1) < 0.1, (ests.var(), want)


@pytest.mark.parametrize("name", ["hutchpp", "nystrompp", "xtrace", "xnystrace"])
def test_deflating_estimators_are_exact_below_their_budget(name):
    """rank A = 5: Hutch++ (s = 10), Nystrom++ (k = 15), XTrace (15 probes) and XNysTrace
    (30) capture all of A; Hutchinson on the same matrix is far off."""
    rng = np.random.default_rng(1)
    B = rng.standard_normal((60, 5))
    A = B @ B.T
    for seed in range(3):
        est = float(OURS[name](op(A), budget=30, seed=seed))
        assert abs(est - np.trace(A)) / np.trace(A) < 1e-9, (name, seed, est, np.trace(A))
    assert abs(float(hutchinson(op(A), budget=30)) - np.trace(A)) / np.trace(A) > 1e-3


def test_every_estimator_spends_at_most_its_budget():
    A = gen.trace_spectrum(np.random.default_rng(0), n=50, spectrum="poly")
    for name, fn in OURS.items():
        for budget in (4, 7, 20, 31, 49):
            o = op(A)
            fn(o, budget=budget)
            assert budget - 3 <= o.products <= budget, (name, budget, o.products)


def test_slq_quadrature_is_exact_with_n_steps():
    """One probe, n Lanczos steps: the Gauss rule integrates exactly, so the rule's
    n sum tau^2 log(theta) is v^T log(A) v / ||v||^2 * n from the eigendecomposition."""
    lam = np.geomspace(1e-2, 1.0, 25)
    A = with_spectrum(lam, seed=2)
    v = torch.from_numpy(np.random.default_rng(0).choice([-1.0, 1.0], size=(25, 1)))
    (alpha, beta), = lanczos_blocks(op(A), v, 25)
    theta, w = gauss_rule(alpha, beta)
    Q = np.linalg.eigh(A)[1]
    vv = v.numpy()[:, 0]
    exact = vv @ (Q * np.log(np.linalg.eigvalsh(A))) @ Q.T @ vv / (vv @ vv)
    assert abs(float((w * torch.log(theta)).sum()) - exact) < 1e-10 * abs(exact)


def test_slq_logdet_agrees_with_cholesky():
    """On a diagonal SPD matrix every Rademacher quadratic form is the trace, so SLQ with
    full Lanczos is exact: log det from Cholesky to 1e-6 relative. On a dense one SLQ is
    within its Monte Carlo error."""
    d = np.geomspace(0.05, 7.0, 30)
    exact = 2 * np.log(np.diag(np.linalg.cholesky(np.diag(d)))).sum()
    est = float(slq(op(np.diag(d)), quantity="logdet", budget=60, steps=30))
    assert abs(est - exact) < 1e-6 * abs(exact), (est, exact)
    A = with_spectrum(d, seed=4)
    exact = 2 * np.log(np.diag(np.linalg.cholesky(A))).sum()
    ests = [float(slq(op(A), quantity="logdet", budget=300, steps=30, seed=s)) for s in range(20)]
    assert abs(np.mean(ests) - exact) < 4 * np.std(ests) / math.sqrt(20) + 1e-9, (np.mean(ests), exact)


def test_published_order_on_fast_decay():
    """XTrace's Figure 1 at m = 100 on 0.7^i (n = 300): Hutchinson > Hutch++ > XTrace in mean
    error, XTrace orders of magnitude below Hutch++."""
    A = gen.trace_spectrum(np.random.default_rng(0), n=300, spectrum="fastexp")
    exact = np.trace(A)
    err = {name: np.mean([abs(float(OURS[name](op(A), budget=100, seed=s)) - exact) / exact for s in range(10)])
           for name in ("hutchinson", "hutchpp", "xtrace")}
    assert err["hutchinson"] > err["hutchpp"] > 100 * err["xtrace"], err


@pytest.mark.skipif(importlib.util.find_spec("curvlinops") is None, reason="curvlinops-for-pytorch is not installed")
def test_xtrace_matches_curvlinops_in_distribution():
    """Two independent implementations of XTrace: mean errors over 30 seeds within 2x."""
    A = gen.trace_spectrum(np.random.default_rng(0), n=300, spectrum="poly")
    exact = np.trace(A)
    ours = np.mean([abs(float(xtrace(op(A), budget=60, seed=s)) - exact) for s in range(30)])
    theirs = np.mean([abs(float(curvlinops_xtrace(op(A), budget=60, seed=s)) - exact) for s in range(30)])
    assert 0.5 < ours / theirs < 2, (ours, theirs)


# ------------------------------------------------------------------ generators

def test_trace_spectra_are_xtraces():
    for name, want in {"flat": np.linspace(1, 3, 40), "poly": np.arange(1, 41.0) ** -2, "slowexp": 0.9 ** np.arange(40.0),
                       "bigstep": np.r_[np.ones(2), 1e-8 * np.ones(38)]}.items():
        A = gen.trace_spectrum(np.random.default_rng(0), n=40, spectrum=name)
        assert np.allclose(np.sort(np.linalg.eigvalsh(A)), np.sort(want), rtol=1e-9, atol=1e-13), name
        assert np.array_equal(A, A.T)


def test_ggn_factor_is_the_autoencoder_jacobian():
    """J against central finite differences of the network's outputs."""
    rng = np.random.default_rng(1)
    X = standardized_rows("wine", 6, rng)[0]
    W1, b1, W2, b2 = gen._autoencoder(X, 3, 5, rng)
    J = gen.autoencoder_jacobian(X, W1, b1, W2) * math.sqrt(6)
    theta = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])
    h, d = W1.shape

    def f(t: np.ndarray) -> np.ndarray:
        w1, bb1 = t[: h * d].reshape(h, d), t[h * d: h * d + h]
        w2, bb2 = t[h * d + h: h * d + h + d * h].reshape(d, h), t[h * d + h + d * h:]
        return (np.tanh(X @ w1.T + bb1) @ w2.T + bb2).ravel()

    E = np.column_stack([(f(theta + 1e-6 * e) - f(theta - 1e-6 * e)) / 2e-6 for e in np.eye(len(theta))])
    assert np.abs(E - J).max() < 1e-7 * np.abs(J).max()
    a = gen.ggn_factor(np.random.default_rng(0), samples=12, hidden=2, steps=10)
    assert np.array_equal(a, gen.ggn_factor(np.random.default_rng(0), samples=12, hidden=2, steps=10))


def test_rbf_kernel_is_psd_with_unit_diagonal():
    K = gen.rbf_kernel(np.random.default_rng(0), dataset="wine", samples=80)
    assert np.allclose(np.diag(K), 1.0) and np.array_equal(K, K.T)
    assert np.linalg.eigvalsh(K)[0] > -1e-12


# ------------------------------------------------------------------ through the engine

SUITE = """
name: t
benchmarks:
  - name: tl
    task: trace_logdet
    trials: 2
    problems:
      - generator: trace_spectrum
        params: {n: 40, spectrum: fastexp}
        task_params: {quantity: trace, budget: [8, 16, 32]}
      - generator: ggn_factor
        params: {samples: 8, hidden: 2, steps: 5}
        task_params: {quantity: logdet, budget: 40, form: gram, shift: 1.0e-2}
    methods: [hutchinson, hutchpp, nystrompp, xtrace, xnystrace, slq, reference]
    dtypes: [float64]
    timing: {min_time: 0.0, max_time: 0.02}
  - name: bad
    task: trace_logdet
    problems:
      - generator: ggn_factor
        params: {samples: 8, hidden: 2, steps: 5}
        task_params: {quantity: logdet, budget: 40, form: gram}
    methods: [slq]
    dtypes: [float64]
    timing: {min_time: 0.0, max_time: 0.02}
"""


def test_the_task_through_the_engine_and_the_report(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(SUITE)
    res = run_cli("run", "t.yaml", "--no-table", timeout=600)
    # digits has pixels that are 0 in every image: J has zero columns, J^T J is singular and
    # its log det (no shift) is not defined
    assert res.returncode == 1, res.stderr[-3000:]
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    by = {(r["problem"]["generator"], r["problem"]["task_params"].get("budget"), r["method"]["name"],
           r["problem"]["task_params"]["quantity"]): r for r in run["results"] if r["entry"] == "tl"}
    bad = [r for r in run["results"] if r["entry"] == "bad"]
    assert len(bad) == 1 and bad[0]["status"] == "invalid" and "positive definite" in bad[0]["reason"], bad
    for (g, budget, name, quantity), r in by.items():
        if quantity == "logdet" and name not in ("slq", "reference"):
            assert r["status"] == "skipped" and "log det" in r["reason"], (name, r["reason"])
            continue
        assert r["status"] == "ok", (g, budget, name, r["status"], r["reason"])
        if name == "reference":
            assert r["metrics"]["matvecs"] == (40 if g == "trace_spectrum" else 2 * 64 + 2 + 2 * 64 + 64)
        else:
            assert r["metrics"]["matvecs"] <= budget, (name, budget, r["metrics"])
    # error against products: XNysTrace's falls as the budget grows on 0.7^i
    xn = [by[("trace_spectrum", b, "xnystrace", "trace")]["metrics"]["rel_error"] for b in (8, 16, 32)]
    assert xn[0] > xn[1] > xn[2], xn
    rep = run_cli("report", "-o", "rep")
    assert rep.returncode == 0, rep.stderr[-2000:]
    page = (tmp_path / "rep" / "task-trace_logdet.html").read_text()
    assert "Error against products" in page and page.count("<svg") >= 2
