"""spd_solve: every solver against an independent solve, the known properties (CG ends in
at most n steps, Gauss-Seidel's rate on the model Laplacian, the Nyström preconditioner's
condition bound, refinement reaching float64 from a float32 factor), hostile inputs
(non-symmetric, indefinite, singular, zero, NaN; dense and sparse), and the task through
the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.spd_solve  # noqa: F401
from implementations.spd_solve.baselines import pcg_ichol, pyamg_sa, scipy_cg, spsolve
from implementations.spd_solve.cg import cg, pcg_jacobi
from implementations.spd_solve.direct import mixed_refine, torch_cholesky
from implementations.spd_solve.generators import krr_system
from implementations.spd_solve.nystrom import nystrom, nystrom_preconditioner, pcg_nystrom
from implementations.spd_solve.sor import pcg_ssor, sor
from implementations.spd_solve.task import check_inputs, make_inputs, score
from matrixbench.generators.laplacian import eigenvalues as laplacian_eigenvalues
from matrixbench.generators.laplacian import laplacian_2d
from matrixbench.generators.spd import spd
from matrixbench.operators import LinearOperator
from matrixbench.store import read_run

TORCH_ITERATIVE = {"cg": cg, "pcg_jacobi": pcg_jacobi, "pcg_nystrom": pcg_nystrom, "pcg_ssor": pcg_ssor, "sor": sor}


def torch_operator(A):
    """The operator a torch method gets: dense tensor, or CSR tensor for a SciPy sparse matrix."""
    if sp.issparse(A):
        A = sp.csr_matrix(A)
        T = torch.sparse_csr_tensor(torch.from_numpy(A.indptr).long(), torch.from_numpy(A.indices).long(),
                                    torch.from_numpy(A.data), size=A.shape)
        return LinearOperator.of(T)
    return LinearOperator.of(torch.from_numpy(np.ascontiguousarray(A)))


def solved(out) -> np.ndarray:
    x = out.value if hasattr(out, "value") else out
    return x.numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def metrics(out, A, b) -> dict[str, float]:
    dense = A.toarray() if sp.issparse(A) else A
    return score(solved(out), {"x": np.linalg.solve(dense, b)}, {"A": A, "b": b})


def problem(n=80, cond=100.0, seed=0):
    inputs = make_inputs(spd(np.random.default_rng(seed), n=n, cond=cond))
    return inputs["A"], inputs["b"]


def test_laplacian_2d_has_its_closed_form_spectrum():
    A = laplacian_2d(np.random.default_rng(0), grid=7, anisotropy=0.3)
    assert sp.isspmatrix_csr(A) and A.shape == (49, 49) and A.nnz == 5 * 49 - 4 * 7
    assert np.allclose(np.linalg.eigvalsh(A.toarray()), laplacian_eigenvalues(7, 0.3), atol=1e-13)


def test_krr_system_is_a_kernel_and_centered_labels():
    parts = krr_system(np.random.default_rng(0), dataset="wine", samples=60)
    K, b = parts["A"], parts["b"]
    assert K.shape == (60, 60) and np.allclose(np.diag(K), 1.0) and np.allclose(K, K.T)
    assert np.linalg.eigvalsh(K).min() > -1e-12
    assert abs(b.sum()) < 1e-12 and abs(np.linalg.norm(b) - 1) < 1e-12 and len(set(np.round(b, 12))) == 3  # 3 cultivars
    inputs = make_inputs(parts, shift=1e-2)
    assert np.allclose(inputs["A"], K + 1e-2 * np.eye(60)) and inputs["b"] is not None and inputs["shift"] == 1e-2


@pytest.mark.parametrize("name", sorted(TORCH_ITERATIVE))
@pytest.mark.parametrize("sparse", [False, True])
def test_every_iterative_solver_reaches_the_tolerance_within_its_budget(name, sparse):
    if sparse:
        A = laplacian_2d(np.random.default_rng(0), grid=12)
        b = make_inputs(A)["b"]
        budget = 600 if name == "sor" else 200
    else:
        A, b = problem(cond=10.0)
        budget = 300
    op = torch_operator(A)
    out = TORCH_ITERATIVE[name](op, torch.from_numpy(b), budget=budget, tol=1e-10)
    m = metrics(out, A, b)
    assert out.failure is None and m["rel_residual"] < 2e-10 and m["rel_error"] < 1e-7, (name, m)
    assert op.products <= budget and out.info["iterations"] >= 1, (name, op.products, out.info)


def test_direct_solvers_and_the_baselines_agree_with_numpy():
    A, b = problem(cond=1e4)
    for fn in (torch_cholesky, mixed_refine):
        m = metrics(fn(torch_operator(A), torch.from_numpy(b), tol=1e-13), A, b)
        assert m["rel_error"] < 1e-11 and m["rel_residual"] < 1e-12, (fn.__name__, m)
    op = LinearOperator.of(A)
    out = scipy_cg(op, b, budget=500, tol=1e-10)
    assert metrics(out, A, b)["rel_residual"] < 1e-10 and op.products <= 501
    L = laplacian_2d(np.random.default_rng(0), grid=10)
    bl = make_inputs(L)["b"]
    assert metrics(spsolve(LinearOperator.of(L), bl), L, bl)["rel_error"] < 1e-13


@pytest.mark.parametrize("name", ["pyamg", "ilupp"])
def test_optional_preconditioners_where_installed(name):
    pytest.importorskip(name)
    L = laplacian_2d(np.random.default_rng(0), grid=24)
    b = make_inputs(L)["b"]
    if name == "pyamg":
        out = pyamg_sa(LinearOperator.of(L), b, budget=100, tol=1e-10)
        plain = None
    else:
        out = pcg_ichol(torch_operator(L), torch.from_numpy(b), budget=300, tol=1e-10)
        plain = cg(torch_operator(L), torch.from_numpy(b), budget=300, tol=1e-10)
    assert metrics(out, L, b)["rel_residual"] < 1e-9
    if plain is not None:  # IC(0) cuts CG's iterations on the Laplacian
        assert out.info["iterations"] < 0.7 * plain.info["iterations"], (out.info, plain.info)
    else:  # AMG: a handful of cycles, independent of the grid
        assert out.info["iterations"] <= 15, out.info


def test_cg_terminates_in_at_most_n_steps_and_in_as_many_as_distinct_eigenvalues():
    """In exact arithmetic CG's residual is 0 after n steps, and after d steps for d distinct
    eigenvalues (Saad, Proposition 6.20 and section 6.11.3); in float64 on a well-conditioned
    matrix it is at the rounding level there and far from it half-way."""
    A, b = problem(n=25, cond=10.0, seed=3)
    half = cg(torch_operator(A), torch.from_numpy(b), budget=12, tol=1e-30)
    full = cg(torch_operator(A), torch.from_numpy(b), budget=25, tol=1e-30)
    assert metrics(half, A, b)["rel_residual"] > 1e-6 and metrics(full, A, b)["rel_residual"] < 1e-10
    Q = np.linalg.qr(np.random.default_rng(4).standard_normal((60, 60)))[0]
    B = (Q * np.repeat([1.0, 2.0, 5.0, 9.0], 15)) @ Q.T
    c = np.random.default_rng(5).standard_normal(60)
    three, four = (cg(torch_operator(B), torch.from_numpy(c), budget=t, tol=1e-30) for t in (3, 4))
    assert metrics(three, B, c)["rel_residual"] > 1e-3 and metrics(four, B, c)["rel_residual"] < 1e-12
    early = cg(torch_operator(B), torch.from_numpy(c), budget=1000, tol=1e-12)
    assert early.info["iterations"] == 4, early.info


def test_gauss_seidel_converges_at_the_model_problems_rate():
    """On the 2-D Laplacian Gauss-Seidel's error contracts by rho_GS = cos^2(pi h) a sweep
    (Young; Saad, section 4.2.5); the fitted rate over sweeps 100..400 is within 2%."""
    g = 15
    L = laplacian_2d(np.random.default_rng(0), grid=g)
    b = make_inputs(L)["b"]
    xs: list[np.ndarray] = []
    sor(torch_operator(L), torch.from_numpy(b), budget=400, tol=1e-30, callback=lambda x: xs.append(x.numpy()))
    exact = sp.linalg.spsolve(L.tocsc(), b)
    err = [np.linalg.norm(xs[t - 1] - exact) for t in (100, 400)]
    rate = (err[1] / err[0]) ** (1 / 300)
    assert abs(rate / math.cos(math.pi / (g + 1)) ** 2 - 1) < 0.02, rate
    # Young's optimal omega: rho = omega - 1, far faster
    omega = 2 / (1 + math.sin(math.pi / (g + 1)))
    fast = sor(torch_operator(L), torch.from_numpy(b), budget=400, tol=1e-10, omega=omega)
    assert fast.info["iterations"] < 0.3 * 400 and metrics(fast, L, b)["rel_residual"] < 1e-10, fast.info


def test_the_nystrom_preconditioners_condition_bound_holds():
    """Frangella, Tropp and Udell (2023), Proposition 5.3: kappa(P^-1/2 A_mu P^-1/2) <=
    (lhat_l + mu + ||E||) / mu, with E = A - A_nys: the preconditioned spectrum lies in
    [mu, lhat_l + mu + ||E||] (P^-1 (A_nys + mu I) is lhat_l + mu on span(U), mu off it)."""
    K = krr_system(np.random.default_rng(0), dataset="digits", samples=300)["A"]
    for mu, rank in ((1e-2, 20), (1e-4, 60)):
        A = K + mu * np.eye(300)
        op = torch_operator(A)
        U, lhat = nystrom(op, mu, rank, seed=0)
        assert op.products == rank
        P_inv = nystrom_preconditioner(U, lhat, mu)(torch.eye(300, dtype=torch.float64)).numpy()
        w, V = np.linalg.eigh(0.5 * (P_inv + P_inv.T))
        half = (V * np.sqrt(w)) @ V.T
        lam = np.linalg.eigvalsh(half @ A @ half)
        E = K - (U.numpy() * lhat.numpy()) @ U.numpy().T
        bound = (float(lhat[-1]) + mu + np.linalg.norm(E, 2)) / mu
        assert lam[0] >= mu * (1 - 1e-6) and lam[-1] / lam[0] <= bound * (1 + 1e-6), (mu, lam[0], lam[-1] / lam[0], bound)
        assert lam[-1] / lam[0] < 0.1 * np.linalg.cond(A), "the preconditioner must help"


def test_nystrom_pcg_needs_far_fewer_iterations_than_cg_on_a_kernel_system():
    inputs = make_inputs(krr_system(np.random.default_rng(0), dataset="digits", samples=500), shift=1e-4)
    A, b = inputs["A"], inputs["b"]
    plain = cg(torch_operator(A), torch.from_numpy(b), budget=2000, tol=1e-8)
    pre = pcg_nystrom(torch_operator(A), torch.from_numpy(b), shift=1e-4, budget=2000, tol=1e-8, rank=100)
    assert metrics(pre, A, b)["rel_residual"] < 1e-8
    assert pre.info["iterations"] < 0.25 * plain.info["iterations"], (pre.info, plain.info)


def test_mixed_precision_refinement_reaches_float64_from_a_float32_factor():
    A, b = problem(n=100, cond=1e5, seed=5)
    steps: list[float] = []
    out = mixed_refine(torch_operator(A), torch.from_numpy(b), tol=1e-14,
                       callback=lambda x: steps.append(metrics(x, A, b)["rel_error"]))
    assert metrics(out, A, b)["rel_error"] < 1e-10 and 1 <= out.info["iterations"] <= 8, (out.info, steps)
    assert steps[0] > 1e-6 and steps[1] < 0.1 * steps[0], steps  # float32's first solve, then a contraction
    singular32 = problem(n=60, cond=1e11, seed=6)[0]
    refused = mixed_refine(torch_operator(singular32), torch.from_numpy(b[:60]))
    x = solved(refused)
    assert refused.failure is not None or np.linalg.norm(singular32 @ x - b[:60]) < 1e-8


def test_backward_error_is_small_for_cholesky_where_the_residual_is_not():
    """Rigal-Gaches: ||r||_inf / (||A||_inf ||x||_inf + ||b||_inf), numpy's matrix norms as
    the independent computation; Cholesky is backward stable at cond 1e10, so its
    backward error is at the rounding level while its error is not."""
    A, b = problem(n=100, cond=1e10, seed=7)
    x = solved(torch_cholesky(torch_operator(A), torch.from_numpy(b)))
    m = metrics(x, A, b)
    r = b - A @ x
    want = np.linalg.norm(r, np.inf) / (np.linalg.norm(A, np.inf) * np.linalg.norm(x, np.inf) + np.linalg.norm(b, np.inf))
    assert abs(m["backward_error"] / want - 1) < 1e-12
    assert m["backward_error"] < 1e-15 and m["rel_error"] > 1e-9, m
    sparse = metrics(np.ones(49), sp.csr_matrix(A[:49, :49]), b[:49])
    dense = metrics(np.ones(49), A[:49, :49], b[:49])
    assert abs(sparse["backward_error"] / dense["backward_error"] - 1) < 1e-12


def test_hostile_inputs_are_refused_with_the_reason():
    A, b = problem(n=20)
    assert check_inputs(make_inputs(A)) is None
    assert "not symmetric" in check_inputs(make_inputs(np.triu(A) + np.eye(20)))
    indefinite = A - 0.5 * np.eye(20)
    assert "not positive definite" in check_inputs(make_inputs(indefinite))
    singular = A.copy()
    singular[:, 0] = singular[0, :] = 0.0
    assert "not positive definite" in check_inputs(make_inputs(singular))
    assert "zero matrix" in check_inputs(make_inputs(np.zeros((5, 5))))
    bad = A.copy()
    bad[3, 4] = np.nan
    assert "not finite" in check_inputs(make_inputs(bad))
    assert "b is zero" in check_inputs(make_inputs({"A": A, "b": np.zeros(20)}))
    assert "entries" in check_inputs(make_inputs({"A": A, "b": np.ones(19)}))
    # sparse: the pivots' signs count the negative eigenvalues (Sylvester)
    L = laplacian_2d(np.random.default_rng(0), grid=8)
    assert check_inputs(make_inputs(L)) is None
    shifted = (L - 1.0 * sp.identity(64)).tocsr()
    negative = int((np.linalg.eigvalsh(shifted.toarray()) < 0).sum())
    msg = check_inputs(make_inputs(shifted))
    assert msg and "not positive definite" in msg and f"{negative} pivots" in msg, (negative, msg)
    lopsided = L.tolil()
    lopsided[0, 1] = 5.0
    assert "not symmetric" in check_inputs(make_inputs(lopsided.tocsr()))


def test_cg_reports_a_breakdown_on_an_indefinite_matrix():
    A = np.diag([1.0, -1.0, 2.0])
    out = cg(torch_operator(A), torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64), budget=10)
    assert out.failure and "broke down" in out.failure


SUITE = """
name: t
benchmarks:
  - name: dense
    task: spd_solve
    problems:
      generator: spd
      params: {n: 60, cond: [10.0, 1.0e+4]}
      task_params: {budget: 300}
    methods: [reference, cg, pcg_jacobi, {pcg_nystrom: {rank: 10}}, pcg_ssor, sor, torch_cholesky, mixed_refine, scipy_cg, spsolve]
    dtypes: [float64]
    trace: true
    timing: {min_time: 0.0, max_time: 0.02}
  - name: grid
    task: spd_solve
    problems:
      generator: laplacian_2d
      params: {grid: 10}
      task_params: {budget: 200}
    methods: [reference, cg, pcg_ssor, torch_cholesky, spsolve, pyamg_sa]
    dtypes: [float64, float32]
    timing: {min_time: 0.0, max_time: 0.02}
"""


def test_the_task_through_the_engine_and_the_report(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(SUITE)
    res = run_cli("run", "t.yaml", "--no-table", timeout=600)
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    by = {(r["entry"], r["problem"]["params"].get("cond"), r["method"]["name"], r["dtype"]): r
          for r in run["results"]}
    assert by[("grid", None, "torch_cholesky", "float64")]["status"] == "skipped"
    assert by[("dense", 10.0, "spsolve", "float64")]["status"] == "skipped"
    for key, r in by.items():
        if r["status"] == "skipped":
            assert r["reason"], key
            continue
        assert r["status"] in ("ok", "inaccurate"), (key, r["status"], r.get("reason"))
        assert r["metrics"]["matvecs"] <= 300, (key, r["metrics"])
    assert by[("dense", 10.0, "cg", "float64")]["metrics"]["rel_residual"] < 1e-9
    assert by[("grid", None, "cg", "float32")]["metrics"]["rel_residual"] < 1e-4
    assert res.returncode in (0, 1), res.stderr[-2000:]
    traced = by[("dense", 1.0e4, "pcg_nystrom", "float64")]["trace"]
    assert traced["matvecs"][0] == 11 and traced["matvecs"][-1] == by[("dense", 1.0e4, "pcg_nystrom", "float64")]["metrics"]["matvecs"]
    rep = run_cli("report", "-o", "rep")
    page = (tmp_path / "rep" / "task-spd_solve.html").read_text()
    assert rep.returncode == 0 and "matrix-vector products (counted)" in page
