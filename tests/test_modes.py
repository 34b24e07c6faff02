"""Modes (issue 14): backward against the Sylvester-equation gradient, torch.compile, keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from matrixbench.execute import problem_data, run_cell
from matrixbench.plan import plan
from matrixbench.suite import load_suites

SUITE = """
name: m
benchmarks:
  - name: modes
    task: sqrtm
    modes: [forward, backward]
    problems: {{generator: spd, params: {{n: 12, cond: 50.0, batch: 2}}, task_params: {{inverse: {inverse}}}}}
    methods: [eigh, {{newton_schulz: {{iters: 30}}}}, {{mpa: {{degree: 16}}}}, scipy_sqrtm]
    dtypes: [float64]
    timing: {{min_time: 0.0, max_time: 0.05, min_repeats: 1}}
"""


def _cells(tmp_path: Path, inverse: bool = False):
    (tmp_path / "m.yaml").write_text(SUITE.format(inverse=str(inverse).lower()))
    return plan(load_suites([str(tmp_path / "m.yaml")]))


def _sylvester_gradient(A: np.ndarray, C: np.ndarray, inverse: bool) -> np.ndarray:
    """Independent: X from scipy.linalg.sqrtm, G from X G + G X = C (or -Y C Y)."""
    out = []
    for a, c in zip(A, C):
        X = np.real(scipy.linalg.sqrtm(a))
        rhs = c
        if inverse:
            Y = np.linalg.inv(X)
            rhs = -Y @ c @ Y
        out.append(scipy.linalg.solve_sylvester(X, X, rhs))
    return np.stack(out)


@pytest.mark.parametrize("inverse", [False, True])
def test_backward_of_eigh_matches_the_sylvester_gradient_to_1e_8(tmp_path, inverse):
    from matrixbench import modes

    cells = {(c.method, c.mode): c for c in _cells(tmp_path, inverse)}
    assert cells[("eigh", "backward")].key.endswith("/torch/float64/cpu/backward")
    assert cells[("eigh", "forward")].key.endswith("/torch/float64/cpu")
    result = run_cell(cells[("eigh", "backward")], tmp_path)
    assert result.status == "ok", result.reason
    assert result.metrics["grad_rel_error"] < 1e-8
    # the same check by hand: autograd through torch.linalg.eigh against scipy
    import torch

    A = problem_data(cells[("eigh", "backward")].problem).inputs["A"]
    C = modes.cotangent(A.shape, symmetric=True)
    leaf = torch.tensor(A, requires_grad=True)
    from implementations.sqrtm.eigh import eigh

    (eigh(leaf, inverse=inverse) * torch.tensor(C)).sum().backward()
    G = _sylvester_gradient(A, C, inverse)
    assert np.linalg.norm(leaf.grad.numpy() - G) / np.linalg.norm(G) < 1e-8
    # iterative methods differentiate their iterations: close, not exact
    ns = run_cell(cells[("newton_schulz", "backward")], tmp_path)
    assert ns.status == "ok" and ns.metrics["grad_rel_error"] < 1e-6, (ns.reason, ns.metrics)
    assert ns.time is not None and ns.time.median > 0
    # a SciPy method has no autograd: skipped with the reason
    sp = run_cell(cells[("scipy_sqrtm", "backward")], tmp_path)
    assert sp.status == "skipped" and "needs a torch method" in sp.reason


def test_compile_mode_records_the_compile_time_apart(tmp_path):
    text = SUITE.format(inverse="false").replace("modes: [forward, backward]", "modes: [compile]").replace(
        "methods: [eigh, {newton_schulz: {iters: 30}}, {mpa: {degree: 16}}, scipy_sqrtm]",
        "methods: [{newton_schulz: {iters: 5}}]")
    (tmp_path / "c.yaml").write_text(text)
    (cell,) = plan(load_suites([str(tmp_path / "c.yaml")]))
    assert cell.key.endswith("/compile")
    result = run_cell(cell, tmp_path)
    assert result.status == "ok", result.reason
    assert result.compile["seconds"] > result.time.median  # compiling costs more than a call
    assert result.to_dict()["method"]["mode"] == "compile"


def test_the_gpu_suite_validates_and_plans_and_says_why_it_skips_here(tmp_path):
    """Every cell of suites/gpu.yaml is a torch cell on cuda; without a GPU each is skipped
    with the reason (the suite itself is not verified on a GPU in CI)."""
    import torch

    from matrixbench.verdict import check

    cells = plan(load_suites(["suites/gpu.yaml"]))
    assert len(cells) > 40
    assert {c.device for c in cells} == {"cuda"} and {c.backend for c in cells} == {"torch"}
    assert {"forward", "backward", "cuda_graph"} <= {c.mode for c in cells}
    if not torch.cuda.is_available():
        for cell in cells:
            verdict = check(cell)
            assert verdict is not None and verdict.status == "skipped" and "CUDA" in verdict.reason, cell.key


def test_gpu_monitor_summarizes_clocks_and_throttling_without_a_gpu():
    from matrixbench.gpumonitor import GpuMonitor

    mon = GpuMonitor.__new__(GpuMonitor)
    mon.samples = [(1980.0, 400.0, 0), (1600.0, 690.0, 0x4), (1700.0, 700.0, 0x4 | 0x20)]
    mon.error, mon._thread = None, None
    import threading

    mon._stop = threading.Event()
    out = mon.stop("cuda_event", False)
    assert out["sm_clock_mhz"] == {"min": 1600.0, "median": 1700.0, "max": 1980.0}
    assert out["throttle"] == ["sw_power_cap", "sw_thermal"] and out["throttled"]
    from matrixbench.results import contended

    assert contended({"status": "ok", "gpu": out})


def test_polar_gradient_matches_finite_differences():
    """The closed-form gradient of <C, polar(G)> against central differences, wide and tall."""
    from implementations.polar.task import gradient
    from implementations.polar.reference import reference

    rng = np.random.default_rng(1)
    for shape in ((1, 4, 7), (1, 7, 4), (2, 5, 5)):
        G = rng.standard_normal(shape)
        C = rng.standard_normal(shape)
        g = gradient({"G": G}, reference(G), C)["G"]
        E = rng.standard_normal(shape)
        h = 1e-6
        fd = (np.sum(C * reference(G + h * E)) - np.sum(C * reference(G - h * E))) / (2 * h)
        assert abs(fd - np.sum(g * E)) < 1e-6 * max(1.0, abs(fd)), shape


def test_lyapunov_sign_iteration_solves_the_sylvester_equation():
    """Song et al.'s backward: the sign iteration against Bartels-Stewart (scipy)."""
    import torch

    from implementations.sqrtm.lyapunov import lyapunov_sign

    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    B = (Q * np.geomspace(1.0, 1e-2, 20)) @ Q.T  # SPD, condition 100
    C = rng.standard_normal((20, 20))
    G = lyapunov_sign(torch.tensor(B)[None], torch.tensor(C)[None], iters=25)[0].numpy()
    want = scipy.linalg.solve_sylvester(B, B, C)
    assert np.linalg.norm(G - want) / np.linalg.norm(want) < 1e-10
    # too few steps: the small eigenvalues have not reached 1 yet, and it shows
    G5 = lyapunov_sign(torch.tensor(B)[None], torch.tensor(C)[None], iters=5)[0].numpy()
    assert np.linalg.norm(G5 - want) / np.linalg.norm(want) > 1e-2


@pytest.mark.parametrize("inverse", [False, True])
def test_mpa_lya_backward_is_the_lyapunov_gradient_of_its_output(inverse):
    """The custom backward (Lyapunov, not autograd through the Pade solve): the gradient
    of the root at the method's own output, X G + G X = C (Y G + G Y = -Y^2 C Y^2 for the
    inverse root Y), checked with Bartels-Stewart; on a well-conditioned matrix, where the
    Pade forward is exact to rounding, it is autograd's gradient through eigh."""
    import torch

    from implementations.sqrtm.eigh import eigh
    from implementations.sqrtm.lyapunov import mpa_lya

    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    C = torch.tensor(rng.standard_normal((1, 16, 16)))
    C = (C + C.mT) / 2
    for low, bound in ((0.05, None), (0.5, 1e-6)):
        A = torch.tensor((Q * np.geomspace(1.0, low, 16)) @ Q.T)[None]
        grads, outs = [], []
        for fn, kw in ((eigh, {}), (mpa_lya, {"degree": 16, "iters": 30})):
            leaf = A.clone().requires_grad_(True)
            out = fn(leaf, inverse=inverse, **kw)
            (out * C).sum().backward()
            grads.append(leaf.grad[0].numpy())
            outs.append(out.detach()[0].numpy())
        X, c = outs[1], C[0].numpy()
        rhs = -(X @ X @ c @ X @ X) if inverse else c
        want = scipy.linalg.solve_sylvester(X, X, rhs)
        assert np.linalg.norm(grads[1] - want) / np.linalg.norm(want) < 1e-9
        if bound is not None:
            assert np.linalg.norm(grads[1] - grads[0]) / np.linalg.norm(grads[0]) < bound


def test_gates_apply_per_mode(tmp_path):
    """An entry's output gate does not fail its backward cells (they score the gradient
    only) and its gradient gate does not fail its forward cells; a gradient past its gate
    is inaccurate."""
    text = SUITE.format(inverse="false").replace(
        "methods: [eigh, {newton_schulz: {iters: 30}}, {mpa: {degree: 16}}, scipy_sqrtm]",
        "methods: [eigh, {newton_schulz: {iters: 2}}]\n    gates: {rel_error: {float64: 1.0}, grad_rel_error: {float64: 1.0e-6}}")
    (tmp_path / "g.yaml").write_text(text)
    results = {(c.method, c.mode): run_cell(c, tmp_path) for c in plan(load_suites([str(tmp_path / "g.yaml")]))}
    assert results[("eigh", "forward")].status == "ok" and results[("eigh", "backward")].status == "ok"
    two_steps = results[("newton_schulz", "backward")]
    assert two_steps.status == "inaccurate" and "grad_rel_error" in two_steps.reason and "rel_error missing" not in two_steps.reason
    assert results[("newton_schulz", "forward")].status == "ok"  # 2 steps: inaccurate but under its gate of 1.0


def test_a_gradient_gate_on_a_task_without_gradient_is_refused(tmp_path):
    from matrixbench.suite import SuiteErrors

    (tmp_path / "bad.yaml").write_text("""
name: bad
benchmarks:
  - task: lstsq
    problems: {generator: tall_gaussian, params: {m: 20, n: 4}}
    methods: [reference]
    gates: {grad_rel_error: {float64: 1.0}}
""")
    with pytest.raises(SuiteErrors, match="unknown metric 'grad_rel_error'"):
        load_suites([str(tmp_path / "bad.yaml")])


def test_the_dry_run_estimate_counts_each_compilation(tmp_path):
    from matrixbench.estimate import COMPILE_GUESS, SETUP_GUESS, estimate

    text = SUITE.format(inverse="false").replace("modes: [forward, backward]", "modes: [forward, compile]")
    (tmp_path / "e.yaml").write_text(text)
    cells = plan(load_suites([str(tmp_path / "e.yaml")]))
    compiled = sum(c.mode == "compile" for c in cells)
    assert compiled == len(cells) // 2
    plain = sum((c.timing.min_time + SETUP_GUESS) * max(1, c.timing.rounds) for c in cells)
    est = estimate(cells, tmp_path / "no-results", "vm")
    assert est.from_settings == len(cells) and est.seconds == pytest.approx(plain + compiled * COMPILE_GUESS)
