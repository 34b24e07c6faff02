"""Task ``parametric``: every method against independent numpy/scipy solves and slogdet."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from implementations.parametric import chebyshev, direct, eim, generators, reduced_basis, task


def problem(quantity="solve", **params):
    rng = np.random.default_rng(0)
    return task.make_inputs(generators.param_diffusion(rng, **params), quantity=quantity)


def truth(inputs):
    """Independent: dense numpy.linalg.solve / slogdet of sum_q theta_q A_q."""
    out = []
    for theta in inputs["theta_test"]:
        A = sum(t * (T.toarray() if sp.issparse(T) else T) for t, T in zip(theta, inputs["terms"]))
        if inputs["quantity"] == "solve":
            out.append(np.linalg.solve(A, inputs["B"]))
        else:
            sign, ld = np.linalg.slogdet(A)
            assert sign > 0
            out.append(ld)
    return np.asarray(out)


def worst(got, inputs):
    return float(task.errors(got.value if hasattr(got, "value") else got, truth(inputs), inputs).max())


@pytest.mark.parametrize("quantity", ["solve", "logdet"])
def test_eim_with_each_powers_affine_size_reproduces_the_inverse_to_rounding(quantity):
    """The precise statement behind "EIM with as many terms as the affine decomposition
    reproduces the inverse". G(mu)^p has D_p = C(p+Q-1, p) parameter functions (the
    degree-p monomials of phi); an EIM with M_p = D_p terms reproduces each power to
    rounding, hence the inverse up to the series' tail rho^(P+1)/(1-rho) < 1e-14. With
    Q = 2 terms, D_p = p + 1, so eim_terms = P + 1 (and a training set that large).
    As phrased ("as many terms as A's affine decomposition", Q = 2 for every power) it
    is false: only G(mu) = G(mu)^1 is then exact (next test). Measured at contrast 1.3
    (P = 23): 1.7e-14 (solve), 4e-16 (logdet); with Q = 2 terms 7e-4 / 3e-6. At contrast
    1.5 (P = 34) the solve's error grows to 7e-12: the degree-34 monomial interpolation
    matrices are ill-conditioned."""
    inputs = problem(quantity, n=30, regions=2, contrast=1.3, train=40, test=6)
    P = eim.series_length(*_rho_tol(inputs))
    out = eim.eim_powers(**inputs, eim_terms=P + 1)
    assert out.info["powers"] == P < 40
    assert worst(out, inputs) < 1e-12  # kappa(A) ~ 5e2: near the rounding level of a direct solve
    q_terms = eim.eim_powers(**inputs, eim_terms=2)
    assert worst(q_terms, inputs) > 1e3 * worst(out, inputs)


def _rho_tol(inputs):
    th = inputs["theta_train"]
    ref = np.sqrt(th.min(0) * th.max(0))
    r = th / ref
    return (r.max() - r.min()) / (r.max() + r.min()), eim.SERIES_TOL["float64"]


def test_eim_with_q_terms_reproduces_the_first_power_exactly():
    """M = Q: sum_m lambda_m(mu) G(mu_m) == G(mu) for any mu (G affine in phi)."""
    rng = np.random.default_rng(1)
    phi_train = rng.uniform(-0.5, 0.5, (10, 3))
    e = eim.PowerEIM(phi_train, 1, 3)
    G = [rng.standard_normal((5, 5)) for _ in range(3)]
    phi = rng.uniform(-0.5, 0.5, 3)
    lam = e.coefficients(phi)
    lhs = sum(l * sum(f * g for f, g in zip(phi_train[t], G)) for l, t in zip(lam, e.rows))
    np.testing.assert_allclose(lhs, sum(f * g for f, g in zip(phi, G)), atol=1e-13)
    # the second power (6 monomials) is not reproduced by 3 terms, but is by 6
    def square(ph):
        M = sum(f * g for f, g in zip(ph, G))
        return M @ M
    e2 = eim.PowerEIM(phi_train, 2, 6)
    lam2 = e2.coefficients(phi)
    approx = sum(l * square(phi_train[t]) for l, t in zip(lam2, e2.rows))
    np.testing.assert_allclose(approx, square(phi), atol=1e-12)


@pytest.mark.parametrize("quantity", ["solve", "logdet"])
def test_methods_against_numpy(quantity):
    inputs = problem(quantity, n=50, regions=3, contrast=2.0, train=17, test=5, rhs=2)
    # measured (solve / logdet): direct 3e-15 / 3e-16; EIM 16 terms, 64 powers 1.6e-8 / 1.4e-11
    # (the EIM's error on the powers, P + 1 = 65 monomials each, by 16 terms); Chebyshev 16
    # 6e-14 / 4e-16 (coefficients analytic in mu); CG 3.5e-13 (relative residual 1e-10);
    # RB with all 17 x 2 snapshots 5e-15
    assert worst(direct.direct(**inputs), inputs) < 1e-12
    assert worst(eim.eim_powers(**inputs, eim_terms=16), inputs) < (1e-7 if quantity == "solve" else 1e-10)
    assert worst(chebyshev.chebyshev(**inputs, degree=16), inputs) < 1e-12
    if quantity == "solve":
        assert worst(direct.cg_warm(**inputs), inputs) < 1e-10
        assert worst(reduced_basis.reduced_basis(**inputs, basis=34), inputs) < 1e-12


def test_kernel_and_graph_families_against_numpy():
    """Measured worst errors: direct 5e-15; EIM (12 terms, 169 powers) 1e-7 / 3e-7 (solve,
    kernel / graph), 6e-8 / 5e-8 (logdet); Chebyshev 16 6e-6 (kernel: K + mu I with mu down
    to 0.1, the nearest pole at -lambda_min(K) ~ 0 of the interval [0.1, 1]) and 6e-10 (graph)."""
    for gen in (generators.param_kernel, generators.param_graph_reg):
        for quantity in ("solve", "logdet"):
            inputs = task.make_inputs(gen(np.random.default_rng(0), samples=80, train=17, test=4), quantity)
            assert task.check_inputs(inputs) is None
            assert worst(direct.direct(**inputs), inputs) < 1e-10
            assert worst(eim.eim_powers(**inputs), inputs) < 1e-6
            assert worst(chebyshev.chebyshev(**inputs, degree=16), inputs) < 5e-5


def test_reduced_basis_is_exact_when_test_set_is_training_set():
    inputs = problem(n=60, regions=3, parameters="per_region", contrast=5.0, train=8, test=1, rhs=2)
    inputs = dict(inputs, theta_test=inputs["theta_train"], mu_test=inputs["mu_train"])
    out = reduced_basis.reduced_basis(**inputs, basis=16)  # 8 parameters x 2 columns
    assert worst(out, inputs) < 1e-11


def test_chebyshev_error_decays_with_degree():
    inputs = task.make_inputs(generators.param_kernel(np.random.default_rng(0), samples=60, train=65, test=10))
    errs = [worst(chebyshev.chebyshev(**inputs, degree=d), inputs) for d in (2, 4, 8, 16, 32)]
    assert all(b < a for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 1e-8 < errs[0]
    assert chebyshev.applies(inputs, degree=5) is not None  # 5 does not divide 64
    multi = problem(n=20, regions=2, parameters="per_region", train=9, test=2)
    assert "one parameter" in chebyshev.applies(multi, degree=8)


def test_quantity_skips_and_clocks():
    inputs = problem("logdet", n=20, contrast=2.0, train=9, test=2)
    assert "log-determinants" in direct.solves_only(inputs)
    info = eim.eim_powers(**inputs, eim_terms=3, powers=8).info
    assert info["offline_time"] > 0 and info["online_time"] > 0
    assert info["size"] == 3 and info["powers"] == 8


def test_hostile_inputs_are_refused():
    good = problem(n=20, train=9, test=3)
    assert task.check_inputs(good) is None
    bad = dict(good, theta_test=good["theta_test"].copy())
    bad["theta_test"][1] = [-1.0, 0.5]  # A(mu) indefinite there
    assert "not positive definite at test parameter 1" in task.check_inputs(bad)
    nan = dict(good, theta_train=good["theta_train"].copy())
    nan["theta_train"][0, 0] = np.nan
    assert "NaN" in task.check_inputs(nan)
    assert "expected (count, Q = 2)" in task.check_inputs(dict(good, theta_test=good["theta_test"][:, :1]))
    assert "B has shape" in task.check_inputs(dict(good, B=good["B"][:5]))
    assert "shape" in task.check_inputs(dict(good, terms=[good["terms"][0], sp.identity(7, format="csr")]))
    assert "not symmetric" in task.check_inputs(dict(good, terms=[good["terms"][0], sp.csr_matrix(np.triu(np.ones((20, 20))))]))
    assert "B is zero" in task.check_inputs(dict(good, B=np.zeros_like(good["B"])))
    assert "quantity" in task.check_inputs(dict(good, quantity="inverse"))


def test_eim_reports_a_test_parameter_outside_the_training_range():
    inputs = problem(n=20, contrast=2.0, train=9, test=3)
    inputs = dict(inputs, theta_test=inputs["theta_test"] * np.array([1.0, 50.0]))
    out = eim.eim_powers(**inputs, powers=10)
    assert out.failure and "outside the training range" in out.failure
