"""Convergence traces (issue 14): every iterate scored outside the timed calls."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from matrixbench import registry
from matrixbench.execute import run_cell
from matrixbench.plan import plan
from matrixbench.suite import load_suites

SUITE = """
name: t
benchmarks:
  - name: ns
    task: sqrtm
    trace: true
    problems: {generator: spd, params: {n: 64, cond: 1000.0}}
    methods: [{newton_schulz: {iters: 25}}, reference]
    dtypes: [float64]
    timing: {min_time: 0.0, max_time: 0.05, min_repeats: 1}
"""


def _cells(tmp_path: Path, text: str = SUITE):
    (tmp_path / "s.yaml").write_text(text)
    return plan(load_suites([str(tmp_path / "s.yaml")]))


def test_newton_schulz_converges_quadratically_in_its_trace(tmp_path):
    """Higham (2008), section 6.7: Newton-Schulz for the square root converges
    quadratically once ||I - Z_k Y_k|| < 1. On an SPD matrix of condition 1e3 the trace
    must show it: the order estimate log(e_{k+1}/e_k) / log(e_k/e_{k-1}) reaches 1.8 or
    more on the last steps above rounding, and e_{k+1} <= K e_k^2 with one constant K
    (measured: 55 to 135 once e_k < 1e-2; the constant grows as 1/l_min)."""
    ns = next(c for c in _cells(tmp_path) if c.method == "newton_schulz")
    result = run_cell(ns, tmp_path)
    assert result.status == "ok", result.reason
    trace = result.trace
    assert trace["iterations"] == list(range(1, 26))
    assert all(b >= a for a, b in zip(trace["seconds"], trace["seconds"][1:]))  # cumulative time
    errors = trace["metrics"]["rel_error"]
    assert errors[-1] == pytest.approx(result.metrics["rel_error"], rel=1e-6, abs=1e-15)
    above = [e for e in errors if e > 1e-12]  # before the rounding floor (about 3e-15 here)
    orders = [math.log(c / b) / math.log(b / a) for a, b, c in zip(above, above[1:], above[2:])]
    assert len(orders) >= 3 and min(orders[-2:]) >= 1.8, (orders, errors)
    assert errors[len(above)] < 1e-13  # and it reaches the floor
    quadratic = [(a, b) for a, b in zip(above, above[1:]) if a < 1e-2]
    assert len(quadratic) >= 3 and all(b <= 200 * a * a for a, b in quadratic), (quadratic, errors)
    # before that, the slow linear phase: the error falls by less than a factor 2.25^2 a step
    early = [b / a for a, b in zip(errors[:5], errors[1:6])]
    assert all(0.1 < r < 1 for r in early), early


def test_a_method_without_trace_has_none_and_timed_calls_get_no_callback(tmp_path):
    ref = next(c for c in _cells(tmp_path) if c.method == "reference")
    assert run_cell(ref, tmp_path).trace is None
    calls: list[float] = []
    fn = registry.METHODS[("sqrtm", "newton_schulz")].fn
    A = torch.eye(3, dtype=torch.float64)[None] * 4
    out = fn(A, iters=3, callback=lambda it: calls.append(float(it[0, 0, 0])))
    assert len(calls) == 3 and math.isclose(calls[-1], float(out[0, 0, 0]))
    assert torch.equal(fn(A, iters=3), out)  # no callback: the same method


def test_trace_needs_a_callback_parameter():
    with pytest.raises(registry.RegistryError, match="takes no 'callback'"):
        registry.method("sqrtm", "no_callback_here", kind="optimized", backends=("torch",), trace=True)(
            lambda A, inverse=False: A)


POLAR = """
name: conv
benchmarks:
  - name: conv
    task: polar
    problems: {generator: singular, params: {m: 24, n: 48, kappa: 100.0, decay: loguniform}}
    methods: [{newton_schulz_cubic: {steps: 12}}, {newton_schulz_quintic: {steps: 6}}, {polar_express: {steps: 6}}, reference]
    dtypes: [float64]
    timing: {min_time: 0.0, max_time: 0.02, min_repeats: 1}
"""


def test_run_trace_keeps_the_traces_and_the_report_draws_one_convergence_plot(run_cli, tmp_path):
    """``run --trace`` (the suite says nothing of traces): every iterative polar method has
    its trace in the run file, one value per step, and the problem's report section draws
    them on one convergence plot (error against iteration and against time)."""
    import json
    import re

    (tmp_path / "conv.yaml").write_text(POLAR)
    res = run_cli("run", "conv.yaml", "--trace", "--no-table", "--results", "r")
    assert res.returncode == 0, res.stderr
    records = {r["method"]["name"]: r for r in json.loads(next((tmp_path / "r").glob("*/*.json")).read_text())["results"]}
    steps = {"newton_schulz_cubic": 12, "newton_schulz_quintic": 6, "polar_express": 6}
    for name, k in steps.items():
        trace = records[name]["trace"]
        assert trace["iterations"] == list(range(1, k + 1)) and len(trace["metrics"]["rel_error"]) == k
        assert trace["metrics"]["rel_error"][-1] == pytest.approx(records[name]["metrics"]["rel_error"], rel=1e-6)
    assert "trace" not in records["reference"]
    # Polar Express converges where the fixed quintic plateaus (Amsel et al.; METHODS.md)
    assert records["polar_express"]["trace"]["metrics"]["rel_error"][-1] < records["newton_schulz_quintic"]["trace"]["metrics"]["rel_error"][-1]
    res = run_cli("report", str(next((tmp_path / "r").glob("*/*.json"))), "-o", "rep")
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "rep" / "task-polar.html").read_text()
    plots = [svg for svg in re.findall(r"<svg.*?</svg>", page, re.S) if "time up to the iterate" in svg]
    assert len(plots) == 1
    for name in steps:
        assert name in plots[0]
