"""Issue 11, "wrong answers reported ok", for sqrtm, inv_root and polar: preconditions
(``check_inputs``) instead of silent repairs, metrics that stay meaningful at the zero
matrix, and methods that declare (``applies``) the inputs they do not take.

Expected figures come from the test's own constructions (``Q diag(l) Q^T`` with chosen
eigenvalues, norms computed here), never from the code under test.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from matrixbench.discovery import load_plugins
from matrixbench.registry import GENERATORS, METHODS, TASKS, methods_of

load_plugins()

SUITES = Path(__file__).resolve().parent.parent / "suites"
SHIPPED = ("sqrtm", "inv_root", "polar", "default", "ci")
SPD_TASKS = ("sqrtm", "inv_root")

#: Small instances of every generator the shipped suites use for sqrtm and inv_root,
#: including their hardest settings (cond 1e12, clustered spectra, alpha = 10 beta).
SMALL: dict[str, list[dict[str, Any]]] = {
    "spd": [{"n": 16, "cond": 1e6, "spectrum": s, "batch": 2} for s in ("geometric", "linear", "clustered")]
    + [{"n": 24, "cond": 1e12}],
    "gram": [{"n": 12, "batch": 4}, {"n": 16}],
    "covariance": [{"dataset": "digits"}, {"dataset": "breast_cancer"}],
    "lehmer": [{"n": 32}],
    "tridiagonal": [{"n": 32, "alpha": 1e-3, "beta": 1e-4}, {"n": 32, "alpha": 100.0, "beta": 10.0},
                    {"n": 16, "alpha": 1e-2, "beta": 1e-3, "batch": 2}],
    "grad_stats": [{"n": 32, "d": 8, "steps": 8, "rank": 4, "noise": 0.1}],
}
TASK_PARAMS: dict[str, list[dict[str, Any]]] = {
    "sqrtm": [{"inverse": False}, {"inverse": True}],
    "inv_root": [{"p": 4, "eps": 0.0}, {"p": 2, "eps": 1e-6}],
}
NUMBER = r"([-+]?[0-9.]+(?:e[-+]?[0-9]+)?)"


def suite_generators(task: str) -> set[str]:
    found = set()
    for name in SHIPPED:
        for entry in yaml.safe_load((SUITES / f"{name}.yaml").read_text())["benchmarks"]:
            if entry["task"] == task:
                problems = entry["problems"] if isinstance(entry["problems"], list) else [entry["problems"]]
                found |= {p["generator"] for p in problems}
    return found


def figure(pattern: str, message: str) -> float:
    """The number after ``pattern`` in ``message``."""
    match = re.search(re.escape(pattern) + r"\s*" + NUMBER, message)
    assert match, (pattern, message)
    return float(match.group(1))


def with_spectrum(lams: np.ndarray, seed: int = 0) -> np.ndarray:
    """``Q diag(l) Q^T`` per row of ``lams`` (batch, n), exactly symmetric, Q Haar-like."""
    lams = np.atleast_2d(lams)
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(lams), lams.shape[1], lams.shape[1])))[0]
    A = (Q * lams[:, None, :]) @ Q.transpose(0, 2, 1)
    return 0.5 * (A + A.transpose(0, 2, 1))


def check(task: str, A: np.ndarray, **task_params: Any) -> str | None:
    return TASKS[task].check_inputs(TASKS[task].make_inputs(A, **task_params))


# --- check_inputs accepts what the suites generate -------------------------------------


@pytest.mark.parametrize("task", SPD_TASKS)
def test_every_suite_generator_is_covered(task: str) -> None:
    assert TASKS[task].check_inputs is not None
    assert suite_generators(task) <= set(SMALL), suite_generators(task) - set(SMALL)


@pytest.mark.parametrize("task", SPD_TASKS)
@pytest.mark.parametrize("generator", sorted(SMALL))
def test_suite_generators_are_valid(task: str, generator: str) -> None:
    for params in SMALL[generator]:
        M = GENERATORS[generator].fn(np.random.default_rng(0), **params)
        for task_params in TASK_PARAMS[task]:
            assert check(task, M, **task_params) is None, (generator, params, task_params)


# --- and rejects the rest, with the measured violation --------------------------------


@pytest.mark.parametrize("task,task_params", [("sqrtm", {}), ("sqrtm", {"inverse": True}), ("inv_root", {"eps": 0.0})])
def test_non_symmetric_is_rejected_with_its_asymmetry(task: str, task_params: dict) -> None:
    S = with_spectrum(np.tile(np.geomspace(0.1, 1.0, 6), (2, 1)))
    K = np.random.default_rng(1).standard_normal((6, 6))
    K = K - K.T
    A = S.copy()
    A[1] += 0.1 * K  # only the second matrix of the batch
    message = check(task, A, **task_params)
    want = np.linalg.norm(A[1] - A[1].T) / np.linalg.norm(A[1])
    assert message and message.startswith("A is not symmetric"), message
    assert figure("||A - A^T||_F/||A||_F =", message) == pytest.approx(want, rel=5e-3)
    assert "matrix 1 of 2" in message and "symmetrize" in message
    # the explicit repair is a task parameter, never silent
    assert check(task, A, symmetrize=True, **task_params) is None
    np.testing.assert_array_equal(TASKS[task].make_inputs(A, symmetrize=True, **task_params)["A"],
                                  0.5 * (A + A.transpose(0, 2, 1)))
    np.testing.assert_array_equal(TASKS[task].make_inputs(A, **task_params)["A"], A)


def test_symmetry_tolerance() -> None:
    S = with_spectrum(np.geomspace(0.1, 1.0, 6))
    K = np.triu(np.ones((6, 6)), 1)  # ||K - K^T||_F = sqrt(30)
    for size, ok in [(1e-14, True), (1e-10, False)]:
        A = S + size * np.linalg.norm(S) / np.sqrt(30) * K  # asymmetry about `size`
        assert (check("sqrtm", A) is None) == ok, size


def test_indefinite_is_rejected_with_its_smallest_eigenvalue() -> None:
    lam = np.array([-0.3, 0.1, 0.5, 1.0, 1.7, 2.5])  # ||A||_2 = 2.5
    A = with_spectrum(lam)
    message = check("sqrtm", A)
    assert message and message.startswith("A is not positive semidefinite"), message
    assert figure("smallest eigenvalue", message) == pytest.approx(-0.3, rel=1e-2)
    assert figure("relative to ||A||_2:", message) == pytest.approx(-0.3 / 2.5, rel=1e-2)
    assert check("sqrtm", A, inverse=True).startswith("A is not positive definite")
    # inv_root: A + eps I with eps = 0.1 has smallest eigenvalue -0.2, ||A + eps I||_2 = 2.6
    message = check("inv_root", A, eps=0.1)
    assert message and message.startswith("A + eps I is not positive definite"), message
    assert figure("smallest eigenvalue", message) == pytest.approx(-0.2, rel=1e-2)
    assert figure("relative to ||A + eps I||_2:", message) == pytest.approx(-0.2 / 2.6, rel=1e-2)
    assert check("inv_root", A, eps=0.5) is None  # the damping makes it definite


def test_rounding_level_of_singular_matrices() -> None:
    """A rank-deficient X X^T: eigenvalues 0 up to rounding, some slightly negative."""
    X = np.random.default_rng(2).standard_normal((2, 12, 5))
    A = X @ X.transpose(0, 2, 1)
    A = 0.5 * (A + A.transpose(0, 2, 1))
    lam = np.linalg.eigvalsh(A)
    assert lam[:, 0].min() < 0 and np.abs(lam[:, :7]).max() < 1e-13 * lam[:, -1].min()  # the test's premise
    assert check("sqrtm", A) is None  # positive semidefinite up to rounding
    assert "not positive definite" in check("sqrtm", A, inverse=True)
    assert "not positive definite" in check("inv_root", A, eps=0.0)
    assert check("inv_root", A, eps=1e-8) is None
    # a clearly negative eigenvalue, far above the rounding level, is not rounding
    assert "not positive semidefinite" in check("sqrtm", with_spectrum(np.r_[-1e-9, np.ones(11)]))


def test_non_finite_is_rejected() -> None:
    A = with_spectrum(np.ones(4))
    A[0, 1, 2] = np.nan
    assert check("sqrtm", A) == "A is not finite: 1 NaN or Inf entries"
    assert check("inv_root", A) == "A is not finite: 1 NaN or Inf entries"


# --- the zero matrix ----------------------------------------------------------------------


def test_zero_matrix_preconditions() -> None:
    Z = np.zeros((3, 8, 8))
    assert check("sqrtm", Z) is None  # positive semidefinite: its root is 0
    assert "zero matrix" in check("sqrtm", Z, inverse=True)
    assert "zero matrix" in check("inv_root", Z, eps=0.0)
    assert check("inv_root", Z, eps=1e-3) is None  # (0 + eps I)^{-1/p} is eps^{-1/p} I


def run_sqrtm(name: str, A: np.ndarray, dtype: str) -> np.ndarray:
    """A method as the engine runs it: the input cast to the cell's backend and dtype."""
    m = METHODS[("sqrtm", name)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that the zero matrix is singular
        if m.backends == ("torch",):
            return m.fn(torch.from_numpy(A).to(getattr(torch, dtype))).double().numpy()
        return np.asarray(m.fn(A.astype(dtype)), dtype=np.float64)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(methods_of("sqrtm")))
def test_zero_matrix_through_every_sqrtm_method(name: str, dtype: str, batch: int) -> None:
    task = TASKS["sqrtm"]
    inputs = task.make_inputs(np.zeros((batch, 8, 8)))
    reference = run_sqrtm("reference", inputs["A"], "float64")
    np.testing.assert_array_equal(reference, 0.0)  # the root of 0 is 0, exactly
    out = run_sqrtm(name, inputs["A"], dtype)
    assert np.all(np.isfinite(out))
    assert task.score(out, reference, inputs) == {"rel_error": 0.0, "residual": 0.0}


@pytest.mark.parametrize("name", sorted(methods_of("sqrtm")))
def test_zero_matrix_in_a_batch_leaves_the_others_alone(name: str) -> None:
    A = with_spectrum(np.tile(np.geomspace(0.2, 1.0, 8), (3, 1)), seed=3)
    A[1] = 0.0
    out = run_sqrtm(name, A, "float64")
    np.testing.assert_array_equal(out[1], 0.0)
    np.testing.assert_allclose(out[[0, 2]], run_sqrtm(name, A[[0, 2]], "float64"), rtol=1e-12, atol=1e-14)


def test_zero_matrix_scores_absolute_errors() -> None:
    """With a zero reference and input the errors are absolute: the exact answer 0, else its size."""
    n = 8
    inputs = TASKS["sqrtm"].make_inputs(np.zeros((1, n, n)))
    X = 1e-3 * np.eye(n)[None]
    s = TASKS["sqrtm"].score(X, np.zeros((1, n, n)), inputs)
    assert s["rel_error"] == pytest.approx(1e-3 * np.sqrt(n), rel=1e-12)  # ||X||_F
    assert s["residual"] == pytest.approx(1e-6 * np.sqrt(n), rel=1e-12)  # ||X X||_F


def test_inv_root_residual_is_relative_at_any_scale() -> None:
    """``(1 + d) X`` has ``X^{-p} = (1 + d)^{-p} B``: residual ``1 - (1 + d)^{-p}`` whatever ``||B||``."""
    d, p = 1e-4, 2
    for size in (1e-3, 1.0, 1e3):
        lam = size * np.geomspace(0.1, 1.0, 6)
        A = with_spectrum(lam, seed=4)
        Q = np.linalg.eigh(A[0])[1]
        exact = ((Q * np.linalg.eigvalsh(A[0]) ** (-1 / p)) @ Q.T)[None]
        inputs = TASKS["inv_root"].make_inputs(A, p=p, eps=0.0)
        s = TASKS["inv_root"].score((1 + d) * exact, exact, inputs)
        assert s["residual"] == pytest.approx(1 - (1 + d) ** -p, rel=1e-6), size
        assert s["rel_error"] == pytest.approx(d, rel=1e-6)


def test_inv_root_singular_output_has_infinite_residual() -> None:
    A = with_spectrum(np.tile(np.geomspace(0.1, 1.0, 5), (2, 1)))
    inputs = TASKS["inv_root"].make_inputs(A, p=2, eps=0.0)
    ref = METHODS[("inv_root", "reference")].fn(A, p=2, eps=0.0)
    out = ref.copy()
    out[1] = 0.0
    s = TASKS["inv_root"].score(out, ref, inputs)
    assert s["residual"] == np.inf and s["rel_error"] == pytest.approx(1.0)


# --- output shapes never broadcast --------------------------------------------------------


@pytest.mark.parametrize("task", ["sqrtm", "inv_root", "polar"])
def test_score_rejects_wrong_shapes(task: str) -> None:
    M = with_spectrum(np.tile(np.geomspace(0.5, 1.0, 5), (2, 1)))
    inputs = TASKS[task].make_inputs(M)
    reference = METHODS[(task, "reference")].fn(**inputs)
    for bad in (np.ones((1, 5)), np.float64(1.0), reference[0], reference[:1], reference[..., :4]):
        with pytest.raises(ValueError, match="shape"):
            TASKS[task].score(bad, reference, inputs)


# --- methods that do not apply -------------------------------------------------------------


def test_scaled_newton_applies_to_square_matrices_only() -> None:
    applies = METHODS[("polar", "newton")].applies
    polar = TASKS["polar"]
    assert applies(polar.make_inputs(np.ones((2, 5, 5))), steps=10) is None
    assert applies(polar.make_inputs(np.ones((4, 6)))) == "scaled Newton needs square matrices; got 4 x 6"
    assert applies(polar.make_inputs(np.ones((3, 7, 2)))) == "scaled Newton needs square matrices; got 7 x 2"


def test_other_methods_take_every_shape() -> None:
    """QDWH, the polynomial iterations and the SVDs work on either orientation."""
    for name, m in methods_of("polar").items():
        assert (m.applies is None) == (name != "newton"), name
    G = np.random.default_rng(5).standard_normal((1, 9, 4))
    for G in (G, G.transpose(0, 2, 1).copy()):
        out = METHODS[("polar", "qdwh")].fn(torch.from_numpy(G)).value.numpy()
        U, _, Vt = np.linalg.svd(G, full_matrices=False)
        np.testing.assert_allclose(out, U @ Vt, atol=1e-12)


def test_coupled_newton_needs_a_power_of_two() -> None:
    applies = METHODS[("inv_root", "coupled_newton")].applies
    A = with_spectrum(np.geomspace(0.1, 1.0, 4))
    for p in (2, 4, 8):
        assert applies(TASKS["inv_root"].make_inputs(A, p=p)) is None
    assert applies({"A": A, "p": 3, "eps": 0.0}) == "coupled Newton forms T^p by squaring: p must be a power of 2; got 3"
    for name in ("reference", "eigh", "warm_start"):
        assert METHODS[("inv_root", name)].applies is None
    for name, m in methods_of("sqrtm").items():
        assert m.applies is None, name
