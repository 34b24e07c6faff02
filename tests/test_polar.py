"""Numbers of the polar task, its methods and the published figures, against independent computations.

Test matrices are built as ``G = U diag(s) V^T`` from known orthonormal frames, so the
polar factor is ``U V^T`` in closed form, and an odd polynomial iteration applied to G
is the scalar polynomial applied to ``s``. The published coefficients of Polar Express
are re-derived here from their definition (greedy minimax quintics, by our own Remez
iteration), not copied from the method's module.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import implementations.polar  # noqa: F401  (registers the task and its methods)
from implementations.polar import newton_schulz, polar_express, qdwh
from matrixbench.registry import METHODS, TASKS, WithInfo

TASK = TASKS["polar"]
POLYNOMIAL = ("newton_schulz_cubic", "newton_schulz_quintic", "polar_express")
TORCH_METHODS = (*POLYNOMIAL, "newton", "qdwh", "torch_svd")
EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "bfloat16": 2.0**-7}


def frames(m: int, n: int, batch: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal U (batch, m, k) and V (batch, n, k), k = min(m, n), from QR of Gaussians."""
    rng = np.random.default_rng(seed)
    k = min(m, n)
    U = np.linalg.qr(rng.standard_normal((batch, m, k)))[0]
    V = np.linalg.qr(rng.standard_normal((batch, n, k)))[0]
    return U, V


def compose(U: np.ndarray, s: np.ndarray, V: np.ndarray) -> np.ndarray:
    """U diag(s) V^T, batched; s has shape (batch, k) or (k,)."""
    s = np.broadcast_to(s, U.shape[:1] + U.shape[-1:])
    return (U * s[:, None, :]) @ V.transpose(0, 2, 1)


def call(name: str, G: np.ndarray, dtype: str = "float64", **params: Any) -> np.ndarray:
    """Run a registered method as the engine would: input cast to the cell's dtype."""
    m = METHODS[("polar", name)]
    if m.backends == ("torch",):
        out = m.fn(torch.from_numpy(G).to(getattr(torch, dtype)), **params)
        if isinstance(out, WithInfo):
            out = out.value
        assert out.dtype == getattr(torch, dtype) and tuple(out.shape) == G.shape
        return out.double().numpy()
    out = m.fn(G.astype(dtype), **params)
    assert out.dtype == np.dtype(dtype)
    return out.astype(np.float64)


def rel(X: np.ndarray, Y: np.ndarray) -> float:
    return float(np.max(np.linalg.norm(X - Y, axis=(-2, -1)) / np.linalg.norm(Y, axis=(-2, -1))))


def iterate(maps: list[Callable[[np.ndarray], np.ndarray]], s: np.ndarray) -> np.ndarray:
    for p in maps:
        s = p(s)
    return s


def quintic(a: float, b: float, c: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda s: a * s + b * s**3 + c * s**5


def cubic(s: np.ndarray) -> np.ndarray:
    return 1.5 * s - 0.5 * s**3


MUON = quintic(3.4445, -4.7750, 2.0315)  # Jordan et al. 2024, written out here
GRID = np.geomspace(1e-3, 1.0, 200_001)  # singular values in [1e-3, 1], dense


# --- the task: inputs and metrics -----------------------------------------------------


def test_registration() -> None:
    assert {m.name: m.direction for m in TASK.metrics} == {
        "rel_error": "lower", "orthogonality": "lower", "s_min": "higher", "s_max": "lower"}
    kinds = {name: METHODS[("polar", name)].kind for name in ("reference", *TORCH_METHODS)}
    assert kinds == {"reference": "reference", "torch_svd": "baseline",
                     **{n: "optimized" for n in TORCH_METHODS if n != "torch_svd"}}
    for name in TORCH_METHODS:
        m = METHODS[("polar", name)]
        assert m.backends == ("torch",) and set(m.devices) == {"cpu", "cuda"} and m.flops is not None
    for name in POLYNOMIAL:  # the methods meant for bfloat16 (Muon runs them in it)
        assert "bfloat16" in METHODS[("polar", name)].dtypes
    for name in ("newton", "qdwh", "torch_svd"):  # no 16-bit inverse, QR or SVD in torch
        assert set(METHODS[("polar", name)].dtypes) == {"float32", "float64"}


def test_make_inputs() -> None:
    assert TASK.make_inputs(np.ones((3, 5)))["G"].shape == (1, 3, 5)
    assert TASK.make_inputs(np.ones((2, 5, 3)))["G"].shape == (2, 5, 3)
    with pytest.raises(ValueError, match="matrices"):
        TASK.make_inputs(np.ones(4))


@pytest.mark.parametrize("shape", [(6, 9), (9, 6)])
def test_metrics_against_hand_computation(shape: tuple[int, int]) -> None:
    U, V = frames(*shape, batch=2)
    Q_ref = compose(U, np.ones(6), V)
    d = np.array([[1.0] * 6, [0.5, 0.9, 1.0, 1.0, 1.1, 1.3]])  # the second matrix is off
    Q = compose(U, d, V)
    s = TASK.score(Q, Q_ref, {"G": Q_ref})
    # ||U diag(d - 1) V^T||_F / ||U V^T||_F = ||d - 1|| / sqrt(6);
    # ||Q^T Q - I||_F / sqrt(6) = RMS of d^2 - 1; the spectrum of Q is d.
    assert s["rel_error"] == pytest.approx(np.linalg.norm(d[1] - 1) / np.sqrt(6), rel=1e-12)
    assert s["orthogonality"] == pytest.approx(np.sqrt(np.mean((d[1] ** 2 - 1) ** 2)), rel=1e-12)
    assert s["s_min"] == pytest.approx(0.5, rel=1e-12) and s["s_max"] == pytest.approx(1.3, rel=1e-12)
    exact = TASK.score(Q_ref, Q_ref, {"G": Q_ref})
    assert exact["rel_error"] == 0.0 and exact["orthogonality"] < 1e-14
    with pytest.raises(ValueError, match="shape"):
        TASK.score(Q[:1], Q_ref, {"G": Q_ref})


@pytest.mark.parametrize("shape", [(40, 25), (25, 40), (30, 30)])
def test_reference_is_the_polar_factor(shape: tuple[int, int]) -> None:
    U, V = frames(*shape, batch=2, seed=1)
    G = compose(U, np.geomspace(1e-4, 3.0, min(shape)), V)
    Q = call("reference", G)
    np.testing.assert_allclose(Q, compose(U, np.ones(min(shape)), V), atol=1e-11)


# --- accuracy of each method against the closed form ------------------------------------


CONVERGENT = [("newton_schulz_cubic", {"steps": 40}), ("polar_express", {"steps": 8}),
              ("qdwh", {}), ("torch_svd", {})]


@pytest.mark.parametrize("name,params", CONVERGENT + [("newton", {})])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-11), ("float32", 2e-4)])
def test_convergent_methods_reach_the_polar_factor(name: str, params: dict, dtype: str, tol: float) -> None:
    shapes = [(48, 48)] if name == "newton" else [(32, 80), (80, 32), (48, 48)]
    for shape in shapes:
        U, V = frames(*shape, batch=3, seed=2)
        s = np.geomspace(1e-2, 1.0, min(shape))
        Q = call(name, compose(U, s, V), dtype, **params)
        assert rel(Q, compose(U, np.ones(min(shape)), V)) < tol, (name, shape, dtype)


def test_newton_needs_square_input() -> None:
    with pytest.raises(ValueError, match="square nonsingular"):
        call("newton", np.ones((1, 4, 6)))


@pytest.mark.parametrize("kappa", [1e2, 1e6, 1e10])
def test_qdwh_takes_at_most_six_steps(kappa: float) -> None:
    U, V = frames(60, 30, batch=2, seed=3)
    G = compose(U, np.geomspace(1 / kappa, 1.0, 30), V)
    out = METHODS[("polar", "qdwh")].fn(torch.from_numpy(G))
    assert isinstance(out, WithInfo) and out.failure is None
    assert 1 <= out.info["iterations"] <= 6 and out.info["qr_iterations"] <= 2
    # the polar factor's own conditioning: error about u kappa
    assert rel(out.value.numpy(), compose(U, np.ones(30), V)) < 1e-15 * kappa + 1e-13


def test_qdwh_reports_a_capped_iteration() -> None:
    U, V = frames(20, 20, seed=4)
    out = METHODS[("polar", "qdwh")].fn(torch.from_numpy(compose(U, np.geomspace(1e-8, 1, 20), V)), steps=2)
    assert out.info["iterations"] == 2 and out.failure and "no convergence after 2 steps" in out.failure


def test_qdwh_weights_and_worst_case_schedule() -> None:
    # Halley's fixed weights at l = 1; l follows s -> s (a + b s^2) / (1 + c s^2).
    a, b, c = (float(x) for x in qdwh.weights(torch.tensor(1.0, dtype=torch.float64)))
    assert (a, b, c) == pytest.approx((3.0, 1.0, 3.0), abs=1e-12)
    # Worst case of the FLOP model: from l_0 = 2^-52, |1 - l| <= 10 u after 6 steps, 2 with c > 100.
    l, steps, qr = torch.tensor(2.0**-52, dtype=torch.float64), 0, 0
    while abs(1 - float(l)) > 10 * 2.0**-52:
        a, b, c = qdwh.weights(l)
        qr += float(c) > qdwh.CHOLESKY_MAX_C
        l, steps = l * (a + b * l * l) / (1 + c * l * l), steps + 1
    assert (steps, qr) == (qdwh.WORST_STEPS, qdwh.WORST_QR_STEPS)


def test_qdwh_lower_bound_is_a_lower_bound() -> None:
    U, V = frames(50, 20, batch=4, seed=5)
    s = np.stack([np.geomspace(10.0**-e, 1.0, 20) for e in (1, 3, 5, 7)])
    l0 = qdwh.lower_bound(torch.from_numpy(compose(U, s, V)), floor=1e-16).flatten().numpy()
    s_min = s[:, 0]  # 1 / ||R^{-1}||_F lies in [s_min / sqrt(n), s_min]
    assert np.all(l0 <= s_min * (1 + 1e-10)) and np.all(l0 >= s_min / np.sqrt(20))


# --- the published figures: scalar maps on singular values in [1e-3, 1] ------------------


def test_muon_quintic_figures() -> None:
    # Jordan et al.: five steps map [1e-3, 1] into about [0.47, 1.20] and [1e-2, 1] into [0.68, 1.13].
    out = iterate([MUON] * 5, GRID)
    assert out.min() == pytest.approx(0.4705, abs=5e-4) and out.max() == pytest.approx(1.2024, abs=5e-4)
    out = iterate([MUON] * 5, np.geomspace(1e-2, 1.0, 100_001))
    assert out.min() == pytest.approx(0.6818, abs=5e-4) and out.max() == pytest.approx(1.1344, abs=5e-4)
    assert newton_schulz.MUON_QUINTIC == (3.4445, -4.7750, 2.0315)


def test_cubic_figure() -> None:
    # 1e-3 grows by about 1.5 a step: 1.5^5 1e-3 = 0.00759 after 5 steps.
    assert iterate([cubic] * 5, np.array([1e-3]))[0] == pytest.approx(0.0076, abs=5e-5)
    assert newton_schulz.CUBIC == (1.5, -0.5)


def optimal_odd_quintic(lo: float, hi: float) -> tuple[float, float, float]:
    """argmin over odd quintics p of max_{[lo, hi]} |1 - p|, by the Remez exchange.

    The optimum equioscillates at lo < x1 < x2 < hi (Chebyshev's theorem): solve
    ``p(x_i) + (-1)^i E = 1`` for (a, b, c, E), then move x1, x2 to the critical points of
    p (the roots of ``a + 3 b t + 5 c t^2``, t = x^2) until E settles.
    """
    if lo / hi > 1 - 5e-6:
        # A vanishing interval: the limit is the quintic of highest contact with 1 at hi,
        # p(hi) = 1, p'(hi) = p''(hi) = 0 (the Pade quintic (15 s - 10 s^3 + 3 s^5) / 8
        # rescaled); solving there would be ill-posed.
        return 15 / 8 / hi, -10 / 8 / hi**3, 3 / 8 / hi**5
    x1, x2 = lo + (hi - lo) / 4, lo + 3 * (hi - lo) / 4
    E_old = np.inf
    for _ in range(100):
        pts = np.array([lo, x1, x2, hi])
        M = np.column_stack([pts, pts**3, pts**5, [1.0, -1.0, 1.0, -1.0]])
        a, b, c, E = np.linalg.solve(M, np.ones(4))
        t = np.sort(np.roots([5 * c, 3 * b, a]).real)
        x1, x2 = np.sqrt(t)
        if abs(E - E_old) < 1e-15:
            break
        E_old = E
    return a, b, c


def greedy_composition(l: float, steps: int, cushion: float) -> list[tuple[float, float, float]]:
    """Polar Express's construction: per step the minimax quintic on [max(l, cushion u), u],
    recentred so that p(l) + p(u) = 2 when cushioned; then [l, u] <- [p(l), 2 - p(l)]."""
    u, out = 1.0, []
    for _ in range(steps):
        a, b, c = optimal_odd_quintic(max(l, cushion * u), u)
        p = quintic(a, b, c)
        if cushion * u > l:
            r = 2 / (p(l) + p(u))
            a, b, c = a * r, b * r, c * r
            p = quintic(a, b, c)
        out.append((a, b, c))
        l = p(l)
        u = 2 - l
    return out


def test_polar_express_table_is_the_greedy_minimax_composition() -> None:
    # The published table (before the safety factor) is the greedy composition for l = 1e-3
    # with the cushion 0.02407327424182761: a wrong digit in a coefficient fails this.
    derived = greedy_composition(1e-3, 8, cushion=0.02407327424182761)
    table = polar_express.COEFFICIENTS
    np.testing.assert_allclose(np.array(table[:6]), np.array(derived[:6]), rtol=1e-10)
    # the last two: Remez on an interval of width 1e-3 and 2e-9 is ill-conditioned, and the
    # table's last entry is the limit (15/8, -10/8, 3/8) itself
    np.testing.assert_allclose(np.array(table[6:]), np.array(derived[6:]), rtol=1e-8)
    assert table[7] == (15 / 8, -10 / 8, 3 / 8)


def test_polar_express_figures() -> None:
    raw = [quintic(*abc) for abc in polar_express.COEFFICIENTS]
    used = [quintic(*abc) for abc in polar_express.coefficients(8)]
    sf = polar_express.SAFETY
    for k, (a, b, c) in enumerate(polar_express.coefficients(7)):  # p(s / 1.01), the last table entry excluded
        assert (a, b, c) == pytest.approx(tuple(x / sf**p for x, p in zip(polar_express.COEFFICIENTS[k], (1, 3, 5))))
    worst_raw = [np.abs(1 - iterate(raw[:t], GRID)).max() for t in (5, 6, 7)]
    worst = [np.abs(1 - iterate(used[:t], GRID)).max() for t in (5, 6, 7)]
    # The greedy optimum equioscillates: its worst error is 1 - (the image of l = 1e-3).
    assert worst_raw == pytest.approx([1 - iterate(raw[:t], np.array([1e-3]))[0] for t in (5, 6, 7)], rel=1e-6)
    assert worst_raw == pytest.approx([0.1236, 1.185e-3, 1.04e-9], rel=5e-3)
    # With the safety factor, the method as run: 0.154, 5.6e-3, 9.1e-6.
    assert worst == pytest.approx([0.1538, 5.593e-3, 9.05e-6], rel=5e-3)
    # The figures quoted for Polar Express (about 0.143, 3.3e-3 and 5e-6) fall between the
    # greedy optimum and the safety-factored composition: the safety factor's price.
    for lo, quoted, hi in zip(worst_raw, (0.143, 3.3e-3, 5e-6), worst):
        assert lo < quoted < hi
    # Steps beyond the table repeat its last entry.
    assert polar_express.coefficients(11)[8:] == [polar_express.COEFFICIENTS[-1]] * 3


# --- on matrices: the measured spectrum is the scalar prediction ---------------------------


def scalar_maps(name: str, steps: int) -> list[Callable[[np.ndarray], np.ndarray]]:
    if name == "newton_schulz_cubic":
        return [cubic] * steps
    if name == "newton_schulz_quintic":
        return [MUON] * steps
    return [quintic(*abc) for abc in polar_express.coefficients(steps)]


def predicted_spectrum(maps: list, s0: np.ndarray, h: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """The composed map at ``s0``, and how much rounding at each step can move the result.

    A rounding error of relative size eps in the iterate of step t (whose norm is about 1)
    moves a singular value by about eps, which the remaining maps multiply by their
    derivative: the amplification ``A(s) = sum_t |(p_T o ... o p_{t+1})'(s_t)|``, t = 0..T
    (t = 0 is the rounding of the input, the term t = T is 1). Derivatives by central
    differences.
    """
    iterates = [s0]
    for p in maps:
        iterates.append(p(iterates[-1]))
    A = np.zeros_like(s0)
    for t, st in enumerate(iterates):
        A += np.abs(iterate(maps[t:], st + h) - iterate(maps[t:], st - h)) / (2 * h)
    return iterates[-1], A


@pytest.mark.parametrize("name,steps", [("newton_schulz_quintic", 5), ("polar_express", 5),
                                        ("polar_express", 7), ("newton_schulz_cubic", 5)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
def test_output_spectrum_matches_scalar_maps(name: str, steps: int, dtype: str) -> None:
    # 64 x 256 (and its transpose), singular values spread over [1e-3, 1]: every measured
    # singular value is the scalar prediction to within 8 eps A(s) (measured: at most 4).
    for shape in [(64, 256), (256, 64)]:
        U, V = frames(*shape, seed=6)
        s = np.geomspace(1e-3, 1.0, 64)
        G = compose(U, s, V)
        scale = polar_express.SAFETY if name == "polar_express" else 1.0
        s0 = s / (scale * np.linalg.norm(G) + 1e-7)  # the methods' normalization
        predicted, A = predicted_spectrum(scalar_maps(name, steps), s0)
        order = np.argsort(predicted)
        Q = call(name, G, dtype, steps=steps)
        measured = np.linalg.svd(Q[0], compute_uv=False)[::-1]  # ascending
        tol = 8 * EPS[dtype] * A[order]
        assert np.all(np.abs(measured - predicted[order]) <= tol), (shape, dtype)
        # the task's s_min and s_max are the ends of this range
        score = TASK.score(Q, call("reference", G), {"G": G})
        assert abs(score["s_min"] - predicted[order[0]]) <= tol[0]
        assert abs(score["s_max"] - predicted[order[-1]]) <= tol[-1]


# --- FLOP models: counted against the products PyTorch performs ----------------------------


@pytest.mark.parametrize("name,params", [("newton_schulz_cubic", {"steps": 3}),
                                         ("newton_schulz_quintic", {"steps": 5}),
                                         ("polar_express", {"steps": 6})])
@pytest.mark.parametrize("shape", [(2, 24, 96), (2, 96, 24)])
def test_polynomial_flop_models_count_the_products(name: str, params: dict, shape: tuple) -> None:
    G = np.random.default_rng(8).standard_normal(shape)
    with FlopCounterMode(display=False) as counter:
        call(name, G, **params)
    model = METHODS[("polar", name)].flops({"G": G}, **params)
    assert counter.get_total_flops() == model  # also proves the small (wide) Gram is used
    k, l = min(shape[1:]), max(shape[1:])
    if name == "newton_schulz_quintic":
        assert model == shape[0] * 5 * (4 * k * k * l + 2 * k**3)


def test_other_flop_models() -> None:
    G = np.zeros((3, 50, 20))
    assert METHODS[("polar", "newton")].flops({"G": np.zeros((2, 30, 30))}, steps=4) == 2 * 4 * 2 * 30**3
    # thin SVD: R-SVD 6 l k^2 + 20 k^3 beats Golub-Reinsch here (l = 2.5 k), plus U V^T
    assert METHODS[("polar", "reference")].flops({"G": G}) == 3 * (6 * 50 * 400 + 20 * 8000 + 2 * 50 * 400)
    # QDWH's worst case: l_0 estimate, 2 QR steps, 4 Cholesky steps (m = 50, n = 20)
    per = (2 * 50 * 400 - 8000 / 3) + 2 * (6 * 50 * 400 + 8 * 8000 / 3) + 4 * (4 * 50 * 400 + 8000 / 3)
    assert METHODS[("polar", "qdwh")].flops({"G": G}) == pytest.approx(3 * per)


# --- generators of rectangular inputs -----------------------------------------------------


@pytest.mark.parametrize("decay", ["loguniform", "geometric", "polynomial"])
@pytest.mark.parametrize("shape", [(12, 30), (30, 12)])
def test_singular_generator_has_the_prescribed_spectrum(decay: str, shape: tuple[int, int]) -> None:
    from matrixbench.generators.singular import singular

    G = singular(np.random.default_rng(0), *shape, kappa=1e4, decay=decay, batch=3)
    assert G.shape == (3, *shape) and G.dtype == np.float64 and G.flags.c_contiguous
    s = np.linalg.svd(G, compute_uv=False)  # descending, (3, 12)
    np.testing.assert_allclose(s[:, 0], 1.0, rtol=1e-13)
    np.testing.assert_allclose(s[:, -1], 1e-4, rtol=1e-9)
    i = np.arange(12)
    if decay == "geometric":  # s_i = kappa^(-i/(k-1))
        np.testing.assert_allclose(s, np.broadcast_to(1e4 ** (-i / 11), s.shape), rtol=1e-9)
    elif decay == "polynomial":  # s_i = (i + 1)^(-p), 12^(-p) = 1e-4
        np.testing.assert_allclose(s, np.broadcast_to((i + 1.0) ** (-np.log(1e4) / np.log(12)), s.shape), rtol=1e-9)
    else:  # independent draws: the three matrices have different interior values
        assert not np.allclose(s[0], s[1])
    again = singular(np.random.default_rng(0), *shape, kappa=1e4, decay=decay, batch=3)
    np.testing.assert_array_equal(G, again)  # a pure function of the seed


def test_loguniform_singular_values_are_log_uniform() -> None:
    from matrixbench.generators.singular import singular_values

    s = singular_values(20_000, 1e4, "loguniform", np.random.default_rng(1))
    x = -np.log10(s[1:-1])  # uniform on [0, 4]: mean 2, variance 16/12
    assert abs(x.mean() - 2.0) < 0.05 and abs(x.var() - 16 / 12) < 0.05
    assert x.min() >= 0 and x.max() <= 4


def test_lowrank_noise_generator() -> None:
    from matrixbench.generators.singular import lowrank_noise

    G = lowrank_noise(np.random.default_rng(2), 200, 100, rank=5, noise=1e-2, batch=2)
    s = np.linalg.svd(G, compute_uv=False)
    assert G.shape == (2, 200, 100)
    np.testing.assert_allclose(s[:, :5], 1.0, atol=2e-2)  # the signal, moved by about the noise
    # the noise floor: Marchenko-Pastur edges 1e-2 (sqrt(200) -+ sqrt(100)) / (sqrt(200) + sqrt(100))
    assert np.all(s[:, 5] < 1.1e-2) and np.all(s[:, -1] > 0.8 * 1e-2 * (np.sqrt(2) - 1) / (np.sqrt(2) + 1))
    exact = lowrank_noise(np.random.default_rng(2), 20, 10, rank=3, noise=0.0)
    assert np.linalg.matrix_rank(exact[0]) == 3
    with pytest.raises(ValueError, match="rank"):
        lowrank_noise(np.random.default_rng(2), 5, 4, rank=6)


def test_gaussian_generator() -> None:
    from matrixbench.generators.singular import gaussian

    G = gaussian(np.random.default_rng(3), 300, 1200, batch=2)
    assert G.shape == (2, 300, 1200)
    assert abs(G.mean()) < 0.01 and abs(G.std() - 1) < 0.01
    s = np.linalg.svd(G[0], compute_uv=False)  # within the Marchenko-Pastur support sqrt(1200) -+ sqrt(300)
    assert 0.9 * (np.sqrt(1200) - np.sqrt(300)) < s[-1] < s[0] < 1.1 * (np.sqrt(1200) + np.sqrt(300))
