"""dpp_sampling: the projection DPP's marginals are the leverage scores and its sets have
det(A_S)^2 probabilities (against enumeration and Cauchy-Binet), every sample has m
distinct rows and a nonsingular A_S; volume-rescaled sampling is unbiased and i.i.d.
leverage sampling is not; the reweighted Gram matrix is unbiased; unweighted leverage
sampling converges to the leverage-weighted fit; the score against brute-force fits;
hostile inputs and outputs; the generators."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.dpp_sampling  # noqa: F401
from implementations.dpp_sampling._common import basis, uniforms
from implementations.dpp_sampling.generators import dpp_coherent, dpp_gaussian, dpp_polynomial, monomials
from implementations.dpp_sampling.iid import leverage, uniform
from implementations.dpp_sampling.projection_dpp import projection_dpp, repeated_dpp
from implementations.dpp_sampling.reference import reference
from implementations.dpp_sampling.task import check_inputs, check_output, make_inputs, samples_needed, score
from implementations.dpp_sampling.volume import volume, volume_rescaled

SAMPLERS = {"uniform": uniform, "leverage": leverage, "volume": volume, "volume_rescaled": volume_rescaled,
            "repeated_dpp": repeated_dpp}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def coherent_design(N: int, m: int, seed: int = 0) -> np.ndarray:
    """A Gaussian design whose first row is 30 times longer: its leverage score is near 1."""
    A = np.random.default_rng(seed).standard_normal((N, m))
    A[0] *= 30.0
    return A


def leverage_scores(A: np.ndarray) -> np.ndarray:
    """Independently of the code: the diagonal of A (A^T A)^-1 A^T."""
    return np.einsum("ij,ji->i", A, np.linalg.solve(A.T @ A, A.T))


def outputs(out) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in out.value.items()}


def test_projection_dpp_marginals_are_the_leverage_scores():
    """P(i in S) = K_ii = l_i: per-index binomial z-scores over 5,000 draws (N = 30, m = 5).
    The same statistic rejects i.i.d. leverage draws (inclusion 1 - (1 - l_i/m)^m) and
    uniform draws."""
    N, m, draws = 30, 5, 5000
    A = coherent_design(N, m)
    lev = leverage_scores(A)
    assert lev[0] > 0.9 and abs(lev.sum() - m) < 1e-12
    U, _ = basis(torch.from_numpy(A))
    S = projection_dpp(U, uniforms(7, (draws, m), U)).numpy()

    def z_scores(sets: list[np.ndarray]) -> np.ndarray:
        counts = np.zeros(N)
        for s in sets:
            counts[np.unique(s)] += 1
        return (counts - draws * lev) / np.sqrt(draws * lev * (1 - lev))

    assert np.abs(z_scores(list(S))).max() < 4.5
    rng = np.random.default_rng(8)
    iid_sets = [rng.choice(N, size=m, p=lev / m) for _ in range(draws)]
    uniform_sets = [rng.choice(N, size=m) for _ in range(draws)]
    assert np.abs(z_scores(iid_sets)).max() > 10 and np.abs(z_scores(uniform_sets)).max() > 10


def test_every_projection_dpp_sample_has_m_distinct_rows_and_a_nonsingular_A_S():
    N, m = 40, 6
    A = dpp_coherent(np.random.default_rng(1), N=N, m=m, sigma=2.0)["A"]
    for dtype in (torch.float64, torch.float32):
        U, _ = basis(torch.from_numpy(A).to(dtype))
        S = projection_dpp(U, uniforms(3, (2000, m), U)).numpy()
        assert all(len(set(s)) == m for s in S), dtype
        s = np.linalg.svd(A[S], compute_uv=False)  # 2000 x m x m
        assert (s[:, -1] / s[:, 0]).min() > 1e-8, dtype


def test_volume_sampling_at_n_equals_m_has_det_squared_probabilities():
    """Size-m volume sampling: P(S) = det(A_S)^2 / det(A^T A) (Cauchy-Binet normalizes it);
    the method's n = m draws are one projection DPP; chi-square over all 35 subsets."""
    N, m, draws = 7, 3, 5000
    A = np.random.default_rng(2).standard_normal((N, m)) * np.array([1, 2, 4, 1, 1, 3, 1.0])[:, None]
    subsets = list(itertools.combinations(range(N), m))
    dets = np.array([np.linalg.det(A[list(s)]) ** 2 for s in subsets])
    assert abs(dets.sum() / np.linalg.det(A.T @ A) - 1) < 1e-12  # Cauchy-Binet
    At = torch.from_numpy(A)
    for seed in range(3):  # the method's draws at factor 1 are the DPP's
        got = volume(At, factor=1.0, seed=seed).value["indices"]
        U, _ = basis(At)
        assert torch.equal(got, projection_dpp(U, uniforms(seed, (1, m), U))[0])
    U, _ = basis(At)
    S = projection_dpp(U, uniforms(11, (draws, m), U)).numpy()
    where = {s: k for k, s in enumerate(subsets)}
    counts = np.bincount([where[tuple(sorted(s))] for s in S], minlength=len(subsets))
    expected = draws * dets / dets.sum()
    assert scipy.stats.chisquare(counts, expected).pvalue > 1e-3
    rng = np.random.default_rng(12)  # i.i.d. leverage sets of m distinct rows do not pass
    lev = leverage_scores(A)
    other = [tuple(sorted(rng.choice(N, size=m, replace=False, p=lev / m))) for _ in range(draws)]
    wrong = np.bincount([where[s] for s in other], minlength=len(subsets))
    assert scipy.stats.chisquare(wrong, expected).pvalue < 1e-6


def test_volume_rescaled_is_unbiased_and_iid_leverage_is_not():
    """Dereziński, Warmuth and Hsu (2019): E[x_S] = x* for volume-rescaled sampling at
    every n >= m; i.i.d. leverage sampling's weighted fit is biased at small n."""
    rng = np.random.default_rng(3)
    N, m = 12, 2
    A = rng.standard_normal((N, m)) * np.exp(rng.standard_normal(N))[:, None]
    b = A[:, 0] ** 2 + A @ np.array([1.0, -1.0]) + 0.3 * rng.standard_normal(N)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    At = torch.from_numpy(A)
    z = {}
    for name, fn in (("volume_rescaled", volume_rescaled), ("leverage", leverage)):
        xs = []
        for seed in range(1200):
            out = outputs(fn(At, factor=1.5, seed=seed))
            s = np.sqrt(out["weights"])
            xs.append(np.linalg.lstsq(A[out["indices"]] * s[:, None], b[out["indices"]] * s, rcond=None)[0])
        xs = np.array(xs)
        z[name] = np.abs(xs.mean(0) - x_star) / (xs.std(0) / np.sqrt(len(xs)))
    assert z["volume_rescaled"].max() < 3.5 and z["leverage"].max() > 5, z


@pytest.mark.parametrize("name", ["leverage", "repeated_dpp"])
def test_reweighted_gram_matrix_is_unbiased(name):
    """E sum_k w_k a_k a_k^T = A^T A for the optimal weights 1 / (n p_i), i.i.d. or DPP."""
    A = coherent_design(50, 4, seed=4)
    At = torch.from_numpy(A)
    G = np.zeros((4, 4))
    trials = 400
    for seed in range(trials):
        out = outputs(SAMPLERS[name](At, factor=2.0, seed=seed))
        rows = A[out["indices"]]
        G += (rows * out["weights"][:, None]).T @ rows / trials
    assert np.linalg.norm(G - A.T @ A) / np.linalg.norm(A.T @ A) < 0.05


def test_unweighted_leverage_converges_to_the_leverage_weighted_fit():
    """Without reweighting, the fit tends to argmin sum_i l_i (a_i^T x - b_i)^2, not x*;
    reweighted, its excess risk vanishes like 1/n."""
    problem = dpp_coherent(np.random.default_rng(5), N=200, m=3, sigma=1.5, misfit=1.0)
    inputs = make_inputs(problem, factor=400.0)
    ref = reference(**inputs)
    A, b = problem["A"], problem["b"]
    lev = np.sqrt(leverage_scores(A))
    x_lev = np.linalg.lstsq(A * lev[:, None], b * lev, rcond=None)[0]
    r_star = b - A @ np.linalg.lstsq(A, b, rcond=None)[0]
    limit = np.linalg.norm(A @ (x_lev - ref["x"])) ** 2 / (r_star @ r_star)
    At = torch.from_numpy(A)
    plain = score(outputs(leverage(At, factor=400.0, seed=0, reweight=False)), ref, inputs)["excess_risk"]
    weighted = score(outputs(leverage(At, factor=400.0, seed=0)), ref, inputs)["excess_risk"]
    assert limit > 0.05 and abs(plain / limit - 1) < 0.3 and weighted < 0.2 * limit, (limit, plain, weighted)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_excess_risk_is_zero_when_b_is_in_range(name):
    A = dpp_gaussian(np.random.default_rng(6), N=80, m=4)["A"]
    inputs = make_inputs({"A": A, "b": A @ np.array([1.0, -2.0, 0.5, 3.0])}, factor=2.0)
    assert check_inputs(inputs) is None
    ref = reference(**inputs)
    found = score(outputs(SAMPLERS[name](torch.from_numpy(A), factor=2.0, seed=0)), ref, inputs)
    assert found["excess_risk"] < 1e-24 and found["samples_needed"] <= 8, found


def test_reference_scores_exact_and_needs_every_row():
    inputs = make_inputs(dpp_gaussian(np.random.default_rng(7), N=60, m=3), factor=2.0)
    ref = reference(**inputs)
    assert check_output(ref, ref, inputs) is None
    found = score(ref, ref, inputs)
    assert found["excess_risk"] < 1e-20 and found["samples_needed"] == 60


def test_excess_risk_and_samples_needed_against_brute_force_fits():
    problem = dpp_coherent(np.random.default_rng(8), N=300, m=5)
    A, b = problem["A"], problem["b"]
    r_star = b - A @ np.linalg.lstsq(A, b, rcond=None)[0]
    Q = np.linalg.qr(A)[0]  # any orthonormal basis of range(A) whitens the Gram matrix
    reached = []
    for name, constant in (("leverage", 1.5), ("repeated_dpp", 1.3), ("volume_rescaled", 2.0), ("uniform", 1.5)):
        inputs = make_inputs(problem, factor=8.0, constant=constant)
        ref = reference(**inputs)
        out = outputs(SAMPLERS[name](torch.from_numpy(A), factor=8.0, seed=1))
        idx, w, blocks = out["indices"], out["weights"], out["blocks"]
        loss = []
        for end in range(1, len(idx) + 1):
            s = np.sqrt(w[:end])
            x = np.linalg.lstsq(A[idx[:end]] * s[:, None], b[idx[:end]] * s, rcond=None)[0]
            loss.append(np.sum((b - A @ x) ** 2) / (r_star @ r_star))
        ends = [e for e in range(1, len(idx) + 1) if e == len(idx) or blocks[e] != blocks[e - 1]]
        full_rank = [e for e in ends if np.linalg.matrix_rank(A[idx[:e]]) == 5]
        want = next((e for e in full_rank if loss[e - 1] <= constant), len(idx) + 1)
        kappa = [np.linalg.cond((Q[idx[:e]] * w[:e, None]).T @ Q[idx[:e]]) for e in full_rank]
        stable = next((e for e, k in zip(full_rank, kappa) if k <= 3.0), len(idx) + 1)
        found = score(out, ref, inputs)
        assert found["samples_needed"] == want and found["samples_stable"] == stable, (name, found, want, stable)
        reached.append(stable <= len(idx))
        assert abs(found["excess_risk"] - (loss[-1] - 1)) <= 1e-9 * loss[-1], (name, found, loss[-1])
    assert sum(reached) >= 2, reached  # the stability count is exercised, not only censored


def test_not_reached_is_n_plus_one():
    inputs = make_inputs(dpp_coherent(np.random.default_rng(9), N=300, m=5), factor=1.0, constant=1.0001)
    ref = reference(**inputs)
    out = outputs(uniform(torch.from_numpy(inputs["A"]), factor=1.0, seed=0))
    assert samples_needed(out, ref, inputs) == 6


def test_hostile_inputs_are_refused_with_reasons():
    rng = np.random.default_rng(10)
    A = rng.standard_normal((50, 4))
    b = rng.standard_normal(50)
    assert check_inputs(make_inputs({"A": A, "b": b})) is None
    deficient = A.copy()
    deficient[:, 3] = deficient[:, 0] + deficient[:, 1]
    cases = {
        "rank-deficient": ({"A": deficient, "b": b}, {}),
        "NaN or Inf entries": ({"A": np.where(np.eye(50, 4) > 0, np.nan, A), "b": b}, {}),
        "b has 1 NaN": ({"A": A, "b": np.r_[b[:-1], np.nan]}, {}),
        "draws < m": ({"A": A, "b": b}, {"factor": 0.5}),
        "must exceed 1": ({"A": A, "b": b}, {"constant": 1.0}),
        "b is zero": ({"A": A, "b": np.zeros(50)}, {}),
        "A must be tall": ({"A": A[:3], "b": b[:3]}, {}),
        "A is zero": ({"A": np.zeros((50, 4)), "b": b}, {}),
        "b must have N = 50": ({"A": A, "b": b[:10]}, {}),
    }
    for want, (problem, params) in cases.items():
        why = check_inputs(make_inputs(problem, **params))
        assert why and want in why, (want, why)
    with pytest.raises(ValueError, match="returning"):
        make_inputs(A)


def test_bad_outputs_are_refused():
    inputs = make_inputs(dpp_gaussian(np.random.default_rng(11), N=40, m=2), factor=2.0)
    ref = reference(**inputs)
    good = {"indices": np.array([0, 5, 7, 9]), "weights": np.ones(4), "blocks": np.arange(4)}
    assert check_output(good, ref, inputs) is None
    for bad, want in (({**good, "indices": np.array([0, 5, 7])}, "shape"),
                      ({**good, "indices": np.array([0, 5, 7, 40])}, "must lie in"),
                      ({**good, "weights": np.array([1.0, -1, 1, 1])}, "positive"),
                      ({**good, "blocks": np.array([0, 2, 1, 3])}, "nondecreasing"),
                      ({"indices": good["indices"]}, "expected a dict")):
        assert want in check_output(bad, ref, inputs)


def test_generators_make_tall_full_rank_problems_with_a_residual():
    for problem in (dpp_gaussian(np.random.default_rng(0), N=400, m=10),
                    dpp_coherent(np.random.default_rng(0), N=400, m=10),
                    dpp_polynomial(np.random.default_rng(0), dataset="wine", features=4, degree=2)):
        inputs = make_inputs(problem)
        assert check_inputs(inputs) is None
        A, b = inputs["A"], inputs["b"]
        r = b - A @ np.linalg.lstsq(A, b, rcond=None)[0]
        assert np.linalg.norm(r) > 0.05 * np.linalg.norm(b)
    gaussian = leverage_scores(dpp_gaussian(np.random.default_rng(0), N=400, m=10)["A"])
    coherent = leverage_scores(dpp_coherent(np.random.default_rng(0), N=400, m=10, sigma=2.0)["A"])
    assert gaussian.max() < 0.1 and coherent.max() > 0.5  # the mean is m / N = 0.025
    assert problem["A"].shape == (178, math.comb(6, 2))
    X = np.random.default_rng(1).standard_normal((5, 2))
    assert np.allclose(monomials(X, 2), np.column_stack([np.ones(5), X[:, 0], X[:, 1], X[:, 0] ** 2,
                                                         X[:, 0] * X[:, 1], X[:, 1] ** 2]))
