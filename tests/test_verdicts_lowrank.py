"""Issue 11 ("wrong answers reported ok") for lstsq, svd_topk and svd_update.

Every expected number is computed here, independently of the task code: least-squares
solutions by ``numpy.linalg.lstsq`` / ``solve`` / ``pinv`` (SVD), singular values and
optimal tails by ``numpy.linalg.svd`` of the dense matrix; the floors are rebuilt from
their documented formulas. What is checked: near-zero references (``x* = 0``, a zero
tail at ``k = rank``, zero singular values at ``k = min(m, n)``) score correct answers
at rounding level and wrong ones high; methods that can see their own breakdown say so
(``WithInfo.failure``); preconditions, applicability and output structure give reasons.
Small sizes: the file runs in a few seconds.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import implementations.lstsq  # noqa: F401  (registers the tasks and their methods)
import implementations.svd_topk  # noqa: F401
import implementations.svd_update  # noqa: F401
from implementations.lstsq import task as lstsq
from implementations.svd_topk import task as topk
from implementations.svd_update import task as update
from matrixbench.backends import split_info, to_backend, to_float64
from matrixbench.registry import METHODS, TASKS, WithInfo

U64 = 2.0**-53

warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")


def call(task: str, name: str, inputs: dict, dtype: str = "float64", **params: Any) -> tuple[Any, str | None]:
    """A registered method as the engine calls it: (float64 output, failure). ``name@numpy``
    picks a backend (default: the method's first)."""
    name, _, backend = name.partition("@")
    m = METHODS[(task, name)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = m.fn(**to_backend(inputs, backend or m.backends[0], dtype, "cpu"), **params)
    failure = out.failure if isinstance(out, WithInfo) else None
    return to_float64(split_info(out)[0]), failure


def frame(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    return np.linalg.qr(rng.standard_normal((m, n)))[0]


# --- lstsq --------------------------------------------------------------------------------

def orthogonal_rhs(m: int = 300, n: int = 12, kappa: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``A`` with singular values from 1 to 1/kappa and ``b ⟂ range(A)``: ``x* = 0``."""
    rng = np.random.default_rng(seed)
    Q = frame(rng, m, m)
    A = (Q[:, :n] * np.logspace(0, -math.log10(kappa), n)) @ frame(rng, n, n).T
    return A, Q[:, n:] @ rng.standard_normal(m - n)


def lstsq_score(x: np.ndarray, A: np.ndarray, b: np.ndarray) -> dict[str, float]:
    inputs = lstsq.make_inputs({"A": A, "b": b})
    ref = METHODS[("lstsq", "reference")].fn(**inputs)
    return lstsq.score(x, ref, inputs)


@pytest.mark.parametrize("kappa", [1.0, 1e4])
def test_lstsq_zero_solution_scores_rounding_for_right_answers_and_large_for_wrong(kappa: float) -> None:
    A, b = orthogonal_rhs(kappa=kappa)
    s = np.linalg.svd(A, compute_uv=False)
    natural = np.linalg.norm(b) / s[-1]  # ||A^+|| ||b||: the unit of x when x* = 0
    inputs = lstsq.make_inputs({"A": A, "b": b})
    assert lstsq.check_inputs(inputs) is None
    ref = METHODS[("lstsq", "reference")].fn(**inputs)
    assert np.linalg.norm(ref["x"]) <= 1e-13 * natural  # the reference's x* is rounding
    assert lstsq.score(ref, ref, inputs)["rel_error"] == 0.0
    for x in (np.linalg.lstsq(A, b, rcond=None)[0], np.linalg.pinv(A) @ b):
        assert lstsq.score(x, ref, inputs)["rel_error"] <= 1e-15 * kappa * 100
    # the floor is u ||A^+|| ||b|| / rho, rho = max(||A x*|| / ||b||, u): rebuilt here
    x = np.linalg.pinv(A) @ b
    rho = max(np.linalg.norm(A @ ref["x"]) / np.linalg.norm(b), U64)
    expected = np.linalg.norm(x - ref["x"]) / max(np.linalg.norm(ref["x"]), U64 * natural / rho)
    assert lstsq.score(x, ref, inputs)["rel_error"] == pytest.approx(expected, rel=1e-12)
    # wrong answers: 1e-6 of the natural size, and sketch-and-solve's rough fit
    wrong = 1e-6 * natural * np.random.default_rng(1).standard_normal(A.shape[1]) / np.sqrt(A.shape[1])
    assert lstsq.score(wrong, ref, inputs)["rel_error"] > 1e-7
    rough, failure = call("lstsq", "sketch_and_solve", inputs, factor=2.0)
    assert failure is None and lstsq.score(rough, ref, inputs)["rel_error"] > 1e-3


def test_lstsq_ordinary_problem_keeps_plain_relative_error() -> None:
    """rho near 1: the floor u ||A^+|| ||b|| is far below ||x*||, the metric is ||d|| / ||x*||."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((200, 10)) * np.logspace(0, 4, 10)
    b = A @ rng.standard_normal(10) + 0.01 * rng.standard_normal(200)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    x = x_star + 1e-6 * rng.standard_normal(10)
    assert lstsq_score(x, A, b)["rel_error"] == pytest.approx(
        np.linalg.norm(x - x_star) / np.linalg.norm(x_star), rel=1e-6)


@pytest.mark.parametrize("kappa", [1.0, 1e6])
def test_lstsq_square_systems(kappa: float) -> None:
    """m = n: a consistent system, also when rounding leaves ||r*|| = 1e-11 ||b|| (kappa 1e6)."""
    rng = np.random.default_rng(3)
    n = 40
    A = (frame(rng, n, n) * np.logspace(0, -math.log10(kappa), n)) @ frame(rng, n, n).T
    b = rng.standard_normal(n)
    x = np.linalg.solve(A, b)
    got = lstsq_score(x, A, b)
    assert got["residual_suboptimality"] == pytest.approx(np.linalg.norm(A @ x - b) / np.linalg.norm(b), rel=1e-6)
    assert got["residual_suboptimality"] < 1e-13 * kappa
    assert got["rel_error"] < 1e-13 * kappa
    wrong = lstsq_score(x * (1 + 1e-3), A, b)
    assert wrong["rel_error"] == pytest.approx(1e-3, rel=1e-3) and wrong["residual_suboptimality"] > 1e-4


def test_lstsq_square_breakdowns_are_flagged_or_skipped() -> None:
    rng = np.random.default_rng(4)
    A, b = rng.standard_normal((30, 30)), rng.standard_normal(30)
    inputs = lstsq.make_inputs({"A": A, "b": b})
    x_true = np.linalg.solve(A, b)
    # leverage sampling at m = n: n i.i.d. draws repeat rows; flagged, never a silent 1e15
    x, failure = call("lstsq", "leverage_sampling", inputs, factor=1.0)
    assert failure is not None and "distinct rows" in failure and np.all(np.isfinite(x))
    # the default factor asks for more rows than m: skipped with the reason
    assert "exceeds m = 30" in METHODS[("lstsq", "leverage_sampling")].applies(inputs, factor=8.0)
    assert "exceeds m = 30" in METHODS[("lstsq", "sketch_and_solve")].applies(inputs)
    # a 30-row CountSketch of 30 rows collides: sketch-and-solve and LSRN say so
    for name in ("sketch_and_solve", "lsrn"):
        x, failure = call("lstsq", name, inputs, sketch="countsketch", factor=1.0)
        assert failure is not None and "sketch" in failure
    # where they do not fail they are right (Gaussian sketch: invertible S)
    for name in ("sketch_and_solve", "lsrn", "blendenpik"):
        x, failure = call("lstsq", name, inputs, sketch="gaussian", factor=1.0)
        assert failure is None and np.linalg.norm(x - x_true) <= 1e-10 * np.linalg.norm(x_true)


def test_lstsq_lsrn_keeps_a_true_rank_deficiency_unflagged() -> None:
    rng = np.random.default_rng(5)
    A = rng.standard_normal((600, 15)) @ rng.standard_normal((15, 25))  # rank 15 < n = 25
    b = rng.standard_normal(600)
    x, failure = call("lstsq", "lsrn", {"A": A, "b": b})
    assert failure is None
    x_min = np.linalg.pinv(A) @ b
    assert np.linalg.norm(x - x_min) <= 1e-8 * np.linalg.norm(x_min)
    # ...but such a problem is not a valid lstsq problem (x* not unique)
    assert "rank-deficient" in lstsq.check_inputs({"A": A, "b": b})


def test_lstsq_scipy_lsqr_reports_its_ill_conditioning_stop() -> None:
    rng = np.random.default_rng(6)
    A = (frame(rng, 30, 30) * np.logspace(0, -10, 30)) @ frame(rng, 30, 30).T
    _, failure = call("lstsq", "scipy_lsqr", {"A": A, "b": rng.standard_normal(30)})
    assert failure is not None and "istop" in failure


def test_lstsq_check_inputs() -> None:
    rng = np.random.default_rng(7)
    A = rng.standard_normal((400, 20))
    good = {"A": A, "b": rng.standard_normal(400)}
    assert lstsq.check_inputs(good) is None
    # ill-conditioned but full rank (kappa 1e10, sketch route m > 4n): valid
    ill = (frame(rng, 400, 20) * np.logspace(0, -10, 20)) @ frame(rng, 20, 20).T
    assert lstsq.check_inputs({"A": ill, "b": good["b"]}) is None
    assert lstsq.check_inputs({"A": sp.csr_matrix(A), "b": good["b"]}) is None
    dup = A.copy()
    dup[:, 3] = dup[:, 7]
    assert "rank-deficient" in lstsq.check_inputs({"A": dup, "b": good["b"]})
    assert "rank-deficient" in lstsq.check_inputs({"A": dup[:50], "b": good["b"][:50]})  # dense route m <= 4n
    assert "zero" in lstsq.check_inputs({"A": np.zeros((40, 3)), "b": np.ones(40)})
    bad = good["b"].copy()
    bad[5] = np.nan
    assert "NaN" in lstsq.check_inputs({"A": A, "b": bad})
    assert "m >= n" in lstsq.check_inputs({"A": A[:10], "b": good["b"][:10]})


def test_lstsq_check_output() -> None:
    inputs = {"A": np.ones((8, 3)), "b": np.ones(8)}
    check = TASKS["lstsq"].check_output
    assert check(np.zeros(3), None, inputs) is None
    assert check(np.zeros((3, 1)), None, inputs) is None
    assert check({"x": np.zeros(3), "residual_norm": 0.0, "sigma_min": 1.0}, None, inputs) is None
    assert "shape (1, 3)" in check(np.zeros((1, 3)), None, inputs)
    assert "shape (4,)" in check(np.zeros(4), None, inputs)
    assert "without 'x'" in check({"y": np.zeros(3)}, None, inputs)


# --- svd_topk -----------------------------------------------------------------------------

def low_rank(m: int, n: int, r: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, r)) @ rng.standard_normal((r, n))


def numpy_answer(A: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return U[:, :k], s[:k], Vt[:k].T


def topk_score(answer: Any, A: Any, k: int) -> dict[str, float]:
    inputs = topk.make_inputs(A, k=k)
    ref = METHODS[("svd_topk", "reference")].fn(**inputs)
    assert topk.check_output(answer, ref, inputs) is None
    return topk.score(answer, ref, inputs)


@pytest.mark.parametrize("shape", [(70, 40), (40, 70)])
def test_topk_zero_tail_exact_answer_scores_order_one(shape: tuple[int, int]) -> None:
    m, n = shape
    A = low_rank(m, n, 6, seed=8)
    s_all = np.linalg.svd(A, compute_uv=False)
    floor = 10.0 * math.sqrt(min(m, n)) * U64 * np.linalg.norm(A)
    for k in (6, min(m, n)):
        U, s, V = numpy_answer(A, k)
        got = topk_score((U, s, V), A, k)
        tail = np.sqrt(np.sum(s_all[k:] ** 2))
        # the numerator is itself rounding here: another evaluation order agrees to ~1e-3
        assert got["optimality_ratio"] == pytest.approx(
            np.linalg.norm(A - (U * s) @ V.T) / math.hypot(tail, floor), rel=1e-2)
        assert got["optimality_ratio"] <= 1.0
        assert got["sv_error"] <= 1.0 and got["angle_u"] < 1e-6 and got["angle_v"] < 1e-6
        # a wrong answer: 1e-8 s_1 off in one value, and a rotated U
        bad = s.copy()
        bad[2] += 1e-8 * s[0]
        assert topk_score((U, bad, V), A, k)["optimality_ratio"] > 1e4
        R = np.linalg.qr(U + 1e-6 * np.random.default_rng(9).standard_normal(U.shape))[0]
        assert topk_score((R, s, V), A, k)["optimality_ratio"] > 1e4
    # k = min(m, n): values beyond the rank are 0; 1e-10 s_1 off there is far outside rounding
    k = min(m, n)
    U, s, V = numpy_answer(A, k)
    off = s.copy()
    off[-1] = 1e-10 * s[0]
    assert topk_score((U, off, V), A, k)["sv_error"] > 1e3


def test_topk_sparse_zero_tail() -> None:
    """Identity route and ARPACK tail: floor sqrt(eps_A) ||A||_F; right <= 1, wrong >> 1."""
    X = sp.random(150, 4, density=0.5, random_state=10)
    Y = sp.random(4, 80, density=0.3, random_state=11)
    S = sp.csr_matrix(X @ Y)
    S.sum_duplicates()
    S.sort_indices()
    U, s, V = numpy_answer(S.toarray(), 4)
    assert topk_score((U, s, V), S, 4)["optimality_ratio"] <= 1.0
    bad = s * (1 + 1e-4)
    assert topk_score((U, bad, V), S, 4)["optimality_ratio"] > 1e2


@pytest.mark.parametrize("name", ["lanczos@torch", "lanczos@numpy"])
@pytest.mark.parametrize("case", ["tall", "wide", "tall_deficient", "wide_deficient", "sparse_deficient",
                                  "zero_columns"])
def test_topk_lanczos_at_full_rank_k_is_right_or_flags(name: str, case: str) -> None:
    rng = np.random.default_rng(12)
    A: Any = {
        "tall": lambda: rng.standard_normal((60, 35)),
        "wide": lambda: rng.standard_normal((35, 60)),  # lost one value before the fix
        "tall_deficient": lambda: low_rank(60, 35, 7, seed=13),
        "wide_deficient": lambda: low_rank(35, 60, 7, seed=14),
        "sparse_deficient": lambda: sp.csr_matrix(low_rank(60, 35, 5, seed=15) * (rng.random((60, 35)) < 0.5)),
        # [B, 0]: once Q holds row(A), A q is a tiny vector inside span(P); U lost orthogonality
        "zero_columns": lambda: np.hstack([rng.standard_normal((30, 5)), np.zeros((30, 15))]),
    }[case]()
    k = min(A.shape)
    out, failure = call("svd_topk", name, {"A": A, "k": k})
    dense = A.toarray() if sp.issparse(A) else A
    s_true = np.linalg.svd(dense, compute_uv=False)
    if failure is None:
        U, s, V = topk.factors(out)
        assert np.max(np.abs(s - s_true)) <= 1e-12 * s_true[0]
        assert np.linalg.norm(dense - (U * s) @ V.T) <= 1e-12 * np.linalg.norm(dense)
        assert np.linalg.norm(U.T @ U - np.eye(k), 2) <= 1e-12 and np.linalg.norm(V.T @ V - np.eye(k), 2) <= 1e-12


def test_topk_lanczos_reports_non_convergence() -> None:
    A = np.diag(1.0 + 1e-3 * np.arange(80)[::-1])  # clustered: no convergence in one cycle
    _, failure = call("svd_topk", "lanczos", {"A": A, "k": 5}, ncv=8, max_restarts=0, tol=1e-14)
    assert failure is not None and "not converged" in failure


def test_topk_applies_and_check_inputs() -> None:
    A = np.ones((30, 20))
    full = {"A": A, "k": 20}
    for name in ("randomized_svd", "torch_svd_lowrank", "sklearn_randomized_svd"):
        assert "k + p = 20 + 10 exceeds min(m, n) = 20" in METHODS[("svd_topk", name)].applies(full)
        assert METHODS[("svd_topk", name)].applies({"A": A, "k": 10}, p=10) is None
    assert "exceeds" in METHODS[("svd_topk", "block_krylov")].applies({"A": A, "k": 15}, p=10)
    assert METHODS[("svd_topk", "block_krylov")].applies(full) is None  # p = 0 by default
    for name in ("svds_arpack", "svds_lobpcg"):
        assert "k < min(m, n)" in METHODS[("svd_topk", name)].applies(full)
        assert METHODS[("svd_topk", name)].applies({"A": A, "k": 19}) is None
    assert "ncv" in METHODS[("svd_topk", "svds_arpack")].applies({"A": A, "k": 5}, ncv=25)
    assert "ncv = 4 must exceed k = 5" in METHODS[("svd_topk", "lanczos")].applies({"A": A, "k": 5}, ncv=4)
    assert topk.check_inputs({"A": A, "k": 20}) is None
    assert "1..min(m, n) = 20" in topk.check_inputs(topk.make_inputs(A, k=21))
    assert "1..min(m, n) = 20" in topk.check_inputs(topk.make_inputs(A, k=0))
    assert "NaN" in topk.check_inputs({"A": np.full((3, 3), np.nan), "k": 1})


def test_topk_check_output() -> None:
    A = low_rank(12, 8, 3, seed=16)
    inputs = {"A": A, "k": 3}
    U, s, V = numpy_answer(A, 3)
    check = TASKS["svd_topk"].check_output
    assert check((U, s, V), None, inputs) is None
    assert check({"U": U, "s": s, "V": V, "tail": 0.0}, None, inputs) is None
    assert "U (3, 12)" in check((U.T, s, V), None, inputs)
    assert "s (3, 1)" in check((U, s[:, None], V), None, inputs)
    assert "descending" in check((U[:, ::-1], s[::-1], V[:, ::-1]), None, inputs)
    assert "expected (U, s, V)" in check((U, s), None, inputs)


# --- svd_update ---------------------------------------------------------------------------

def test_update_zero_tail_scores_order_one_and_drift_one() -> None:
    """[A; E] of rank k (E's rows in row(A)): the exact rank-k SVD after every step."""
    rng = np.random.default_rng(17)
    k = 5
    Y = rng.standard_normal((k, 30))
    A = rng.standard_normal((50, k)) @ Y
    blocks = [rng.standard_normal((4, k)) @ Y for _ in range(3)]
    inputs = update.make_inputs({"A": A, "updates": blocks}, k=k, record="all")
    assert update.check_inputs(inputs) is None
    ref = METHODS[("svd_update", "reference")].fn(**inputs)
    exact = [numpy_answer(np.vstack([A, *blocks[:t]]), k) for t in (1, 2, 3)]
    assert update.check_output(exact, ref, inputs) is None
    got = update.score(exact, ref, inputs)
    assert got["optimality_ratio"] <= 1.0 and got["ratio_max"] <= 1.0 and got["drift"] == 1.0
    out, _ = call("svd_update", "zha_simon", inputs)
    got = update.score(out, ref, inputs)
    assert got["optimality_ratio"] <= 1.0 and got["drift"] == 1.0 and got["sv_error"] <= 1.0
    U, s, V = exact[-1]
    wrong = exact[:2] + [(U, s * (1 + 1e-9), V)]
    got = update.score(wrong, ref, inputs)
    assert got["optimality_ratio"] > 1e3 and got["drift"] > 1e3


def test_update_checks() -> None:
    rng = np.random.default_rng(18)
    A = rng.standard_normal((20, 8))
    inputs = update.make_inputs({"A": A, "updates": [rng.standard_normal((3, 8))] * 2}, k=3)
    ref = METHODS[("svd_update", "reference")].fn(**inputs)
    good = [numpy_answer(np.vstack([A, *inputs["updates"][:t]]), 3) for t in (1, 2)]
    check = TASKS["svd_update"].check_output
    assert check(good, ref, inputs) is None
    assert "expected one per recorded step" in check(good[:1], ref, inputs)
    assert "step 2 shapes" in check([good[0], good[0]], ref, inputs)  # step 2 has 26 rows, not 23
    assert "list of (U, s, V)" in check(good[0][0], ref, inputs)
    # k beyond min(m, n) of A: invalid with the k asked for, no SVD computed
    assert "k = 9 must be in 1..min(m, n) = 8" in update.check_inputs(
        update.make_inputs({"A": A, "updates": [rng.standard_normal((3, 8))]}, k=9))
    assert "needs (r, 8)" in update.check_inputs({**inputs, "updates": [rng.standard_normal((3, 7))]})
    assert "k + p = 3 + 10 exceeds min(m, n) = 8" in METHODS[("svd_update", "recompute_randomized")].applies(inputs)
    assert METHODS[("svd_update", "recompute_randomized")].applies(inputs, p=4) is None
