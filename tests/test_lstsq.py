"""The lstsq task, its generators and methods against independent computations.

Solutions are checked against ``numpy.linalg.lstsq`` (an SVD, ``gelsd``: not the
reference's Householder QR) and, for the planted problems, against the planted ``x*``
itself; residual orthogonality, leverage scores and condition numbers are computed from
dense numpy factorizations. Sizes are small: the whole file takes a few seconds.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

import implementations.lstsq  # noqa: F401  (registers the task and its methods)
from implementations.lstsq import task
from implementations.lstsq._common import sketch_rows
from implementations.lstsq._precondition import triangular
from implementations.lstsq.lsqr import lsqr
from matrixbench.backends import split_info, to_backend, to_float64
from implementations.lstsq import generators as G
from matrixbench.registry import GENERATORS, METHODS, TASKS, WithInfo

warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")

EXACT = ("reference", "numpy_lstsq", "scipy_lstsq", "torch_lstsq", "normal_cholesky", "blendenpik", "lsrn", "scipy_lsqr")
ROUGH = ("sketch_and_solve", "leverage_sampling")
SPARSE = ("reference", "scipy_lsqr", "blendenpik", "lsrn", "sketch_and_solve", "leverage_sampling")


def call(name: str, problem: dict, dtype: str = "float64", **params: Any) -> tuple[np.ndarray, dict, str | None]:
    """Run a registered method as the engine does: inputs cast to its backend and dtype."""
    m = METHODS[("lstsq", name)]
    out = m.fn(**to_backend(task.make_inputs(problem), m.backends[0], dtype, "cpu"), **params)
    failure = out.failure if isinstance(out, WithInfo) else None
    value, info = split_info(out)
    return task.solution(to_float64(value)), info, failure


def numpy_solution(problem: dict) -> np.ndarray:
    A = problem["A"].toarray() if sp.issparse(problem["A"]) else problem["A"]
    return np.linalg.lstsq(A, problem["b"], rcond=None)[0]


def rel(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.linalg.norm(x - y) / np.linalg.norm(y))


@pytest.fixture(scope="module")
def gaussian() -> dict:
    return G.lstsq_gaussian(np.random.default_rng(1), 3000, 40, noise=0.1)


@pytest.fixture(scope="module")
def planted() -> dict:
    return G.lstsq_planted(np.random.default_rng(2), m=1000, n=100)


# -- generators ----------------------------------------------------------------------------

def test_generators_are_registered_and_deterministic() -> None:
    for name in ("lstsq_gaussian", "lstsq_planted", "lstsq_coherent", "lstsq_sparse", "lstsq_embeddings"):
        assert name in GENERATORS
    one = G.lstsq_sparse(np.random.default_rng(5), 500, 20, s=3)
    two = G.lstsq_sparse(np.random.default_rng(5), 500, 20, s=3)
    assert (one["A"] != two["A"]).nnz == 0 and np.array_equal(one["b"], two["b"])


def test_planted_spectrum_residual_and_solution() -> None:
    rng = np.random.default_rng(3)
    p = G.lstsq_planted(rng, m=600, n=50, n_large=15, large=1e4, small=1.0, residual=0.5)
    A, b = p["A"], p["b"]
    s = np.linalg.svd(A, compute_uv=False)
    assert np.all((s[:15] >= 0.5e4 * (1 - 1e-9)) & (s[:15] <= 1e4 * (1 + 1e-9)))
    assert np.all((s[15:] >= 0.5 * (1 - 1e-9)) & (s[15:] <= 1.0 + 1e-9))
    x = numpy_solution(p)
    r = b - A @ x
    # r is orthogonal to range(A) and has the requested size relative to A x*
    Q = np.linalg.qr(A)[0]
    assert np.linalg.norm(Q.T @ r) <= 1e-9 * np.linalg.norm(r)
    assert np.linalg.norm(r) / np.linalg.norm(A @ x) == pytest.approx(0.5, rel=1e-8)
    # b = A x* + r with the planted x* (a standard normal vector): rebuild it from the stream
    assert np.linalg.norm(x) == pytest.approx(np.sqrt(50), rel=0.5)


def test_gaussian_noise_is_exactly_scaled_and_consistent_when_zero() -> None:
    p = G.lstsq_gaussian(np.random.default_rng(4), 400, 10, noise=0.0)
    x = numpy_solution(p)
    assert np.linalg.norm(p["A"] @ x - p["b"]) <= 1e-12 * np.linalg.norm(p["b"])


def test_sparse_rows_have_s_distinct_nonzeros() -> None:
    A = G.lstsq_sparse(np.random.default_rng(6), 2000, 12, s=5)["A"]
    assert sp.isspmatrix_csr(A) and A.shape == (2000, 12)
    assert np.all(np.diff(A.indptr) == 5)
    for i in range(0, 2000, 97):
        cols = A.indices[A.indptr[i]:A.indptr[i + 1]]
        assert len(set(cols.tolist())) == 5


def test_coherent_rows_concentrate_leverage() -> None:
    """Exact leverage scores (row norms of Q from a dense QR): far above n/m for some rows."""
    def max_leverage(sigma: float) -> float:
        A = G.lstsq_coherent(np.random.default_rng(7), 4000, 20, sigma=sigma)["A"]
        Q = np.linalg.qr(A)[0]
        return float(np.max(np.sum(Q * Q, axis=1)))
    assert max_leverage(0.0) < 0.05  # incoherent: n/m = 0.005 up to fluctuations
    assert max_leverage(3.0) > 0.5  # a few rows carry most of a direction


# -- the contract: reference and metrics -----------------------------------------------------

def test_reference_against_svd_solution(planted: dict) -> None:
    ref = TASKS["lstsq"]
    out = METHODS[("lstsq", ref.reference)].fn(**task.make_inputs(planted))
    x_svd = numpy_solution(planted)
    assert rel(out["x"], x_svd) < 1e-8  # both backward stable; kappa(A) about 2e5
    s = np.linalg.svd(planted["A"], compute_uv=False)
    assert out["sigma_min"] == pytest.approx(s[-1], rel=1e-10)
    assert out["residual_norm"] == pytest.approx(np.linalg.norm(planted["A"] @ x_svd - planted["b"]), rel=1e-10)


def test_metrics_against_direct_formulas(gaussian: dict) -> None:
    inputs = task.make_inputs(gaussian)
    A, b = inputs["A"], inputs["b"]
    ref = METHODS[("lstsq", "reference")].fn(**inputs)
    x_star = ref["x"]
    d = np.random.default_rng(0).standard_normal(x_star.shape) * 1e-2
    metrics = task.score(x_star + d, ref, inputs)
    r_star = np.linalg.norm(A @ x_star - b)
    direct = (np.linalg.norm(A @ (x_star + d) - b) - r_star) / r_star  # large enough not to cancel
    assert metrics["residual_suboptimality"] == pytest.approx(direct, rel=1e-6)
    assert metrics["rel_error"] == pytest.approx(np.linalg.norm(d) / np.linalg.norm(x_star), rel=1e-12)
    s_min = np.linalg.svd(A, compute_uv=False)[-1]
    assert metrics["linf_error"] == pytest.approx(np.sqrt(40) * np.abs(d).max() * s_min / r_star, rel=1e-9)
    assert task.score(x_star, ref, inputs)["residual_suboptimality"] == 0.0


def test_zero_residual_uses_relative_residual() -> None:
    p = G.lstsq_gaussian(np.random.default_rng(8), 300, 10, noise=0.0)
    inputs = task.make_inputs(p)
    ref = METHODS[("lstsq", "reference")].fn(**inputs)
    x = ref["x"] * (1 + 1e-3)
    metrics = task.score(x, ref, inputs)
    assert metrics["residual_suboptimality"] == pytest.approx(
        np.linalg.norm(p["A"] @ x - p["b"]) / np.linalg.norm(p["b"]), rel=1e-9)


def test_make_inputs_rejects_bad_shapes() -> None:
    """Structure in make_inputs; m >= n, a precondition of the problem, in check_inputs."""
    inputs = task.make_inputs({"A": np.ones((3, 5)), "b": np.ones(3)})
    assert "m >= n" in task.check_inputs(inputs)
    with pytest.raises(ValueError, match="b of shape"):
        task.make_inputs({"A": np.ones((5, 3)), "b": np.ones(4)})
    with pytest.raises(ValueError, match="'A', 'b'"):
        task.make_inputs(np.ones((5, 3)))


# -- methods against numpy.linalg.lstsq ------------------------------------------------------

@pytest.mark.parametrize("name", EXACT)
def test_exact_methods_match_numpy(name: str, gaussian: dict) -> None:
    x, info, failure = call(name, gaussian)
    assert failure is None
    assert rel(x, numpy_solution(gaussian)) < 1e-9
    if name in ("blendenpik", "lsrn", "scipy_lsqr"):
        assert 0 < info["iterations"] < 60


@pytest.mark.parametrize("name", ROUGH)
def test_rough_methods_are_near_optimal(name: str, gaussian: dict) -> None:
    """Sketch-and-solve with k = 8n: suboptimality about n / (k - n) = 1/7, not 0."""
    inputs = task.make_inputs(gaussian)
    ref = METHODS[("lstsq", "reference")].fn(**inputs)
    x, _, _ = call(name, gaussian, factor=8.0)
    sub = task.score(x, ref, inputs)["residual_suboptimality"]
    assert 1e-4 < sub < 0.5


@pytest.mark.parametrize("name", SPARSE)
def test_sparse_inputs_match_dense_solution(name: str) -> None:
    p = G.lstsq_sparse(np.random.default_rng(9), 3000, 30, s=4, noise=0.05)
    m = METHODS[("lstsq", name)]
    assert m.sparse
    x, _, failure = call(name, p, **({"factor": 16.0} if name in ROUGH else {}))
    assert failure is None
    limit = 0.2 if name in ROUGH else 1e-9
    assert rel(x, numpy_solution(p)) < limit


def test_float32_blendenpik_stops_at_float32_accuracy(gaussian: dict) -> None:
    x, info, failure = call("blendenpik", gaussian, dtype="float32")
    assert failure is None and info["iterations"] < 60
    assert rel(x, numpy_solution(gaussian)) < 1e-4


def test_normal_equations_fail_cleanly_when_ill_conditioned(planted: dict) -> None:
    """kappa(A) about 2e5: kappa^2 u > 1 in float32, so Cholesky must break down, reported."""
    x, _, failure = call("normal_cholesky", planted, dtype="float32")
    assert failure is not None and "Cholesky" in failure and np.all(np.isfinite(x))
    x64, _, failure64 = call("normal_cholesky", planted)
    assert failure64 is None
    err = rel(x64, numpy_solution(planted))
    assert 1e-9 < err < 1e-3  # about u kappa^2 = 4e-6: worse than QR (tested 1e-8 above)


def test_lsrn_reveals_rank() -> None:
    rng = np.random.default_rng(10)
    A = rng.standard_normal((800, 20)) @ rng.standard_normal((20, 30))  # rank 20 < n = 30
    b = rng.standard_normal(800)
    x, info, failure = call("lsrn", {"A": A, "b": b})
    assert info["rank"] == 20 and failure is None
    assert rel(x, np.linalg.pinv(A) @ b) < 1e-8  # the minimum-norm solution


# -- LSQR and the preconditioner: the published figures ---------------------------------------

def test_lsqr_matches_scipy_lsqr() -> None:
    rng = np.random.default_rng(11)
    A = rng.standard_normal((500, 30)) * np.logspace(0, 1, 30)
    b = rng.standard_normal(500)
    At, bt = torch.from_numpy(A), torch.from_numpy(b)
    res = lsqr(lambda v: At @ v, lambda u: At.T @ u, bt, 30, tol=1e-12, max_iter=500)
    x_scipy, _, itn = spla.lsqr(A, b, atol=1e-12, btol=1e-12, iter_lim=500)[:3]
    assert res.converged and rel(res.y.numpy(), np.linalg.lstsq(A, b, rcond=None)[0]) < 1e-10
    assert rel(res.y.numpy(), x_scipy) < 1e-10
    assert abs(res.iterations - itn) <= 3
    assert res.residual_norm == pytest.approx(np.linalg.norm(A @ res.y.numpy() - b), rel=1e-8)


@pytest.mark.parametrize("kind", ["sparse_sign", "srht", "gaussian"])
def test_planted_preconditioned_condition_number_and_iterations(kind: str, planted: dict) -> None:
    """With a 2n-row sketch kappa(A R^{-1}) <= 10 (numpy SVD), and LSQR from zero on A R^{-1}
    gains 1e-10 in under 80 steps, although kappa(A) is about 2e5."""
    A, b = torch.from_numpy(planted["A"]), torch.from_numpy(planted["b"])
    n = A.shape[1]
    assert np.linalg.cond(planted["A"]) > 1e5
    SA, _ = sketch_rows(A, b, kind, 2 * n, seed=0)
    R = torch.linalg.qr(SA, mode="r")[1]
    AR = np.linalg.solve(R.numpy().T, planted["A"].T).T
    s = np.linalg.svd(AR, compute_uv=False)
    assert s[0] / s[-1] <= 10.0
    N, Nt = triangular(R)
    res = lsqr(lambda v: A @ N(v), lambda u: Nt(A.T @ u), b, n, tol=1e-10, max_iter=200)
    assert res.converged and res.iterations < 80
    x = N(res.y).numpy()
    x_ref = numpy_solution(planted)
    # what tol = 1e-10 buys in x: about tol kappa(AR)^2 ||r|| / (s_min(A) ||x||)
    assert rel(x, x_ref) < 1e-5
    x_b, info, failure = call("blendenpik", planted, sketch=kind, factor=2.0)
    assert failure is None and info["iterations"] < 80


def test_unpreconditioned_lsqr_is_slow_on_planted(planted: dict) -> None:
    """The preconditioner is the point: scipy's LSQR on A itself is far off after 80 steps."""
    _, _, failure = call("scipy_lsqr", planted, max_iter=80)
    x, _, _ = call("scipy_lsqr", planted, max_iter=80)
    assert rel(x, numpy_solution(planted)) > 1e-3 or failure is not None


def test_engine_runs_a_tiny_suite(tmp_path, run_cli) -> None:
    suite = tmp_path / "tiny.yaml"
    suite.write_text(
        "name: tiny\ntask: lstsq\n"
        "problems:\n  - generator: lstsq_planted\n    params: {m: 300, n: 20, n_large: 5}\n"
        "  - generator: lstsq_sparse\n    params: {m: 500, n: 10, s: 3}\n"
        "methods: [reference, blendenpik, normal_cholesky]\n"
        "dtypes: [float64]\ndevices: [cpu]\n"
        "gates:\n  rel_error: {float64: 1.0e-6}\n"
        "timing: {min_time: 0.01, max_time: 0.05}\n")
    proc = run_cli("run", str(suite), "--results", str(tmp_path / "results"), "--no-report", "--no-table")
    import json
    runs = list((tmp_path / "results").rglob("*.json"))
    assert runs, proc.stdout + proc.stderr
    cells = json.loads(runs[0].read_text())["results"]
    status = {(c["method"]["name"], c["problem"]["generator"]): c["status"] for c in cells}
    assert status[("blendenpik", "lstsq_planted")] == "ok"
    assert status[("blendenpik", "lstsq_sparse")] == "ok"
    assert status[("normal_cholesky", "lstsq_sparse")] == "skipped"
    assert status[("reference", "lstsq_sparse")] == "ok"
