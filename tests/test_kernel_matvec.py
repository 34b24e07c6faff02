"""kernel_matvec: the tiled exact product against an independent dense one, the sampled-row
reference, the known properties (random Fourier features' error falls like 1/sqrt(D);
Cauchy frequencies reproduce the Laplace kernel; simplex directions; Nyström with every
point as a landmark is exact; orthogonal features do not lose to i.i.d. ones), hostile
inputs, and the task through the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.kernel_matvec  # noqa: F401
from implementations.kernel_matvec import _common
from implementations.kernel_matvec.exact import tiled_exact
from implementations.kernel_matvec.features import nystrom_features, orf, rff, simplex_directions, simplex_rf
from implementations.kernel_matvec.reference import checked_rows, reference
from implementations.kernel_matvec.task import check_inputs, make_inputs, score
from matrixbench.generators.kernel_points import kernel_mixture
from matrixbench.store import read_run


def problem(n=400, d=3, kernel="gaussian", vectors=2, rows=2000, seed=0):
    return make_inputs(kernel_mixture(np.random.default_rng(seed), n=n, d=d, kernel=kernel), vectors=vectors,
                       rows=rows)


def dense(inputs) -> np.ndarray:
    X, s = inputs["X"], inputs["bandwidth"]
    if inputs["kernel"] == "gaussian":
        return np.exp(-cdist(X, X, "sqeuclidean") / (2 * s * s))
    return np.exp(-cdist(X, X, "cityblock") / s)


def call(fn, inputs, **params) -> np.ndarray:
    t = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    out = fn(**t, **params)
    return (out.value if hasattr(out, "value") else out).numpy()


def rel(inputs, Y) -> float:
    want = dense(inputs) @ inputs["V"]
    return float(np.linalg.norm(Y - want) / np.linalg.norm(want))


@pytest.mark.parametrize("kernel", ["gaussian", "laplace"])
def test_the_tiled_product_is_the_dense_product(kernel):
    inputs = problem(n=333, kernel=kernel)
    for tile in (50, 333, 1000):  # tiles that do not divide n, one tile, a tile past n
        assert rel(inputs, call(tiled_exact, inputs, tile=tile)) < 1e-13
    single = {k: v.astype(np.float32) if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    assert rel(inputs, call(tiled_exact, single, tile=100).astype(np.float64)) < 1e-5


def test_the_reference_on_sampled_rows_is_the_dense_product_there():
    inputs = problem(n=500, rows=120)
    ref = reference(**inputs)
    R = checked_rows(500, 120)
    assert len(R) == 120 and np.array_equal(ref["rows"], R) and np.all(np.diff(R) > 0)
    np.testing.assert_allclose(ref["Y"], (dense(inputs) @ inputs["V"])[R], rtol=1e-12, atol=1e-13)
    Y = dense(inputs) @ inputs["V"]
    assert score(Y, ref, inputs)["rel_error"] < 1e-13
    Y[R[0]] += 1.0  # an error on a checked row is seen; on an unchecked row it is not
    assert score(Y, ref, inputs)["rel_error"] > 0.01
    assert score(ref, ref, inputs)["rel_error"] == 0.0
    everything = reference(**problem(n=300, rows=2000))
    assert np.array_equal(everything["rows"], np.arange(300))


def test_random_fourier_error_falls_like_one_over_sqrt_features():
    """Rahimi and Recht: the estimator's standard deviation is O(1/sqrt(D)); the fitted slope
    of log error against log D (D = 64 .. 4096, median of 5 seeds) is near -1/2."""
    inputs = problem(n=300, d=3, vectors=1)
    D = np.array([64, 256, 1024, 4096])
    err = [np.median([rel(inputs, call(rff, inputs, features=int(f), seed=s)) for s in range(5)]) for f in D]
    slope = np.polyfit(np.log(D), np.log(err), 1)[0]
    assert -0.65 < slope < -0.35, (slope, err)


def test_cauchy_frequencies_reproduce_the_laplace_kernel():
    inputs = problem(n=300, d=3, kernel="laplace", vectors=1)
    assert rel(inputs, call(rff, inputs, features=20000, seed=0)) < 0.05


def test_simplex_directions_are_unit_with_pairwise_products_minus_one_over_d_minus_one():
    for d in (2, 3, 8):
        S = simplex_directions(d).numpy()
        G = S @ S.T
        np.testing.assert_allclose(np.diag(G), 1.0)
        np.testing.assert_allclose(G[~np.eye(d, dtype=bool)], -1.0 / (d - 1))


def test_nystrom_with_every_point_as_landmark_is_exact():
    inputs = problem(n=150, d=3)
    assert rel(inputs, call(nystrom_features, inputs, features=150)) < 1e-8


def test_structured_features_do_not_lose_to_iid_ones():
    """Yu et al. 2016 and Reid et al. 2023: orthogonal and simplex couplings lower the
    variance of the kernel estimate; median of 15 seeds at D = 2d (where it matters most)."""
    inputs = problem(n=300, d=16, vectors=1)

    def median(fn):
        return np.median([rel(inputs, call(fn, inputs, features=32, seed=s)) for s in range(15)])

    iid = median(rff)
    assert median(orf) < 1.05 * iid and median(simplex_rf) < 1.05 * iid


def test_the_feature_product_is_blocked(monkeypatch):
    inputs = problem(n=300, d=3)
    whole = call(rff, inputs, features=64, seed=3)
    monkeypatch.setattr(_common, "BLOCK", 7)  # blocks that do not divide n
    np.testing.assert_allclose(call(rff, inputs, features=64, seed=3), whole, rtol=1e-10, atol=1e-12)


def test_hostile_inputs_are_refused_with_the_reason():
    inputs = problem(n=50)
    bad = dict(inputs, X=inputs["X"].copy())
    bad["X"][3, 1] = np.nan
    assert "non-finite" in check_inputs(bad)
    assert "bandwidth must be positive" in check_inputs(dict(inputs, bandwidth=0.0))
    assert "unknown kernel" in check_inputs(dict(inputs, kernel="cosine"))
    with pytest.raises(ValueError, match="kernel given by its points"):
        make_inputs(np.eye(4))
    from matrixbench.registry import METHODS

    lap = problem(n=50, kernel="laplace")
    for name in ("orf", "simplex_rf", "sklearn_rbf_sampler"):
        assert "Gaussian kernel" in METHODS[("kernel_matvec", name)].applies(lap)


SUITE = """
name: t
benchmarks:
  - name: small
    task: kernel_matvec
    trials: 2
    problems:
      - generator: kernel_mixture
        params: {n: 300, d: 3}
        task_params: {vectors: 2, rows: 100}
      - generator: kernel_mixture
        params: {n: 200, d: 2, kernel: laplace}
    methods: [reference, tiled_exact, {rff: {features: 128}}, {orf: {features: 128}}, {nystrom_features: {features: 64}}, keops]
    dtypes: [float64]
    gates:
      rel_error: {float64: 1.0}
    timing: {min_time: 0.0, max_time: 0.02}
"""


def test_the_task_through_the_engine(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(SUITE)
    res = run_cli("run", "t.yaml", "--no-table", timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    by = {(r["problem"]["params"].get("kernel", "gaussian"), r["method"]["name"], r["dtype"]): r
          for r in run["results"]}
    for key, r in by.items():
        if r["status"] == "skipped":
            assert r["reason"], key
            continue
        assert r["status"] == "ok", (key, r["status"], r.get("reason"))
    assert by[("gaussian", "tiled_exact", "float64")]["metrics"]["rel_error"] < 1e-12
    assert by[("gaussian", "rff", "float64")]["metrics"]["features"] == 128
    assert by[("laplace", "orf", "float64")]["status"] == "skipped"
    assert by[("gaussian", "tiled_exact", "float64")]["memory"] is not None
