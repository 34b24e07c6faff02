"""ihvp: every method against an independent float64 dense solve (M-FAC's recursion to 1e-10),
the recursion's coefficients against an LDL^T factorization, the sliding window against
the static algorithm after its ring buffer has wrapped, CG's termination in at most m + 1
steps, the generators' spectra and per-example gradients against finite differences,
hostile inputs (zero gradients, damping <= 0, NaN, m = 1, mismatched shapes), and the task
through the engine."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as la
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.ihvp  # noqa: F401
from implementations.ihvp.baselines import scipy_cg
from implementations.ihvp.cg import cg
from implementations.ihvp.generators import (DIGITS, accuracy, digits, digits_gradients, gradient_spectrum,
                                             init_params, per_example_gradients, train)
from implementations.ihvp.mfac import mfac, mfac_coefficients
from implementations.ihvp.mfac_dynamic import SlidingWindow, mfac_dynamic
from implementations.ihvp.reference import DENSE_MAX_D, dense_solve, reference, woodbury_solve
from implementations.ihvp.task import check_inputs, make_inputs, score
from implementations.ihvp.woodbury import woodbury
from matrixbench.store import read_run

TORCH_METHODS = {"mfac": mfac, "mfac_dynamic": mfac_dynamic, "woodbury": woodbury, "cg": cg}


def value(out):
    return out.value if hasattr(out, "value") else out


def torch_inputs(inputs, dtype=torch.float64):
    return {k: torch.from_numpy(np.array(v)).to(dtype) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}


def solve(fn, inputs, dtype=torch.float64, **params):
    out = fn(**torch_inputs(inputs, dtype), **params)
    return out, value(out).double().numpy()


def dense(inputs) -> np.ndarray:
    """The independent answer: F formed and solved by LU (numpy.linalg.solve), small d only."""
    G, V, lam = inputs["G"], inputs["V"], inputs["damping"]
    return np.linalg.solve(lam * np.eye(G.shape[1]) + G.T @ G / G.shape[0], V)


def rel(X, Y) -> float:
    return float(np.linalg.norm(X - Y) / np.linalg.norm(Y))


def problem(m=24, d=300, damping=1e-3, vectors=4, rhs="gradients", stream=0, decay=1.0, seed=0):
    rows = gradient_spectrum(np.random.default_rng(seed), m=m + stream, d=d, decay=decay)
    return make_inputs(rows, damping=damping, vectors=vectors, rhs=rhs, stream=stream)


def test_mfac_recursive_woodbury_agrees_with_a_dense_solve_to_1e10_in_float64():
    for inputs in (problem(), problem(m=40, d=200, damping=1e-2, rhs="gaussian", vectors=3),
                   make_inputs(digits_gradients(np.random.default_rng(1), m=48, model="logistic", steps=50),
                               damping=1e-3, relative=True, vectors=5)):
        _, X = solve(mfac, inputs)
        assert rel(X, dense(inputs)) < 1e-10, rel(X, dense(inputs))


def test_the_recursion_is_an_ldl_factorization_of_m_i_plus_k_over_lambda():
    """lambda B is the inverse of the unit lower factor L of m I + K / lambda = L D L^T and the
    denominators are D (the module docstring's claim), checked against Cholesky."""
    inputs = problem(m=12, d=100, damping=0.05)
    G, lam = inputs["G"], inputs["damping"]
    K = G @ G.T
    B, q = mfac_coefficients(torch.from_numpy(K), lam)
    C = np.linalg.cholesky(12 * np.eye(12) + K / lam)
    L = C / np.diag(C)
    np.testing.assert_allclose(q.numpy(), np.diag(C) ** 2, rtol=1e-12)
    np.testing.assert_allclose(lam * B.numpy() @ L, np.eye(12), atol=1e-12)
    # and v_i = sum_l B_il g_l is H_{i-1}^-1 g_i, with H_{i-1} built from the first i - 1 gradients
    i = 7
    H = lam * np.eye(100) + G[:i].T @ G[:i] / 12
    np.testing.assert_allclose(B.numpy()[i] @ G, np.linalg.solve(H, G[i]), rtol=1e-10, atol=1e-14)


def test_reference_dense_and_woodbury_agree_and_the_size_picks_the_form(monkeypatch):
    import implementations.ihvp.reference as ref

    monkeypatch.setattr(ref, "DENSE_MAX_D", 120)  # the routing, at sizes a test can afford
    inputs = problem(m=30, d=150, damping=1e-4, vectors=3)
    G, V, lam = inputs["G"], inputs["V"], inputs["damping"]
    X_dense, X_wood = dense_solve(G, V, lam), woodbury_solve(G, V, lam)
    assert rel(X_wood, X_dense) < 1e-10 and rel(X_dense, dense(inputs)) < 1e-10
    np.testing.assert_array_equal(reference(**inputs), X_wood)  # d > DENSE_MAX_D: Woodbury
    small = problem(d=120)
    np.testing.assert_array_equal(reference(**small), dense_solve(small["G"], small["V"], small["damping"]))
    assert DENSE_MAX_D == 2048


@pytest.mark.parametrize("name", sorted(TORCH_METHODS))
@pytest.mark.parametrize("case", ["gradients", "gaussian", "digits", "stream"])
def test_every_method_agrees_with_the_dense_solve_in_float64(name, case):
    if case == "digits":
        rows = digits_gradients(np.random.default_rng(0), m=32, model="mlp", hidden=4, steps=30)
        inputs = make_inputs(rows, damping=1e-2, relative=True, vectors=6)
    else:
        inputs = problem(rhs="gaussian" if case == "gaussian" else "gradients", stream=50 if case == "stream" else 0)
    out, X = solve(TORCH_METHODS[name], inputs)
    assert getattr(out, "failure", None) is None
    assert rel(X, dense(inputs)) < (1e-8 if name == "cg" else 1e-11), (name, case, rel(X, dense(inputs)))
    assert score(X, dense(inputs), inputs)["rel_residual"] < 2e-10


def test_scipy_cg_baseline_agrees():
    inputs = problem(vectors=3)
    out = scipy_cg(**inputs, tol=1e-12)
    assert out.failure is None and rel(out.value, dense(inputs)) < 1e-8 and out.info["iterations"] >= 1


def test_sliding_window_matches_the_static_algorithm_after_the_ring_buffer_wraps():
    """A stream of 3.5 m gradients through a ring buffer of m: after every update the product
    is the static algorithm's on the last m gradients (the window), whatever slot was evicted."""
    m, d = 10, 80
    stream = torch.from_numpy(gradient_spectrum(np.random.default_rng(3), m=35, d=d, decay=0.5))
    V = torch.from_numpy(np.random.default_rng(4).standard_normal((d, 2)))
    lam = 1e-3
    window = SlidingWindow(stream[:m], lam)
    for t in range(m, 35):
        window.update(stream[t])
        if t % 6 == 0 or t == 34:
            want = value(mfac(stream[t + 1 - m:t + 1], V, lam)).numpy()
            assert rel(window.mul(V).numpy(), want) < 1e-11, t
    assert window.updates == 25 and window.oldest == 25 % m and window.failure is None
    # the method on the same stream: history = the first 25, G = the last 10
    out = mfac_dynamic(stream[25:], V, lam, history=stream[:25])
    assert out.info["updates"] == 25 and rel(out.value.numpy(), want) < 1e-11


def test_cg_terminates_in_at_most_m_plus_1_iterations():
    """F = lambda I + G^T G / m has at most m + 1 distinct eigenvalues: CG ends there in exact
    arithmetic; in float64 at kappa(F) = 11 the residual is at rounding level by then."""
    inputs = problem(m=6, d=200, damping=0.1, vectors=3, decay=0.5)
    out, X = solve(cg, inputs, tol=1e-13)
    assert out.failure is None and out.info["iterations"] <= 7, out.info
    assert rel(X, dense(inputs)) < 1e-12
    short, _ = solve(cg, inputs, tol=1e-13, max_iter=3)
    assert short.failure and "did not reach the tolerance" in short.failure and short.info["iterations"] == 3


def test_float32_error_is_about_u_kappa():
    """Direct methods in float32: error at most ~u kappa(F) (u = 6e-8), rising with kappa."""
    errors = {}
    for damping in (1e-1, 1e-4):
        inputs = problem(m=32, d=400, damping=damping, vectors=4)
        kappa = 1 + 1 / damping
        for name in ("mfac", "woodbury", "mfac_dynamic"):
            _, X = solve(TORCH_METHODS[name], inputs, torch.float32)
            errors[name, damping] = rel(X, dense(inputs))
            assert errors[name, damping] < 100 * 6e-8 * kappa, (name, damping, errors[name, damping])
    for name in ("mfac", "woodbury", "mfac_dynamic"):
        assert errors[name, 1e-4] > 10 * errors[name, 1e-1], errors


def test_zero_gradients_give_v_over_lambda():
    d, lam = 50, 0.37
    inputs = make_inputs(np.zeros((6, d)), damping=lam, vectors=3, rhs="gaussian")
    assert check_inputs(inputs) is None
    want = inputs["V"] / lam
    for name in ("mfac", "woodbury", "mfac_dynamic"):
        _, X = solve(TORCH_METHODS[name], inputs)
        np.testing.assert_array_equal(X, want, err_msg=name)
    _, X = solve(cg, inputs)
    assert rel(X, want) < 1e-15
    np.testing.assert_allclose(reference(**inputs), want, rtol=1e-15)
    # relative damping of zero gradients is zero: refused, not divided by
    relative = make_inputs(np.zeros((6, d)), damping=1e-3, relative=True, vectors=1, rhs="gaussian")
    assert "damping" in check_inputs(relative)


def test_one_gradient_is_sherman_morrison():
    rng = np.random.default_rng(5)
    g, lam = rng.standard_normal(70), 0.02
    inputs = make_inputs(g[None, :], damping=lam, vectors=2, rhs="gaussian")
    V = inputs["V"]
    want = V / lam - np.outer(g, g @ V) / (lam * (lam + g @ g))  # (lam I + g g^T)^-1 V
    for name, fn in TORCH_METHODS.items():
        _, X = solve(fn, inputs)
        assert rel(X, want) < 1e-12, name


def test_hostile_inputs_are_refused():
    inputs = problem(m=5, d=30, vectors=2)
    for lam in (0.0, -1.0, float("nan")):
        assert "damping" in check_inputs({**inputs, "damping": lam})
        for name, fn in TORCH_METHODS.items():
            with pytest.raises(ValueError, match="damping"):
                fn(**torch_inputs({**inputs, "damping": lam}))
    G = inputs["G"].copy()
    G[2, 3] = np.nan
    assert "G is not finite" in check_inputs({**inputs, "G": G})
    V = inputs["V"].copy()
    V[0, 0] = np.inf
    assert "V is not finite" in check_inputs({**inputs, "V": V})
    assert "V must be d x k" in check_inputs({**inputs, "V": np.ones((29, 2))})
    assert "V is zero" in check_inputs({**inputs, "V": np.zeros((30, 2))})
    assert "history must have" in check_inputs({**inputs, "history": np.ones((2, 31))})
    with pytest.raises(ValueError, match="stream"):
        make_inputs(np.ones((4, 10)), stream=4)
    assert check_inputs(inputs) is None


def test_gradient_spectrum_has_the_planted_eigenvalues():
    for m, d, spectrum, decay in ((20, 500, "power", 1.5), (16, 40, "geometric", 6.0), (1, 9, "power", 1.0)):
        G = gradient_spectrum(np.random.default_rng(0), m=m, d=d, spectrum=spectrum, decay=decay)
        e = np.sort(np.linalg.eigvalsh(G @ G.T / m))[::-1]
        i = np.arange(1, m + 1.0)
        want = i ** -decay if spectrum == "power" else 10.0 ** (-decay * (i - 1) / max(m - 1, 1))
        np.testing.assert_allclose(e, want, rtol=1e-9, atol=1e-13)
    G = gradient_spectrum(np.random.default_rng(0), m=30, d=12)  # d < m: rank d
    assert G.shape == (30, 12) and np.linalg.matrix_rank(G) == 12
    inputs = make_inputs(gradient_spectrum(np.random.default_rng(0), m=20, d=300), damping=1e-3, relative=True)
    assert abs(inputs["damping"] - 1e-3) < 1e-15  # top eigenvalue 1


@pytest.mark.parametrize("model,hidden,d", [("logistic", 0, 650), ("mlp", 3, 75 * 3 + 10)])
def test_digits_gradients_are_per_example_gradients(model, hidden, d):
    """Each row is the gradient of one example's cross-entropy: central finite differences."""
    G = digits_gradients(np.random.default_rng(2), m=5, model=model, hidden=hidden, steps=20)
    assert G.shape == (5, d)
    X, Y = digits()
    rng = np.random.default_rng(2)
    params = train(init_params(rng, model, hidden), X, Y, 20)
    row = rng.choice(DIGITS, size=5, replace=False)[0]
    assert np.allclose(np.concatenate([b.reshape(1, -1) for b in per_example_gradients(params, X[[row]], Y[[row]])],
                                      axis=1), G[0])

    def loss(flat):
        ps, at = [], 0
        for p in params:
            ps.append(flat[at:at + p.size].reshape(p.shape))
            at += p.size
        x = X[row]
        z = ps[0] @ x + ps[1] if len(ps) == 2 else ps[2] @ np.maximum(ps[0] @ x + ps[1], 0) + ps[3]
        return float(np.log(np.exp(z - z.max()).sum()) + z.max() - z[Y[row].argmax()])

    flat = np.concatenate([p.ravel() for p in params])
    for j in np.random.default_rng(0).choice(d, size=6, replace=False):
        e = np.zeros(d)
        e[j] = 1e-6
        assert abs((loss(flat + e) - loss(flat - e)) / 2e-6 - G[0, j]) < 1e-6, j


def test_training_fits_the_digits():
    X, Y = digits()
    params = train(init_params(np.random.default_rng(0), "logistic", 0), X, Y, 100)
    assert accuracy(params, X, Y) > 0.95 > accuracy(init_params(np.random.default_rng(0), "logistic", 0), X, Y)


SUITE = """
name: ihvp-engine
benchmarks:
  - name: every-method
    task: ihvp
    problems:
      generator: gradient_spectrum
      params: {m: 20, d: 300}
      task_params: {damping: [1.0e-3, 0.0], vectors: 3}
    methods: [reference, mfac, mfac_dynamic, woodbury, cg, {cg: {max_iter: 2}}]
    dtypes: [float64, float32]
    devices: [cpu]
    gates:
      rel_error: {float64: 1.0e-8, float32: 1.0e-2}
    timing: {min_time: 0.01, max_time: 0.03, rounds: 1}
  - name: stream-and-digits
    task: ihvp
    problems:
      - generator: gradient_spectrum
        params: {m: 30, d: 300}
        task_params: {damping: 1.0e-3, stream: 10}
      - generator: digits_gradients
        params: {m: 24, model: logistic, steps: 30}
        task_params: {damping: 1.0e-2, relative: true, vectors: 2}
    methods: [reference, mfac_dynamic, cg]
    dtypes: [float64]
    devices: [cpu]
    gates:
      rel_error: {float64: 1.0e-8}
    timing: {min_time: 0.01, max_time: 0.03, rounds: 1}
"""


def test_the_task_through_the_engine(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(SUITE)
    res = run_cli("run", "t.yaml", "--no-table", timeout=600)
    assert res.returncode == 1, res.stderr[-3000:]  # the invalid problem and the capped CG
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    seen = 0
    for r in run["results"]:
        p, name, status = r["problem"], r["method"]["name"], r["status"]
        if name == "reference" and r["dtype"] == "float32":
            continue
        if p["task_params"].get("damping") == 0.0:
            assert status == "invalid" and "damping" in r["reason"], r
            continue
        seen += 1
        if r["method"]["params"].get("max_iter") == 2:
            assert status == "inaccurate" and "did not reach" in r["reason"], r
            continue
        assert status == "ok", (p, name, r["dtype"], status, r.get("reason"))
        if name == "mfac_dynamic" and p["task_params"].get("stream") == 10:
            assert r["metrics"]["updates"] == 10
        if name == "cg":
            assert r["metrics"]["iterations"] >= 1
    assert seen == 11 + 6, seen
