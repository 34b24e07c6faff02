"""inv_root: every method against the closed form Q diag((l + eps)^(-1/p)) Q^T; generators
against their closed forms; non-convergence reported, never silent."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)
from implementations.inv_root.generators import grad_stats, tridiagonal
from matrixbench.registry import WithInfo
from matrixbench.store import read_run

import implementations.inv_root  # noqa: F401  (registers the task)
from implementations.inv_root.coupled_newton import coupled_newton
from implementations.inv_root.eigh import eigh
from implementations.inv_root.reference import reference
from implementations.inv_root.task import make_inputs, score
from implementations.inv_root.warm_start import warm_start


def known(n: int = 40, cond: float = 1e3, seed: int = 0, batch: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    V = np.linalg.qr(rng.standard_normal((batch, n, n)))[0]
    lam = np.geomspace(1.0 / cond, 1.0, n)
    return (V * lam[None, None, :]) @ V.swapaxes(-1, -2), V, lam


def closed_form(V: np.ndarray, lam: np.ndarray, p: int, eps: float) -> np.ndarray:
    return (V * ((lam + eps) ** (-1.0 / p))[None, None, :]) @ V.swapaxes(-1, -2)


def rel(X, Y) -> float:
    X = X.value if isinstance(X, WithInfo) else X
    X = X.numpy() if isinstance(X, torch.Tensor) else X
    return float(np.max(np.linalg.norm(X - Y, axis=(-2, -1)) / np.linalg.norm(Y, axis=(-2, -1))))


@pytest.mark.parametrize("p", [2, 4, 8])
def test_methods_match_the_closed_form(p):
    A, V, lam = known()
    eps = 1e-6
    want = closed_form(V, lam, p, eps)
    inputs = make_inputs(A, p=p, eps=eps, perturbation=1e-3)
    assert rel(reference(A, p, eps), want) < 1e-12
    At = torch.from_numpy(inputs["A"])
    assert rel(eigh(At, p, eps), want) < 1e-11
    out = coupled_newton(At, p, eps, tolerance=1e-10)
    assert out.failure is None and 3 <= out.info["iterations"] <= 40
    assert rel(out, want) < 1e-9
    exact = warm_start(At, p, eps, Q_prev=torch.from_numpy(V), steps=1)
    assert rel(exact, want) < 1e-10


def test_coupled_newton_stops_at_its_cap_and_says_so():
    A, V, lam = known(cond=1e4)
    out = coupled_newton(torch.from_numpy(A), 4, 0.0, tolerance=1e-8, max_iters=2)
    assert out.info["iterations"] == 2
    assert out.failure.startswith("no convergence after 2 steps: max|M - I| = ")


def spiked(n: int = 64, floor: float = 1e-2, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gradient statistic's spectrum: four eigenvalues near 1e3 over a noise floor near ``floor``."""
    rng = np.random.default_rng(seed)
    V = np.linalg.qr(rng.standard_normal((1, n, n)))[0]
    lam = np.concatenate([np.geomspace(floor, 4 * floor, n - 4), [1e3, 1.5e3, 2e3, 3e3]])
    return (V * lam) @ V.swapaxes(-1, -2), V, lam


@pytest.mark.parametrize("p", [2, 4, 8])
def test_coupled_newton_converges_on_a_spiked_spectrum(p):
    # The large eigenvalues converge long before the noise floor: the row-sum norm of
    # M - I grows meanwhile, and a growth guard on it stopped p = 2 after one step.
    A, V, lam = spiked(floor=1e-3)
    out = coupled_newton(torch.from_numpy(A), p, 0.0, tolerance=1e-6)
    assert out.failure is None and out.info["iterations"] > 10
    assert rel(out, closed_form(V, lam, p, 0.0)) < 1e-7


def test_eigh_float32_keeps_the_noise_floor():
    # cond 3e5: float32 eigh is accurate to a few u cond / p (0.03 observed); a floor of
    # n u l_max (1e-2 here) would flatten the noise floor (0.2 observed).
    A, V, lam = spiked(floor=1e-2)
    X = eigh(torch.from_numpy(A).float(), 2, 0.0).double()
    assert rel(X, closed_form(V, lam, 2, 0.0)) < 6e-2


def test_warm_start_improves_with_steps():
    # well separated eigenvalues: subspace iteration converges fast
    A, V, lam = known(n=24, cond=1e2, batch=1)
    want = closed_form(V, lam, 2, 0.0)
    inputs = make_inputs(A, p=2, eps=0.0, perturbation=1e-2)
    At, Q = torch.from_numpy(inputs["A"]), torch.from_numpy(inputs["Q_prev"])
    errors = [rel(warm_start(At, 2, 0.0, Q_prev=Q, steps=s), want) for s in (1, 4, 16)]
    assert errors[0] < 0.2 and errors[2] < errors[1] < errors[0], errors


def test_score_of_the_exact_root():
    A, V, lam = known()
    inputs = make_inputs(A, p=4, eps=1e-3)
    exact = closed_form(V, lam, 4, 1e-3)
    s = score(exact, exact, inputs)
    assert s["rel_error"] == 0.0 and s["residual"] < 1e-10
    s = score(exact * (1 + 1e-4), exact, inputs)
    assert s["rel_error"] == pytest.approx(1e-4, rel=1e-6)
    # X^{-4} = (1 + 1e-4)^{-4} (A + eps I): relative to ||A + eps I||_inf, whatever its size
    assert s["residual"] == pytest.approx(1 - (1 + 1e-4) ** -4, rel=1e-3)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.5), (1e-3, 1e-4), (100.0, -10.0)])
def test_tridiagonal_eigenvalues(alpha, beta):
    n = 30
    T = tridiagonal(np.random.default_rng(0), n, alpha, beta, batch=2)
    k = np.arange(1, n + 1)
    want = np.sort(alpha + 2 * beta * np.cos(k * np.pi / (n + 1)))
    assert T.shape == (2, n, n)
    assert np.allclose(np.linalg.eigvalsh(T[0]), want, rtol=1e-12, atol=1e-15 * alpha)
    with pytest.raises(ValueError, match="not positive definite"):
        tridiagonal(np.random.default_rng(0), n, alpha, 0.6 * alpha)


def test_grad_stats_is_the_average_of_the_outer_products():
    n, d, steps, rank, noise = 12, 5, 7, 3, 0.3
    S = grad_stats(np.random.default_rng(4), n, d, steps, rank, noise)
    rng = np.random.default_rng(4)
    L = rng.standard_normal((n, rank))
    want = np.zeros((n, n))
    for _ in range(steps):
        G = L @ rng.standard_normal((rank, d)) / np.sqrt(rank) + noise * rng.standard_normal((n, d))
        want += G @ G.T
    assert np.allclose(S[0], want / steps, rtol=1e-12, atol=1e-14)
    assert np.linalg.eigvalsh(S[0]).min() > 0


def test_non_convergence_is_an_inaccurate_cell(run_cli, tmp_path):
    (tmp_path / "s.yaml").write_text("""\
task: inv_root
problems:
  generator: spd
  params: {n: 32, cond: 1.0e+4}
  task_params: {p: 4}
methods: [reference, {coupled_newton: {max_iters: [2, 100]}}]
dtypes: [float64]
devices: [cpu]
timing: {min_time: 0.01, max_time: 0.05}
""")
    res = run_cli("run", "s.yaml")
    assert res.returncode == 1, res.stderr
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    cells = {r["method"]["params"].get("max_iters"): r for r in run["results"]
             if r["method"]["name"] == "coupled_newton"}
    assert cells[2]["status"] == "inaccurate" and "no convergence after 2 steps" in cells[2]["reason"]
    assert cells[2]["time"] and cells[2]["metrics"]["iterations"] == 2.0
    assert cells[100]["status"] == "ok" and cells[100]["metrics"]["rel_error"] < 1e-6
