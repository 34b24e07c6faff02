"""The ``matmul_approx`` task and its methods, and the tall/pair generators, against
independent computations: the exact product ``A^T B`` (NumPy / SciPy), unbiasedness by
averaging over seeds, the Drineas-Kannan-Mahoney variance bound, the closed form of the
threshold, and the order-of-magnitude claim of coordinated sampling on sparse factors.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import implementations.matmul_approx  # noqa: F401  (registers the task and its methods)
from implementations.matmul_approx.coordinated import threshold_tau
from implementations.matmul_approx.task import check_inputs, make_inputs, score
from implementations.matmul_approx.generators import product_pair
from matrixbench.generators.tall import tall_coherent, tall_gaussian, tall_sparse
from matrixbench.registry import METHODS, WithInfo

RANDOMIZED = ("row_sampling", "gaussian", "countsketch", "coordinated")


def to_torch(M) -> torch.Tensor:
    if sp.issparse(M):
        M = M.tocsr()
        return torch.sparse_csr_tensor(
            torch.from_numpy(M.indptr.astype(np.int64)), torch.from_numpy(M.indices.astype(np.int64)),
            torch.from_numpy(M.data), size=M.shape,
        )
    return torch.from_numpy(np.ascontiguousarray(M))


def exact(A, B) -> np.ndarray:
    C = A.T @ B
    return C.toarray() if sp.issparse(C) else np.asarray(C)


def run(name: str, pair: dict, budget: int, **params) -> tuple[np.ndarray, dict]:
    out = METHODS[("matmul_approx", name)].fn(to_torch(pair["A"]), to_torch(pair["B"]), budget, **params)
    assert isinstance(out, WithInfo)
    return out.value.double().numpy(), dict(out.info)


def rel_error(C: np.ndarray, pair: dict) -> float:
    inputs = make_inputs(pair, budget=1)
    return score(C, exact(pair["A"], pair["B"]), inputs)["rel_error"]


def test_score_is_the_normalized_frobenius_error() -> None:
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((30, 4)), rng.standard_normal((30, 3))
    C = rng.standard_normal((4, 3))
    want = np.linalg.norm(A.T @ B - C) / (np.linalg.norm(A) * np.linalg.norm(B))
    assert rel_error(C, {"A": A, "B": B}) == pytest.approx(want, rel=1e-12)
    As, Bs = sp.csr_matrix(A), sp.csr_matrix(B)  # sparse inputs: same number
    assert rel_error(C, {"A": As, "B": Bs}) == pytest.approx(want, rel=1e-12)


def test_reference_and_exact_are_the_product() -> None:
    pair = product_pair(np.random.default_rng(1), 200, d=6, m=5, s=3)
    want = (pair["A"].toarray().T @ pair["B"].toarray())
    for name in ("reference", "exact"):
        assert np.allclose(METHODS[("matmul_approx", name)].fn(pair["A"], pair["B"], 10), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name,params", [("row_sampling", {}), ("gaussian", {}), ("countsketch", {}),
                                         ("coordinated", {"sampling": "threshold"})])
def test_unbiased(name: str, params: dict, sparse: bool) -> None:
    """The mean over 300 seeds is much closer to ``A^T B`` than one draw: for an unbiased
    estimator its error shrinks like ``1/sqrt(300)`` (about 0.06 of one draw's)."""
    pair = product_pair(np.random.default_rng(2), 300, d=4, m=3, s=2 if sparse else 0, sigma=0.5, correlation=0.5)
    budget = 40 if sparse else 80
    draws = [run(name, pair, budget, seed=seed, **params)[0] for seed in range(300)]
    single = np.mean([rel_error(C, pair) for C in draws])
    assert rel_error(np.mean(draws, axis=0), pair) < 0.2 * single


def test_row_sampling_meets_the_dkm_bound() -> None:
    """``E||A^T B - C||_F^2 <= ||A||_F^2 ||B||_F^2 / c`` (Drineas, Kannan & Mahoney 2006)."""
    pair = product_pair(np.random.default_rng(3), 2000, d=10, m=10, sigma=1.0)
    c = 50  # budget 500 values over 10 per row
    sq = [rel_error(run("row_sampling", pair, 500, seed=s)[0], pair) ** 2 for s in range(100)]
    assert np.mean(sq) <= 1.0 / c


def test_threshold_closed_form() -> None:
    """``sum_i min(1, tau q_i) nnz_i = budget`` for the tau found; all rows when they fit."""
    rng = np.random.default_rng(4)
    q = torch.from_numpy(np.exp(2 * rng.standard_normal(1000)))
    nnz = torch.from_numpy(rng.integers(1, 9, 1000))
    for budget in (10.0, 300.0, 2000.0, 4000.0):
        tau = threshold_tau(q, nnz, budget)
        size = float((torch.clamp(tau * q, max=1.0) * nnz.double()).sum())
        assert size == pytest.approx(budget, rel=1e-9)
    assert threshold_tau(q, nnz, float(nnz.sum())) == float("inf")


@pytest.mark.parametrize("sampling", ["threshold", "priority"])
def test_coordinated_is_exact_when_everything_fits(sampling: str) -> None:
    pair = product_pair(np.random.default_rng(5), 100, d=6, m=4, s=2)
    C, info = run("coordinated", pair, 10**6, seed=0, sampling=sampling)
    assert np.allclose(C, exact(pair["A"], pair["B"]), rtol=1e-12, atol=1e-12)
    assert info["stored"] == pair["A"].nnz


def test_priority_sampling_stores_the_budget() -> None:
    pair = product_pair(np.random.default_rng(6), 5000, d=50, m=50, s=5, sigma=1.0)
    _, info = run("coordinated", pair, 1000, seed=0, sampling="priority")
    assert info["stored"] == 1000  # K = 1000 / 5 rows of 5 values each


@pytest.mark.parametrize("name", RANDOMIZED)
def test_dense_and_sparse_layouts_agree(name: str) -> None:
    """One seed, one sketch: the same matrices given dense or as CSR give one C."""
    pair = product_pair(np.random.default_rng(7), 500, d=8, m=6, s=3, sigma=0.5)
    dense = {"A": pair["A"].toarray(), "B": pair["B"].toarray()}
    # Same budget in rows: the dense rows cost d values, the sparse ones s.
    Cs, _ = run(name, pair, 3 * 40 if name in ("row_sampling", "coordinated") else 8 * 40, seed=3)
    Cd, _ = run(name, dense, 8 * 40, seed=3)
    if name in ("gaussian", "countsketch"):
        assert np.allclose(Cs, Cd, rtol=1e-10, atol=1e-10)
    else:  # the row samplers see the same norms; only the budget per row differs
        assert rel_error(Cs, pair) < 1.0 and rel_error(Cd, dense) < 1.0


def test_coordinated_beats_linear_sketches_on_sparse_factors() -> None:
    """Daliri et al.: an order of magnitude at the same stored values when rows have
    ``s << d`` non-zeros; we ask for a factor 4 on a small problem (3 seeds each)."""
    pair = product_pair(np.random.default_rng(8), 20000, d=200, m=200, s=5, sigma=1.0)
    err = {name: np.mean([rel_error(run(name, pair, 20000, seed=s)[0], pair) for s in range(3)])
           for name in ("coordinated", "gaussian", "countsketch")}
    assert err["coordinated"] * 4 < min(err["gaussian"], err["countsketch"]), err


def test_stored_values_respect_the_budget() -> None:
    pair = product_pair(np.random.default_rng(9), 4000, d=40, m=30, s=0)
    for name in ("gaussian", "countsketch"):
        assert run(name, pair, 400, seed=0)[1]["stored"] == 400  # k = 400 // 40 = 10 rows x 40
    assert run("row_sampling", pair, 400, seed=0)[1]["stored"] == 400
    thr = [run("coordinated", pair, 4000, seed=s)[1]["stored"] for s in range(20)]
    assert abs(np.mean(thr) - 4000) < 0.15 * 4000  # threshold sampling: budget in expectation


# -- generators -------------------------------------------------------------------------------
def test_tall_generators() -> None:
    a, b = tall_gaussian(np.random.default_rng(0), 50, 4), tall_gaussian(np.random.default_rng(0), 50, 4)
    assert a.shape == (50, 4) and np.array_equal(a, b)
    S = tall_sparse(np.random.default_rng(1), 300, 20, s=5)
    assert sp.isspmatrix_csr(S) and np.all(np.diff(S.indptr) == 5)
    for i in range(300):  # distinct columns in every row
        assert len(set(S.indices[S.indptr[i]:S.indptr[i + 1]])) == 5
    C = tall_coherent(np.random.default_rng(2), 20000, 5, sigma=2.0)
    norms = np.linalg.norm(C, axis=1)
    # log-normal scaling: log row norms spread with standard deviation about sigma
    assert 1.8 < np.std(np.log(norms)) < 2.3
    P = product_pair(np.random.default_rng(3), 100, d=7, m=9, s=2)
    assert P["A"].shape == (100, 7) and P["B"].shape == (100, 9)
    assert np.all(np.diff(P["A"].indptr) == 2) and np.all(np.diff(P["B"].indptr) == 2)
    Q = product_pair(np.random.default_rng(3), 100, d=7, m=9, s=2)
    assert (P["A"] != Q["A"]).nnz == 0 and (P["B"] != Q["B"]).nnz == 0


# -- degenerate inputs, preconditions, budgets that do not fit -----------------------------------
def test_zero_and_orthogonal_factors_score_without_nan() -> None:
    """A zero factor: the error is absolute (``||C||_F``), the exact C = 0 scores 0. Factors
    with ``A^T B = 0`` but non-zero norms keep the usual normalization."""
    rng = np.random.default_rng(10)
    Z, B = np.zeros((40, 3)), rng.standard_normal((40, 2))
    C = rng.standard_normal((3, 2))
    assert rel_error(np.zeros((3, 2)), {"A": Z, "B": B}) == 0.0
    assert rel_error(C, {"A": Z, "B": B}) == pytest.approx(np.linalg.norm(C), rel=1e-12)
    A = np.zeros((40, 3))
    A[:20] = rng.standard_normal((20, 3))
    B = np.zeros((40, 2))
    B[20:] = rng.standard_normal((20, 2))  # disjoint row supports: A^T B = 0 exactly
    assert rel_error(np.zeros((3, 2)), {"A": A, "B": B}) == 0.0
    assert rel_error(C, {"A": A, "B": B}) == pytest.approx(np.linalg.norm(C) / (np.linalg.norm(A) * np.linalg.norm(B)))


@pytest.mark.parametrize("name,params", [("row_sampling", {}), ("gaussian", {}), ("countsketch", {}),
                                         ("coordinated", {"sampling": "threshold"}),
                                         ("coordinated", {"sampling": "priority"})])
def test_degenerate_products_are_exact(name: str, params: dict) -> None:
    """A zero factor: every method returns the exact ``A^T B = 0``. Factors whose rows never
    overlap (every ``||A_i|| ||B_i|| = 0``, DKM's probabilities 0/0): the samplers return
    the exact 0 too (they keep no common row); a linear sketch mixes rows, its estimate is
    unbiased noise around 0, finite. No failure either way."""
    rng = np.random.default_rng(11)
    A = np.zeros((60, 4))
    A[:30] = rng.standard_normal((30, 4))
    B = np.zeros((60, 3))
    B[30:] = rng.standard_normal((30, 3))
    for pair in ({"A": A, "B": B}, {"A": np.zeros((60, 4)), "B": B}):
        out = METHODS[("matmul_approx", name)].fn(to_torch(pair["A"]), to_torch(pair["B"]), 40, seed=1, **params)
        assert isinstance(out, WithInfo) and out.failure is None
        if name in ("gaussian", "countsketch") and pair["A"].any():
            assert np.all(np.isfinite(out.value.numpy()))
        else:
            assert np.array_equal(out.value.numpy(), exact(pair["A"], pair["B"]))  # zeros


@pytest.mark.parametrize("name,params", [("row_sampling", {}), ("coordinated", {"sampling": "threshold"}),
                                         ("coordinated", {"sampling": "priority"})])
def test_overflowing_row_norms_are_a_failure(name: str, params: dict) -> None:
    """float32 rows past about 1e19 square to Inf: the sampler says so instead of drawing
    from a NaN distribution (the cell is then inaccurate, with the reason)."""
    A = torch.ones(50, 3, dtype=torch.float32)
    A[7] = 1e20
    B = torch.ones(50, 2, dtype=torch.float32)
    out = METHODS[("matmul_approx", name)].fn(A, B, 20, seed=0, **params)
    assert out.failure and "overflow" in out.failure and out.value.shape == (3, 2)


def test_budgets_under_one_row_do_not_apply() -> None:
    """A sketch that cannot hold one row would run over budget: the method does not apply."""
    pair = product_pair(np.random.default_rng(12), 100, d=8, m=6, s=2)  # 2 values per row
    dense = {"A": pair["A"].toarray(), "B": pair["B"].toarray()}  # 8 and 6 values per row
    applies = {name: METHODS[("matmul_approx", name)].applies for name in RANDOMIZED}
    for name in ("gaussian", "countsketch"):  # a sketch row holds max(d, m) = 8 values
        assert "under one sketch row" in applies[name]({**dense, "budget": 7})
        assert applies[name]({**dense, "budget": 8}) is None
        assert "under one sketch row" in applies[name]({**pair, "budget": 7})  # dense S A of sparse A
    assert "under one sampled row" in applies["row_sampling"]({**dense, "budget": 7})
    assert applies["row_sampling"]({**pair, "budget": 7}) is None  # sparse rows hold 2 values
    assert "priority" in applies["coordinated"]({**dense, "budget": 7}, sampling="priority")
    assert applies["coordinated"]({**dense, "budget": 7}, sampling="threshold") is None  # any budget


def test_preconditions() -> None:
    rng = np.random.default_rng(13)
    A, B = rng.standard_normal((30, 4)), rng.standard_normal((30, 3))
    assert check_inputs(make_inputs({"A": A, "B": B}, budget=10)) is None
    assert "same number of rows" in check_inputs(make_inputs({"A": A, "B": B[:29]}, budget=10))
    bad = B.copy()
    bad[2, 1] = np.inf
    assert "B has NaN or Inf" in check_inputs(make_inputs({"A": A, "B": bad}, budget=10))
    S = sp.csr_matrix(A)
    S.data[0] = np.nan
    assert "A has NaN or Inf" in check_inputs(make_inputs({"A": S, "B": B}, budget=10))
    with pytest.raises(ValueError, match="pair"):
        make_inputs({"A": A}, budget=10)
