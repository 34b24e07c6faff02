"""precision: the estimators against independent computations (scikit-learn's LedoitWolf,
OAS and GraphicalLasso; the KKT conditions of each convex problem, checked from the
inverse of the estimate; the M-matrix property), the generators' stated properties,
the metrics against closed forms, and hostile inputs refused with their reason."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.precision  # noqa: F401
from implementations.precision._common import penalty
from implementations.precision.adaptive import mtp2_adaptive
from implementations.precision.baselines import sklearn_glasso
from implementations.precision.generators import gaussian_graph, graph_edges, real_features
from implementations.precision.glasso import glasso_admm, glasso_bcd
from implementations.precision.mtp2 import mtp2_mle
from implementations.precision.reference import ledoit_wolf_np, reference
from implementations.precision.shrinkage import full_rank, ledoit_wolf, ledoit_wolf_covariance, oas, oas_covariance, \
    sample_inverse
from implementations.precision.task import check_inputs, check_output, edges, f1_score, make_inputs, score

sklearn = pytest.importorskip("sklearn")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small matrices: one thread (a shared, busy machine makes thread pools spin)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def problem(p=12, ratio=3.0, graph="chain", signs="negative", replicate=0, seed=0):
    return make_inputs(gaussian_graph(np.random.default_rng(seed), p=p, ratio=ratio, graph=graph, signs=signs,
                                      heldout=200, replicate=replicate))


def covariance(X):
    """The MLE sample covariance, independently: numpy's ``cov`` with ``bias=True``."""
    return np.cov(X, rowvar=False, bias=True)


def kkt_mtp2(T, S, Lam, tol):
    """Independent KKT check of ``min -logdet T + tr(S T) + sum Lam_ij |T_ij|`` over M-matrices:
    ``W = T^-1``: ``W_ii = S_ii``; ``W_ij = S_ij - Lam_ij`` where ``T_ij < 0``; ``W_ij >= S_ij - Lam_ij``
    where ``T_ij = 0``. Returns the largest violation relative to max |S|."""
    W = np.linalg.inv(T)
    G = S - W - Lam  # the gradient of the smooth part on the M-matrix cone
    off = ~np.eye(T.shape[0], dtype=bool)
    scale = np.abs(S).max()
    diag = np.abs(np.diag(G)).max()
    support = np.abs(G[off & (T < 0)]).max(initial=0.0)
    zero = np.clip(G[off & (T == 0)], 0.0, None).max(initial=0.0)  # need G <= 0 there
    return max(diag, support, zero) / scale


def assert_m_matrix(T):
    off = ~np.eye(T.shape[0], dtype=bool)
    assert np.all(T[off] <= 0), T[off].max()
    assert np.allclose(T, T.T, rtol=0, atol=1e-12 * np.abs(T).max())
    assert np.linalg.eigvalsh(T)[0] > 0


# --- shrinkage against scikit-learn ---------------------------------------------------------------

@pytest.mark.parametrize("n,p", [(40, 12), (8, 20), (200, 5)])
def test_ledoit_wolf_matches_sklearn(n, p):
    from sklearn.covariance import LedoitWolf

    X = np.random.default_rng(n + p).standard_normal((n, p)) @ np.diag(np.linspace(0.5, 3.0, p)) + 2.0
    model = LedoitWolf().fit(X)
    C = ledoit_wolf_covariance(torch.from_numpy(X)).numpy()
    assert np.linalg.norm(C - model.covariance_) <= 1e-12 * np.linalg.norm(model.covariance_)
    P = ledoit_wolf(torch.from_numpy(X)).numpy()
    assert np.linalg.norm(P - model.precision_) <= 1e-12 * np.linalg.norm(model.precision_) * np.linalg.cond(C)
    assert np.linalg.norm(ledoit_wolf_np(X) - model.covariance_) <= 1e-12 * np.linalg.norm(model.covariance_)


@pytest.mark.parametrize("n,p", [(40, 12), (8, 20), (200, 5)])
def test_oas_matches_sklearn(n, p):
    from sklearn.covariance import OAS

    X = np.random.default_rng(n * p).standard_normal((n, p)) @ np.diag(np.linspace(0.5, 3.0, p))
    model = OAS().fit(X)
    C = oas_covariance(torch.from_numpy(X)).numpy()
    assert np.linalg.norm(C - model.covariance_) <= 1e-12 * np.linalg.norm(model.covariance_)
    P = oas(torch.from_numpy(X)).numpy()
    assert np.linalg.norm(P - model.precision_) <= 1e-12 * np.linalg.norm(model.precision_) * np.linalg.cond(C)


def test_oas_exact_is_chen_et_al_eq23():
    """With ``exact``, the shrinkage of Chen et al. (2010) eq. (23), from its traces."""
    n, p = 15, 10
    X = np.random.default_rng(3).standard_normal((n, p))
    S = covariance(X)
    tr2, tr = np.trace(S @ S), np.trace(S)
    rho = min(((1 - 2 / p) * tr2 + tr**2) / ((n + 1 - 2 / p) * (tr2 - tr**2 / p)), 1.0)
    want = (1 - rho) * S + rho * tr / p * np.eye(p)
    got = oas_covariance(torch.from_numpy(X), exact=True).numpy()
    assert np.linalg.norm(got - want) <= 1e-12 * np.linalg.norm(want)


def test_sample_inverse_and_its_rank_condition():
    inputs = problem(p=10, ratio=3.0)
    got = sample_inverse(torch.from_numpy(inputs["X"])).numpy()
    want = np.linalg.inv(covariance(inputs["X"]))
    assert np.linalg.norm(got - want) <= 1e-10 * np.linalg.norm(want)
    assert full_rank({"X": np.zeros((10, 10))}) and "rank at most n - 1 = 9 < p" in full_rank({"X": np.zeros((10, 10))})
    assert full_rank({"X": np.zeros((11, 10))}) is None


def test_shrinkage_float32_close_to_float64():
    X = problem(p=10, ratio=3.0)["X"]
    for fn in (ledoit_wolf, oas):
        a = fn(torch.from_numpy(X)).numpy()
        b = fn(torch.from_numpy(X).float()).double().numpy()
        assert np.linalg.norm(a - b) <= 1e-4 * np.linalg.norm(a)


# --- M-matrix estimators: structure and KKT ---------------------------------------------------------

@pytest.mark.parametrize("ratio", [0.5, 3.0])
def test_mtp2_mle_is_an_m_matrix_at_a_kkt_point(ratio):
    inputs = problem(p=15, ratio=ratio, graph="random")  # n = 8 < p at ratio 0.5: the MLE still exists
    out = mtp2_mle(torch.from_numpy(inputs["X"]))
    assert out.failure is None and out.info["iterations"] > 0
    T = out.value.numpy()
    assert_m_matrix(T)
    assert kkt_mtp2(T, covariance(inputs["X"]), 0.0, None) < 1e-5
    assert np.any(T[~np.eye(15, dtype=bool)] == 0)  # the sign constraint is active: a sparse estimate


def mcp_weights(T, lam, gamma=2.0):
    """MCP's derivative ``(lam - t / gamma)_+`` at ``|T_ij|`` off the diagonal, zero diagonal."""
    W = np.clip(lam - np.abs(T) / gamma, 0.0, None)
    np.fill_diagonal(W, 0.0)
    return W


def test_adaptive_stages_are_m_matrices_at_their_kkt_points():
    inputs = problem(p=15, ratio=2.0, graph="random")
    X = torch.from_numpy(inputs["X"])
    S = covariance(inputs["X"])
    n, p = inputs["X"].shape
    lam = 0.5 * math.sqrt(math.log(p) / n)
    previous = None
    for stages in (1, 2, 3):
        out = mtp2_adaptive(X, lam=0.5, stages=stages, tol=1e-8)
        assert out.failure is None
        T = out.value.numpy()
        assert_m_matrix(T)
        Lam = np.full((p, p), lam) - np.diag(np.full(p, lam)) if previous is None else mcp_weights(previous, lam)
        assert kkt_mtp2(T, S, Lam, None) < 1e-6, stages
        previous = T


def test_adaptive_scad_weights_and_one_stage_is_l1_mtp2():
    inputs = problem(p=12, ratio=2.0, graph="random")
    X = torch.from_numpy(inputs["X"])
    S = covariance(inputs["X"])
    n, p = inputs["X"].shape
    lam = math.sqrt(math.log(p) / n)
    first = mtp2_adaptive(X, lam=1.0, stages=1, tol=1e-9).value.numpy()
    a = 3.7
    t = np.abs(first)
    W = np.where(t <= lam, lam, np.clip(a * lam - t, 0.0, None) / (a - 1))
    np.fill_diagonal(W, 0.0)
    second = mtp2_adaptive(X, lam=1.0, stages=2, penalty="scad", tol=1e-9).value.numpy()
    assert_m_matrix(second)
    assert kkt_mtp2(second, S, W, None) < 1e-6


def test_mtp2_float32():
    inputs = problem(p=12, ratio=3.0)
    out = mtp2_adaptive(torch.from_numpy(inputs["X"]).float())
    assert out.failure is None and out.value.dtype == torch.float32
    assert_m_matrix(out.value.double().numpy())


def test_mtp2_reports_non_convergence():
    out = mtp2_mle(torch.from_numpy(problem(p=12, ratio=1.0, graph="random")["X"]), max_iter=2)
    assert out.failure and "max_iter = 2" in out.failure


# --- graphical lasso against scikit-learn and its KKT conditions ------------------------------------

def kkt_glasso(T, S, alpha):
    """``W = T^-1``: ``W_ii = S_ii``, ``W_ij - S_ij = alpha sign(T_ij)`` on the support, ``|W_ij - S_ij| <= alpha``
    off it. Largest violation relative to max |S|."""
    W = np.linalg.inv(T)
    D = W - S
    off = ~np.eye(T.shape[0], dtype=bool)
    on = off & (T != 0)
    bad = [np.abs(np.diag(D)).max(), np.abs(D[on] - alpha * np.sign(T[on])).max(initial=0.0),
           np.clip(np.abs(D[off & (T == 0)]) - alpha, 0.0, None).max(initial=0.0)]
    return max(bad) / np.abs(S).max()


@pytest.mark.parametrize("signs", ["mixed", "negative"])
def test_glasso_matches_sklearn_and_kkt(signs):
    from sklearn.covariance import GraphicalLasso

    inputs = problem(p=12, ratio=3.0, graph="random", signs=signs)
    X = inputs["X"]
    n, p = X.shape
    alpha = penalty(0.5, n, p)
    want = GraphicalLasso(alpha=alpha, mode="cd", tol=1e-10, enet_tol=1e-10, max_iter=1000).fit(X).precision_
    S = covariance(X)
    bcd = glasso_bcd(X, lam=0.5, tol=1e-10)
    admm = glasso_admm(torch.from_numpy(X), lam=0.5, tol=1e-10)
    assert bcd.failure is None and admm.failure is None
    for got in (bcd.value, admm.value.numpy()):
        assert np.linalg.norm(got - want) <= 1e-6 * np.linalg.norm(want)
    assert kkt_glasso(bcd.value, S, alpha) < 1e-7
    # ADMM's Z has exact zeros; its KKT holds to the residual it stopped at
    assert kkt_glasso(admm.value.numpy(), S, alpha) < 1e-6
    # the sparsity pattern agrees with scikit-learn's
    assert np.array_equal(edges(bcd.value), edges(want))
    base = sklearn_glasso(X, lam=0.5, tol=1e-10, max_iter=1000)
    assert np.linalg.norm(base.value - want) <= 1e-3 * np.linalg.norm(want)  # its default enet_tol, 1e-4


def test_glasso_float32():
    X = problem(p=10, ratio=3.0, signs="mixed")["X"]
    a = glasso_bcd(X, lam=0.5).value
    for got in (glasso_bcd(X.astype(np.float32), lam=0.5).value, glasso_admm(torch.from_numpy(X).float(), lam=0.5).value.double().numpy()):
        assert np.linalg.norm(got - a) <= 1e-3 * np.linalg.norm(a)


# --- generators -------------------------------------------------------------------------------------

def test_gaussian_graph_is_a_diagonally_dominant_m_matrix_with_the_stated_graph():
    d = gaussian_graph(np.random.default_rng(0), p=9, ratio=2.0, graph="grid", heldout=5)
    T = d["precision"]
    assert d["X"].shape == (18, 9) and d["heldout"].shape == (5, 9)
    assert_m_matrix(T)
    assert np.all(np.diag(T) >= np.abs(T - np.diag(np.diag(T))).sum(axis=1))  # diagonally dominant
    assert math.isclose(np.mean(np.diag(np.linalg.inv(T))), 1.0, rel_tol=1e-12)  # mean variance 1
    iu = np.triu_indices(9, 1)
    got = {(int(i), int(j)) for i, j, v in zip(*iu, T[iu]) if v != 0}
    assert got == {(0, 1), (1, 2), (3, 4), (4, 5), (6, 7), (7, 8), (0, 3), (1, 4), (2, 5), (3, 6), (4, 7), (5, 8)}
    assert graph_edges("chain", 4, np.random.default_rng(0)) == [(0, 1), (1, 2), (2, 3)]
    assert len(graph_edges("barabasi", 20, np.random.default_rng(0))) == 19  # a tree


def test_gaussian_graph_samples_have_the_stated_covariance():
    d = gaussian_graph(np.random.default_rng(1), p=5, ratio=4000.0, graph="chain", signs="mixed", heldout=1)
    Sigma = np.linalg.inv(d["precision"])
    S = d["X"].T @ d["X"] / d["X"].shape[0]
    assert np.abs(S - Sigma).max() < 0.1 * np.abs(Sigma).max()  # 20000 samples: error ~ 1/sqrt(n)
    T = d["precision"]
    assert np.any(T[np.triu_indices(5, 1)] > 0) and np.linalg.eigvalsh(T)[0] > 0  # mixed signs, still definite


def test_gaussian_graph_replicates_differ_and_are_deterministic():
    a = gaussian_graph(np.random.default_rng(0), p=6, ratio=1.0, graph="random", replicate=0)
    b = gaussian_graph(np.random.default_rng(0), p=6, ratio=1.0, graph="random", replicate=0)
    c = gaussian_graph(np.random.default_rng(0), p=6, ratio=1.0, graph="random", replicate=1)
    assert np.array_equal(a["X"], b["X"]) and not np.array_equal(a["X"], c["X"])


def test_real_features_standardized_and_split():
    d = real_features(np.random.default_rng(0), dataset="wine", train=100)
    assert d["X"].shape == (100, 13) and d["heldout"].shape == (78, 13)
    assert np.allclose(d["X"].mean(axis=0), 0.0, atol=1e-12) and np.allclose(d["X"].std(axis=0), 1.0)
    assert check_inputs(make_inputs(d)) is None
    assert "precision" not in make_inputs(d)


def test_digits_constant_pixels_are_refused_unless_dropped():
    d = real_features(np.random.default_rng(0), dataset="digits", train=300)
    why = check_inputs(make_inputs(d))
    assert why and "constant column" in why
    kept = real_features(np.random.default_rng(0), dataset="digits", train=300, drop_constant=True)
    assert kept["X"].shape[1] < 64 and check_inputs(make_inputs(kept)) is None


# --- metrics ------------------------------------------------------------------------------------------

def test_score_against_closed_forms():
    from scipy.stats import multivariate_normal

    inputs = problem(p=6, ratio=3.0)
    truth = inputs["precision"]
    s = score(truth, None, inputs)
    assert s["rel_frobenius"] == 0.0 and s["rel_spectral"] == 0.0 and s["edge_f1"] == 1.0
    est = np.eye(6) * 2.0
    mean = inputs["X"].mean(axis=0)
    want = multivariate_normal(mean, np.linalg.inv(est)).logpdf(inputs["heldout"]).mean()
    got = score(est, None, inputs)
    assert math.isclose(got["heldout_loglik"], want, rel_tol=1e-12)
    assert math.isclose(got["rel_frobenius"], np.linalg.norm(est - truth) / np.linalg.norm(truth), rel_tol=1e-12)
    assert got["edge_f1"] == 0.0  # no edge found, 5 true ones


def test_f1_counts():
    true = np.array([1, 1, 0, 0, 1], dtype=bool)
    est = np.array([1, 0, 1, 0, 1], dtype=bool)
    assert math.isclose(f1_score(est, true), 2 * 2 / (2 * 2 + 1 + 1))
    assert f1_score(np.zeros(3, bool), np.zeros(3, bool)) == 1.0


def test_real_data_scores_have_no_truth_metrics():
    inputs = make_inputs(real_features(np.random.default_rng(0), dataset="wine"))
    ref = reference(**inputs)
    s = score(ref, None, inputs)
    assert set(s) == {"heldout_loglik"} and math.isfinite(s["heldout_loglik"])


# --- hostile inputs -----------------------------------------------------------------------------------

def test_hostile_inputs_are_refused_with_the_reason():
    good = problem(p=5, ratio=2.0)
    assert check_inputs(good) is None

    nan = dict(good, X=good["X"].copy())
    nan["X"][3, 2] = np.nan
    assert "not finite" in check_inputs(nan)

    one = dict(good, X=good["X"][:1])
    assert "at least 2 samples" in check_inputs(one)

    const = dict(good, X=good["X"].copy())
    const["X"][:, 4] = 3.0
    assert "constant column" in check_inputs(const) and "column 4" in check_inputs(const)

    assert "same p = 5" in check_inputs(dict(good, heldout=good["heldout"][:, :4]))
    assert "p x p = 5 x 5" in check_inputs(dict(good, precision=np.eye(4)))
    assert "2-D" in check_inputs(dict(good, X=good["X"][0]))
    bad_truth = np.eye(5)
    bad_truth[0, 0] = -1.0
    assert "not positive definite" in check_inputs(dict(good, precision=bad_truth))
    assert "heldout is not finite" in check_inputs(dict(good, heldout=np.full((3, 5), np.inf)))
    with pytest.raises(ValueError, match="X"):
        make_inputs(np.eye(3))


def test_check_output_refuses_what_is_not_a_precision():
    inputs = problem(p=4, ratio=2.0)
    assert check_output(np.eye(4), None, inputs) is None
    assert "shape" in check_output(np.eye(3), None, inputs)
    assert "not positive definite" in check_output(-np.eye(4), None, inputs)
    skew = np.eye(4)
    skew[0, 1] = 0.5
    assert "not symmetric" in check_output(skew, None, inputs)
