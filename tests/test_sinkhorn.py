"""sinkhorn: the exact transport cost (POT against HiGHS against an assignment), the
reference (marginals and the separable form of the entropic optimum, POT's log-domain
plan), the stopping rule (both marginals within tol; the cap, the rounding floor and
underflow reported, never a silent answer), the log domain where the scaling form
underflows, each method against the reference, POT's benchmark setup, the metrics by
hand, hostile inputs, and the task through the engine."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.sinkhorn  # noqa: F401
from implementations.sinkhorn.emd import emd_cost, emd_linprog
from implementations.sinkhorn.generators import point_clouds, pot_benchmark, sqdist
from implementations.sinkhorn.reference import reference
from implementations.sinkhorn.task import check_inputs, check_output, make_inputs, score
from matrixbench.registry import METHODS, TASKS
from matrixbench.store import read_run

HAS_POT = importlib.util.find_spec("ot") is not None
OURS = ("sinkhorn", "sinkhorn_log", "eps_scaling", "greenkhorn", "sns")


def clouds(n=30, m=40, dim=2, seed=0, **kw) -> dict:
    return point_clouds(np.random.default_rng(seed), n=n, m=m, dim=dim, **kw)


def solve(name, p, reg, dtype=torch.float64, tol=1e-7, max_iter=5000, **params):
    out = METHODS[("sinkhorn", name)].fn(*(torch.tensor(p[k], dtype=dtype) for k in "abC"), reg, tol, max_iter,
                                         **params)
    return out.value.double().numpy(), out


def marginals(G, p) -> tuple[float, float]:
    return float(np.abs(G.sum(1) - p["a"]).sum()), float(np.abs(G.sum(0) - p["b"]).sum())


def test_the_exact_cost_agrees_with_an_assignment_and_between_its_two_solvers():
    # uniform weights, n = m: an optimal plan is a permutation / n (Birkhoff), found by the
    # Hungarian algorithm, a third independent solver
    p = clouds(25, 25, seed=3)
    rows, cols = linear_sum_assignment(p["C"])
    exact = p["C"][rows, cols].sum() / 25
    assert emd_linprog(p["a"], p["b"], p["C"]) == pytest.approx(exact, rel=1e-9)
    assert emd_cost(p["a"], p["b"], p["C"]) == pytest.approx(exact, rel=1e-9)
    q = clouds(30, 45, weights="random", seed=4)
    if HAS_POT:
        from implementations.sinkhorn.emd import emd_pot

        assert emd_pot(q["a"], q["b"], q["C"]) == pytest.approx(emd_linprog(q["a"], q["b"], q["C"]), rel=1e-9)


def test_the_reference_is_the_entropic_optimum():
    """The optimum is the one plan with the right marginals of the form exp((f_i + g_j -
    C_ij) / reg): check both properties, and POT's log-domain plan where POT is here."""
    p = clouds(30, 40, weights="random")
    reg = 1e-2
    G = reference(p["a"], p["b"], p["C"], reg)
    assert max(marginals(G, p)) < 1e-12
    # log G + C / reg = f_i + g_j: double centering leaves nothing
    L = np.log(G) + p["C"] / reg
    R = L - L.mean(axis=1, keepdims=True) - L.mean(axis=0, keepdims=True) + L.mean()
    assert np.abs(R).max() < 1e-8
    if HAS_POT:
        import ot

        Q = ot.sinkhorn(p["a"], p["b"], p["C"], reg, method="sinkhorn_log", stopThr=1e-15, numItermax=100000)
        assert np.abs(G - Q).sum() < 1e-10


def test_the_reference_converges_where_sinkhorn_is_slow():
    p = clouds(40, 40, dim=2, seed=1)
    G = reference(p["a"], p["b"], p["C"], 3e-4)  # Sinkhorn needs tens of thousands of iterations here
    assert max(marginals(G, p)) < 1e-10


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-7), (torch.float32, 1e-5)])
def test_sinkhorn_plan_has_both_marginals_within_the_stopping_threshold(dtype, tol):
    p = clouds(30, 40, weights="random")
    G, out = solve("sinkhorn", p, 0.05, dtype, tol=tol)
    assert out.failure is None and out.info["iterations"] >= 1
    err_a, err_b = marginals(G, p)
    # the method checks in its own dtype: float32's check is off by its rounding (~1e-7)
    assert err_a <= tol + 1e-6 * (dtype == torch.float32) and err_b <= tol + 1e-6 * (dtype == torch.float32)
    assert err_b > 1e-3 * tol  # it stopped at tol, not at a later, tighter point


@pytest.mark.parametrize("name", OURS)
def test_each_method_reaches_tol_and_the_entropic_optimum(name):
    p = clouds(30, 40, weights="random", seed=2)
    reg = 0.02
    G_star = reference(p["a"], p["b"], p["C"], reg)
    G, out = solve(name, p, reg)
    assert out.failure is None, out.failure
    assert max(marginals(G, p)) <= 1.05e-7, (name, marginals(G, p))
    assert np.abs(G - G_star).sum() < 1e-5, name
    cost, optimum = (p["C"] * G).sum(), (p["C"] * G_star).sum()
    assert abs(cost - optimum) / optimum < 1e-5, name


def separated(n=20, m=25) -> dict:
    """Two clouds in 50 dimensions: every cost is at least 0.39 of the largest, so at
    reg = 1e-3 every entry of exp(-C / reg) is below exp(-390): 0 in float32."""
    return clouds(n, m, dim=50)


def test_log_domain_stays_finite_where_the_scaling_form_underflows():
    p = separated()
    assert p["C"].min() / 1e-3 > 104  # past float32's smallest subnormal, exp(-103.3)
    G, out = solve("sinkhorn", p, 1e-3, torch.float32, tol=1e-5)
    assert "underflow" in out.failure and np.isfinite(G).all()
    G_star = reference(p["a"], p["b"], p["C"], 1e-3)
    G, out = solve("sinkhorn_log", p, 1e-3, torch.float32, tol=1e-5, max_iter=3000)
    assert np.isfinite(G).all() and max(marginals(G, p)) < 1e-3
    assert np.abs(G - G_star).sum() < 1e-2
    # float32's floor here is near 1e-4 (potentials of size C / reg = 1e3): a stall or the
    # cap, said so, but never underflow
    assert out.failure is None or "underflow" not in out.failure, out.failure
    G, out = solve("eps_scaling", p, 1e-3, torch.float32, tol=1e-5, max_iter=3000)
    assert np.isfinite(G).all() and (out.failure is None or "underflow" not in out.failure), out.failure
    G, out = solve("greenkhorn", p, 1e-3, torch.float32, tol=1e-5)
    assert "underflow" in out.failure and np.isfinite(G).all()


def test_non_convergence_and_the_rounding_floor_are_reported():
    p = clouds(30, 40)
    for name in ("sinkhorn", "sinkhorn_log", "greenkhorn", "sns"):
        _, out = solve(name, p, 1e-3, max_iter=30)
        assert out.failure and "did not reach tol" in out.failure, (name, out.failure)
    # float32 cannot reach 1e-9: a stall, reported long before the cap
    _, out = solve("sinkhorn_log", p, 0.05, torch.float32, tol=1e-9, max_iter=100000)
    assert "stalled" in out.failure and out.info["iterations"] < 2000


def test_sns_newton_stage_beats_sinkhorn_iterations_at_small_reg():
    """The paper's claim (Table 1): a few Newton steps replace thousands of Sinkhorn
    iterations once reg is small."""
    p = clouds(60, 60, seed=5)
    _, slow = solve("sinkhorn", p, 1e-3, max_iter=50000)
    _, fast = solve("sns", p, 1e-3, density=0.05)
    assert slow.failure is None and fast.failure is None
    assert fast.info["iterations"] * 10 < slow.info["iterations"], (fast.info, slow.info)


def test_sinkhorn_is_batched():
    ps = [clouds(20, 30, seed=s) for s in (0, 1)]
    A, B, C = (torch.tensor(np.stack([p[k] for p in ps])) for k in "abC")
    out = METHODS[("sinkhorn", "sinkhorn")].fn(A, B, C, 0.05, 1e-9, 5000)
    for p, G in zip(ps, out.value.numpy()):
        assert np.abs(G - solve("sinkhorn", p, 0.05, tol=1e-12)[0]).sum() < 1e-8


@pytest.mark.skipif(not HAS_POT, reason="POT is not installed")
def test_pot_benchmark_setup_and_baselines():
    import ot

    p = pot_benchmark(np.random.default_rng(0), n=50)
    state = np.random.RandomState(123456789)  # POT's benchmarks/sinkhorn_knopp.py, setup()
    x, y = state.rand(12, 100), state.rand(50, 100)
    np.testing.assert_allclose(p["C"], ot.dist(x, y), rtol=1e-12)
    np.testing.assert_array_equal(p["a"], ot.unif(12))
    np.testing.assert_array_equal(p["b"], ot.unif(50))
    q = clouds(40, 50)
    for name in ("pot_sinkhorn", "pot_sinkhorn_log", "pot_stabilized", "pot_eps_scaling", "pot_greenkhorn"):
        fn = METHODS[("sinkhorn", name)].fn
        out = fn(q["a"], q["b"], q["C"], 0.05, 1e-7, 5000)
        assert out.failure is None and max(marginals(out.value, q)) <= 1e-7, (name, out.failure)
    # POT's own rule watches ||.||_2 of one marginal: looser than the task's 1-norm
    native = METHODS[("sinkhorn", "pot_sinkhorn")].fn(q["a"], q["b"], q["C"], 0.05, 1e-7, 5000, rule="pot")
    assert native.info["iterations"] <= solve("sinkhorn", q, 0.05)[1].info["iterations"] + 10
    capped = METHODS[("sinkhorn", "pot_sinkhorn")].fn(q["a"], q["b"], q["C"], 1e-3, 1e-7, 20)
    assert "marginal error" in capped.failure
    capped = METHODS[("sinkhorn", "pot_sinkhorn")].fn(q["a"], q["b"], q["C"], 1e-3, 1e-7, 20, rule="pot")
    assert "did not converge in 20" in capped.failure


@pytest.mark.skipif(importlib.util.find_spec("geomloss") is None, reason="GeomLoss is not installed")
def test_geomloss_is_near_the_optimum_without_a_tolerance():
    p = clouds(30, 40)
    G_star = reference(p["a"], p["b"], p["C"], 0.05)
    out = METHODS[("sinkhorn", "geomloss")].fn(*(torch.tensor(p[k]) for k in "abC"), 0.05)
    G = out.value.numpy()
    assert out.failure is None and 1e-8 < max(marginals(G, p)) < 1e-2
    assert abs((p["C"] * G).sum() - (p["C"] * G_star).sum()) / (p["C"] * G_star).sum() < 1e-2


def test_the_metrics_against_a_hand_computation():
    a, b = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    C = np.array([[0.0, 1.0], [2.0, 0.0]])
    inputs = {"a": a, "b": b, "C": C, "reg": 1.0, "tol": 1e-7, "max_iter": 10, "emd": 0.25}
    G_star = np.array([[0.25, 0.25], [0.0, 0.5]])  # cost 0.25
    G = np.array([[0.3, 0.25], [0.0, 0.5]])  # row 1 sums to 0.55, column 1 to 0.3; cost 0.25
    s = score(G, G_star, inputs)
    assert s["marginal_error"] == pytest.approx(0.05) and s["marginal_error_a"] == pytest.approx(0.05)
    assert s["cost_error"] == pytest.approx(0.0) and s["emd_error"] == pytest.approx(0.0)
    assert s["plan_error"] == pytest.approx(0.05)
    G = np.array([[0.25, 0.25], [0.05, 0.45]])  # cost 0.35
    s = score(G, G_star, inputs)
    assert s["cost_error"] == pytest.approx(0.4) and s["emd_error"] == pytest.approx(0.4)
    assert s["marginal_error"] == pytest.approx(0.1) and s["marginal_error_a"] == pytest.approx(0.0)


def test_hostile_inputs_are_refused_with_their_reason():
    p = clouds(10, 12)

    def with_(**kw):
        return make_inputs({**p, **kw}, reg=0.1)

    assert check_inputs(make_inputs(p, reg=0.1)) is None
    assert "same total mass" in check_inputs(with_(a=p["a"] * 2))
    a0 = p["a"].copy()
    a0[0], a0[1] = 0.0, a0[1] + a0[0]
    assert "positive" in check_inputs(with_(a=a0))
    bad = p["C"].copy()
    bad[1, 2] = np.nan
    assert "non-finite" in check_inputs(with_(C=bad))
    assert "nonnegative" in check_inputs(with_(C=p["C"] - 1))
    assert "n x m" in check_inputs(with_(C=p["C"][:, :5]))
    assert "reg must be positive" in check_inputs(make_inputs(p, reg=0.0))
    same = {"a": np.full(5, 0.2), "b": np.full(5, 0.2), "C": sqdist(np.eye(5), np.eye(5))}
    assert "exact transport cost is 0" in check_inputs(make_inputs(same))
    assert "shape" in check_output(np.zeros((12, 10)), None, make_inputs(p))
    assert "generator" in str(pytest.raises(ValueError, make_inputs, np.zeros((3, 3))).value)


def test_the_exact_cost_is_hidden_from_every_method():
    task = TASKS["sinkhorn"]
    inputs = make_inputs(clouds(10, 12), reg=0.1)
    for (t, name), meth in METHODS.items():
        if t == "sinkhorn" and meth.kind != "reference":
            assert "emd" not in task.visible(inputs, meth.kind) and "emd" not in meth.fn.__code__.co_varnames


SUITE = """
name: sinkhorn-engine
benchmarks:
  - name: e
    task: sinkhorn
    problems:
      - generator: pot_benchmark
        params: {n: 50}
        task_params: {reg: 1.0}
      - generator: point_clouds
        params: {n: 20, m: 25, dim: 50}
        task_params: {reg: 1.0e-3, tol: 0.0, max_iter: 3000}
    methods: [reference, sinkhorn, sinkhorn_log, sns]
    dtypes: [float64, float32]
    devices: [cpu]
    gates:
      marginal_error: {float64: 2.0e-7, float32: 1.0e-3}
    timing: {warmup: 0, min_repeats: 1, min_time: 0.0, max_time: 0.01, rounds: 1}
"""


def test_the_task_through_the_engine(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(SUITE)
    res = run_cli("run", "t.yaml", "--no-table", timeout=600)
    assert res.returncode == 1, res.stderr[-3000:]  # the float32 scaling form underflows: not ok
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    by = {(r["problem"]["generator"], r["method"]["name"], r["dtype"]): r for r in run["results"]}
    for name in ("sinkhorn", "sinkhorn_log", "sns"):
        r = by[("pot_benchmark", name, "float64")]
        assert r["status"] == "ok" and r["metrics"]["marginal_error"] <= 2e-7, (name, r["status"], r.get("reason"))
        assert r["metrics"]["cost_error"] < 1e-7 and 0.01 < r["metrics"]["emd_error"] < 1, (name, r["metrics"])
    r = by[("point_clouds", "sinkhorn", "float32")]
    assert r["status"] == "inaccurate" and "underflow" in r["reason"], (r["status"], r.get("reason"))
    r = by[("point_clouds", "sinkhorn_log", "float32")]
    assert r["status"] in ("ok", "inaccurate") and r["metrics"]["marginal_error"] < 1e-3, (r["status"], r["metrics"])
    assert by[("point_clouds", "sinkhorn_log", "float64")]["metrics"]["plan_error"] is not None
