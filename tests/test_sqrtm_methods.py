"""Numbers of the sqrtm task and its methods, against independent computations.

Test matrices have a known eigendecomposition ``A = Q diag(l) Q^T`` (Q orthogonal from
the QR of a Gaussian matrix), so ``A^{1/2} = Q diag(sqrt(l)) Q^T`` in closed form, and
a polynomial or rational approximant of ``A`` is the scalar one applied to ``l``.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb
from typing import Any

import numpy as np
import pytest
import scipy.interpolate
import scipy.special
import torch
from torch.utils.flop_counter import FlopCounterMode

import implementations.sqrtm  # noqa: F401  (registers the task and its methods)
from implementations.sqrtm.pade import pade_coefficients, pade_degrees
from implementations.sqrtm.taylor import taylor_coefficients
from matrixbench.registry import METHODS, TASKS

TASK = TASKS["sqrtm"]
TORCH_METHODS = ("newton_schulz", "denman_beavers", "mtp", "mpa")


def spd(n: int, batch: int, cond: float, scales: tuple[float, ...] | None = None, seed: int = 0):
    """SPD batch with geometric spectrum in [s/cond, s]: returns A, Q, l (l has shape (batch, n))."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((batch, n, n)))
    s = np.asarray(scales if scales is not None else [3.0] * batch)[:, None]
    l = s * np.geomspace(1.0 / cond, 1.0, n)[None, :]
    A = (Q * l[:, None, :]) @ Q.transpose(0, 2, 1)
    return 0.5 * (A + A.transpose(0, 2, 1)), Q, l


def fn_of(Q: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Q diag(f) Q^T, batched."""
    return (Q * f[:, None, :]) @ Q.transpose(0, 2, 1)


def call(name: str, A: np.ndarray, dtype: str = "float64", **kwargs: Any) -> np.ndarray:
    """Run a registered method as the engine would: input cast to the cell's dtype and backend."""
    m = METHODS[("sqrtm", name)]
    if m.backends == ("torch",):
        out = m.fn(torch.from_numpy(A).to(getattr(torch, dtype)), **kwargs)
        assert isinstance(out, torch.Tensor) and out.dtype == getattr(torch, dtype)
        return out.double().numpy()
    out = m.fn(A.astype(dtype), **kwargs)
    assert out.dtype == np.dtype(dtype)
    return out.astype(np.float64)


def fro_rel(X: np.ndarray, Y: np.ndarray) -> float:
    return float(np.max(np.linalg.norm(X - Y, axis=(-2, -1)) / np.linalg.norm(Y, axis=(-2, -1))))


# --- the task: inputs and metrics -----------------------------------------------------


def test_registration() -> None:
    assert TASK.reference == "reference"
    assert TASK.params["inverse"].default is False
    assert {m.name for m in TASK.metrics} == {"rel_error", "residual"}
    assert all(m.direction == "lower" for m in TASK.metrics)
    kinds = {name: METHODS[("sqrtm", name)].kind for name in ("reference", "scipy_sqrtm", *TORCH_METHODS)}
    assert kinds == {
        "reference": "reference",
        "scipy_sqrtm": "baseline",
        **{name: "optimized" for name in TORCH_METHODS},
    }
    for name in TORCH_METHODS:
        m = METHODS[("sqrtm", name)]
        assert m.backends == ("torch",) and set(m.devices) == {"cpu", "cuda"}


def test_make_inputs_batches_and_symmetrizes_only_when_asked() -> None:
    M = np.arange(9.0).reshape(3, 3)
    inputs = TASK.make_inputs(M, inverse=True)
    assert set(inputs) == {"A", "inverse"} and inputs["inverse"] is True
    assert inputs["A"].shape == (1, 3, 3)
    np.testing.assert_array_equal(inputs["A"][0], M)  # never repaired silently
    assert "not symmetric" in TASK.check_inputs(inputs)
    sym = TASK.make_inputs(M, symmetrize=True)
    assert set(sym) == {"A", "inverse"}  # the task parameter is not a method argument
    np.testing.assert_array_equal(sym["A"][0], [[0, 2, 4], [2, 4, 6], [4, 6, 8]])
    batch = np.random.default_rng(1).standard_normal((4, 5, 5))
    A = TASK.make_inputs(batch, symmetrize=True)["A"]
    assert A.shape == (4, 5, 5) and A.dtype == np.float64
    np.testing.assert_array_equal(A, A.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="square"):
        TASK.make_inputs(np.zeros((3, 4)))


@pytest.mark.parametrize("inverse", [False, True])
def test_metrics_against_hand_computation(inverse: bool) -> None:
    A, Q, l = spd(8, 3, 10.0)
    X_ref = fn_of(Q, l ** (-0.5 if inverse else 0.5))
    d = 1e-3
    X = X_ref.copy()
    X[1] *= 1 + d  # only the middle matrix is off: the max over the batch picks it
    s = TASK.score(X, X_ref, {"A": A, "inverse": inverse})
    assert s["rel_error"] == pytest.approx(d, rel=1e-9)
    # (1+d) X gives X X = (1+d)^2 A, and X A X = (1+d)^2 I whose distance to I, over
    # ||I||_F = sqrt(n), is (1+d)^2 - 1: the same relative residual either way.
    assert s["residual"] == pytest.approx((1 + d) ** 2 - 1, rel=1e-9)
    exact = TASK.score(X_ref, X_ref, {"A": A, "inverse": inverse})
    assert exact["rel_error"] == 0.0 and exact["residual"] < 1e-14


def test_inverse_residual_normalisation() -> None:
    # X = I, A = 4 I (n = 4): X A X - I = 3 I, ||3 I||_F / sqrt(4) = 3.
    A = 4.0 * np.eye(4)[None]
    s = TASK.score(np.eye(4)[None], 0.5 * np.eye(4)[None], {"A": A, "inverse": True})
    assert s["residual"] == pytest.approx(3.0)
    assert s["rel_error"] == pytest.approx(1.0)  # ||I - I/2|| / ||I/2||


def test_score_rejects_shape_mismatch() -> None:
    A, Q, l = spd(6, 2, 10.0)
    with pytest.raises(ValueError, match=r"shape \(1, 6, 6\).*\(2, 6, 6\)"):
        TASK.score(np.zeros((1, 6, 6)), fn_of(Q, np.sqrt(l)), {"A": A, "inverse": False})


# --- exact methods and iterations: float64, well conditioned, to 1e-10 ----------------

EXACT_SETTINGS = [
    ("reference", {}),
    ("scipy_sqrtm", {}),
    ("newton_schulz", {"iters": 30}),
    ("denman_beavers", {"iters": 20, "scaling": "determinant"}),
    ("denman_beavers", {"iters": 20, "scaling": "none"}),
]


@pytest.mark.parametrize("name,params", EXACT_SETTINGS, ids=lambda v: str(v))
@pytest.mark.parametrize("n,batch", [(16, 1), (64, 3)])
@pytest.mark.parametrize("inverse", [False, True], ids=["sqrt", "invsqrt"])
def test_converges_on_well_conditioned(name: str, params: dict, n: int, batch: int, inverse: bool) -> None:
    # Different scales per matrix: the normalisation (||A||_F, mu_k) must be per matrix.
    A, Q, l = spd(n, batch, 1e3, scales=(3.0, 0.01, 100.0)[:batch], seed=n + batch)
    X = call(name, A, inverse=inverse, **params)
    if inverse:
        assert fro_rel(X, fn_of(Q, l**-0.5)) < 1e-10
        assert np.max(np.linalg.norm(X @ A @ X - np.eye(n), axis=(-2, -1))) / np.sqrt(n) < 1e-10
    else:
        assert fro_rel(X, fn_of(Q, l**0.5)) < 1e-10
        assert fro_rel(X @ X, A) < 1e-10
    s = TASK.score(X, call("reference", A, inverse=inverse), {"A": A, "inverse": inverse})
    assert s["rel_error"] < 1e-10 and s["residual"] < 1e-10


def test_determinant_scaling_needs_fewer_steps() -> None:
    A, Q, l = spd(32, 2, 1e6)
    X_true = fn_of(Q, np.sqrt(l))
    assert fro_rel(call("denman_beavers", A, iters=8, scaling="determinant"), X_true) < 1e-12
    assert fro_rel(call("denman_beavers", A, iters=8, scaling="none"), X_true) > 1e-3


def test_batched_equals_one_by_one() -> None:
    A, _, _ = spd(16, 3, 1e2, scales=(1.0, 10.0, 0.1))
    for name in ("scipy_sqrtm", *TORCH_METHODS):
        together = call(name, A)
        apart = np.concatenate([call(name, A[i : i + 1]) for i in range(3)])
        np.testing.assert_allclose(together, apart, rtol=1e-12, atol=1e-14)


# --- MTP and MPA: exact polynomial / rational functions of A ---------------------------


def taylor_scalar(z: np.ndarray, K: int, inverse: bool) -> np.ndarray:
    e = -0.5 if inverse else 0.5
    return sum(scipy.special.binom(e, k) * (-z) ** k for k in range(K + 1))


def pade_scalar(z: np.ndarray, m: int) -> np.ndarray:
    """[m/m] Pade approximant of sqrt(1-z) in closed form: s ((1+s)^N + (1-s)^N) / ((1+s)^N - (1-s)^N)."""
    s, N = np.sqrt(1 - z), 2 * m + 1
    return s * ((1 + s) ** N + (1 - s) ** N) / ((1 + s) ** N - (1 - s) ** N)


@pytest.mark.parametrize("inverse", [False, True], ids=["sqrt", "invsqrt"])
@pytest.mark.parametrize("K", [1, 2, 7, 10, 20])
def test_mtp_is_the_taylor_polynomial_of_A(K: int, inverse: bool) -> None:
    A, Q, l = spd(24, 3, 1e3, scales=(3.0, 0.01, 100.0))
    c = np.linalg.norm(A, axis=(-2, -1))[:, None]
    f = taylor_scalar(1 - l / c, K, inverse) * c ** (-0.5 if inverse else 0.5)
    assert fro_rel(call("mtp", A, inverse=inverse, degree=K), fn_of(Q, f)) < 1e-12


@pytest.mark.parametrize("inverse", [False, True], ids=["sqrt", "invsqrt"])
@pytest.mark.parametrize("K", [2, 4, 8, 10])
def test_mpa_is_the_pade_approximant_of_A(K: int, inverse: bool) -> None:
    A, Q, l = spd(24, 3, 1e3, scales=(3.0, 0.01, 100.0))
    c = np.linalg.norm(A, axis=(-2, -1))[:, None]
    r = pade_scalar(1 - l / c, K // 2)
    f = (1 / r) * c**-0.5 if inverse else r * c**0.5
    assert fro_rel(call("mpa", A, inverse=inverse, degree=K), fn_of(Q, f)) < 1e-11


def test_pade_coefficients() -> None:
    for m, n in [(1, 1), (2, 2), (5, 5), (3, 2), (4, 3)]:  # where scipy's float solve is exact enough
        p, q = pade_coefficients(m, n)
        taylor = [scipy.special.binom(0.5, k) * (-1) ** k for k in range(m + n + 1)]
        # scipy.interpolate.pade(an, m, n) takes the *denominator* order first.
        p_ref, q_ref = scipy.interpolate.pade(taylor, n, m)
        np.testing.assert_allclose(p, p_ref.coeffs[::-1], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(q, q_ref.coeffs[::-1], rtol=1e-10, atol=1e-14)
    assert pade_degrees(10) == (5, 5) and pade_degrees(7) == (4, 3)
    # High degree, where a floating-point Pade solve fails: the closed form for m = n in
    # powers of x = 1 - z is sum_i C(N, 2i) x^i / sum_i C(N, 2i+1) x^i (N = 2m + 1), scaled
    # by 2^(N-1) = sum_i C(N, 2i+1) so that q_0 = 1; expand x^i = (1 - z)^i exactly.
    for m in (8, 12, 16):
        N = 2 * m + 1
        for coeffs, offset in zip(pade_coefficients(m, m), (0, 1)):
            sums = [sum(comb(N, 2 * i + offset) * comb(i, k) for i in range(m + 1)) for k in range(m + 1)]
            exact = [(-1) ** k * Fraction(sums[k], 2 ** (N - 1)) for k in range(m + 1)]
            np.testing.assert_allclose(coeffs, [float(e) for e in exact], rtol=1e-15, atol=0)


def test_taylor_coefficients() -> None:
    k = np.arange(12)
    np.testing.assert_allclose(taylor_coefficients(11), scipy.special.binom(0.5, k) * (-1.0) ** k, rtol=1e-14)
    np.testing.assert_allclose(
        taylor_coefficients(11, inverse=True), scipy.special.binom(-0.5, k) * (-1.0) ** k, rtol=1e-14
    )


@pytest.mark.parametrize("inverse", [False, True], ids=["sqrt", "invsqrt"])
@pytest.mark.parametrize("cond", [1e1, 1e3])
def test_truncations_improve_with_degree_and_mpa_beats_mtp(cond: float, inverse: bool) -> None:
    A, Q, l = spd(32, 3, cond, seed=5)
    X_true = fn_of(Q, l ** (-0.5 if inverse else 0.5))
    degrees = (2, 4, 8, 10, 16)
    mtp = [fro_rel(call("mtp", A, inverse=inverse, degree=K), X_true) for K in degrees]
    mpa = [fro_rel(call("mpa", A, inverse=inverse, degree=K), X_true) for K in degrees]
    assert all(b < a for a, b in zip(mtp, mtp[1:])), mtp
    assert all(b < a for a, b in zip(mpa, mpa[1:])), mpa
    assert all(p < t for p, t in zip(mpa, mtp)), (mpa, mtp)  # Song et al.'s claim, at equal K


# --- float32 ------------------------------------------------------------------------


@pytest.mark.parametrize("inverse", [False, True], ids=["sqrt", "invsqrt"])
@pytest.mark.parametrize(
    "name,params",
    [("newton_schulz", {"iters": 30}), ("denman_beavers", {"iters": 12}), ("mtp", {}), ("mpa", {})],
    ids=lambda v: str(v),
)
def test_float32_runs_in_float32(name: str, params: dict, inverse: bool) -> None:
    A, Q, l = spd(32, 3, 1e2, seed=7)
    X32 = call(name, A, dtype="float32", inverse=inverse, **params)  # asserts the dtype
    assert np.all(np.isfinite(X32))
    if name in ("mtp", "mpa"):  # approximations: float32 must reproduce the float64 result
        assert fro_rel(X32, call(name, A, inverse=inverse, **params)) < 1e-4
    else:
        assert fro_rel(X32, fn_of(Q, l ** (-0.5 if inverse else 0.5))) < 1e-4


@pytest.mark.parametrize("name", ["reference", "scipy_sqrtm"])
def test_float32_numpy(name: str) -> None:
    A, Q, l = spd(16, 2, 1e2)
    assert fro_rel(call(name, A, dtype="float32"), fn_of(Q, np.sqrt(l))) < 1e-4


# --- FLOP models --------------------------------------------------------------------


def test_flops_against_hand_counts() -> None:
    """n = 10: n^3 = 1000; an LU is 2/3 n^3, a solve with n right-hand sides 2 n^3."""
    batch, n = 3, 10
    lu, solve = 2_000 / 3, 2_000
    inputs = {"A": np.zeros((batch, n, n)), "inverse": False}
    inv_inputs = {**inputs, "inverse": True}
    flops = {name: METHODS[("sqrtm", name)].flops for name in ("reference", "scipy_sqrtm", *TORCH_METHODS)}
    assert flops["reference"](inputs) == pytest.approx(3 * (9_000 + 2_000))
    assert flops["scipy_sqrtm"](inputs) == pytest.approx(3 * (25_000 + 1_000 / 3 + 3_000))
    assert flops["scipy_sqrtm"](inv_inputs) == pytest.approx(3 * (25_000 + 1_000 / 3 + 3_000 + lu + solve))
    assert flops["newton_schulz"](inputs, iters=7) == pytest.approx(3 * 7 * 3 * 2_000)
    assert flops["denman_beavers"](inputs, iters=5, scaling="none") == pytest.approx(3 * 5 * 2 * (lu + solve))
    assert flops["mtp"](inputs, degree=10) == pytest.approx(3 * 9 * 2_000)
    assert flops["mpa"](inputs, degree=10) == pytest.approx(3 * (4 * 2_000 + lu + solve))
    assert flops["mpa"](inputs, degree=7) == pytest.approx(3 * (3 * 2_000 + lu + solve))


@pytest.mark.parametrize(
    "name,params,solves",
    [("newton_schulz", {"iters": 4}, False), ("mtp", {"degree": 6}, False), ("mpa", {"degree": 9}, True)],
)
def test_flop_models_count_the_products_torch_does(name: str, params: dict, solves: bool) -> None:
    """torch's own FLOP counter sees the matrix products (not the solves) of each method."""
    A, _, _ = spd(12, 2, 10.0)
    with FlopCounterMode(display=False) as counter:
        METHODS[("sqrtm", name)].fn(torch.from_numpy(A), **params)
    model = METHODS[("sqrtm", name)].flops({"A": A, "inverse": False}, **params)
    solve = 2 * (2 * 12**3 / 3 + 2 * 12**3) if solves else 0.0
    assert counter.get_total_flops() == pytest.approx(model - solve)
