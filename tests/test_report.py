"""Reports: model (winners, fronts, fits), escaping, files written, Markdown, CLI."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from matrixbench.report import build_model, write_report
from matrixbench.results import pareto_front
from matrixbench.scaling import fit_power_law
from synthetic_runs import make_run, many_runs, power_law_records, record

EXPONENTS = {"reference": 3.0, "fast": 2.5, "slow": 3.2}


@pytest.mark.parametrize("exponent", [1.0, 2.0, 3.0])
def test_power_law_fit_recovers_known_exponents(exponent):
    rng = np.random.default_rng(int(exponent))
    sizes = np.repeat([64, 128, 256, 512, 1024, 2048], 3)
    times = 1e-9 * sizes**exponent * np.exp(0.05 * rng.standard_normal(sizes.size))
    fit = fit_power_law(list(sizes), list(times))
    assert fit is not None and fit.low < exponent < fit.high
    assert abs(fit.exponent - exponent) < 0.05 and fit.high - fit.low < 0.2
    # the tail keeps only the largest sizes: an overhead that flattens small sizes is ignored
    with_overhead = times + 1e-9 * 64**exponent  # a fixed cost as large as the smallest problem
    bent = fit_power_law(list(sizes), list(with_overhead)).exponent
    tail = fit_power_law(list(sizes), list(with_overhead), tail=3).exponent
    assert bent < tail < exponent + 0.05 and abs(tail - exponent) < 0.1
    assert fit_power_law([1, 2], [1.0, 2.0]) is None


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(5)
    pts = [tuple(p) for p in rng.uniform(size=(60, 2))]
    brute = {i for i, p in enumerate(pts) if not any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in pts)}
    front = pareto_front(pts)
    assert set(front) == brute
    assert [pts[i][0] for i in front] == sorted(pts[i][0] for i in front)


def _synthetic(tmp_path: Path, runs: int = 1) -> list[dict]:
    rng = np.random.default_rng(0)
    recs = power_law_records(EXPONENTS, [32, 64, 128, 256, 512], rng, noise=0.02)
    return many_runs(runs, recs, rng) if runs > 1 else [make_run("r0", recs)]


def test_model_winners_fronts_and_fits(tmp_path):
    model = build_model(_synthetic(tmp_path))
    (task,) = model.tasks
    assert task.primary == "rel_error" and len(task.problems) == 5
    for pv in task.problems:
        rows = [r for r in pv.rows if r.time]
        # independent: the fastest cell whose error is at most each level
        for level, label in ((1e-8, "≤ 1e-08"), (1e-12, "≤ 1e-12")):
            ok = [r for r in rows if r.record["metrics"]["rel_error"] <= level]
            want = min(ok, key=lambda r: r.time).label if ok else None
            got = task.winners[pv.key][label]
            assert (got.label if got else None) == want
        assert task.winners[pv.key]["any"].time == min(r.time for r in rows)
        ref = next(r for r in pv.rows if r.record["method"]["kind"] == "reference")
        assert ref.vs_reference == pytest.approx(1.0)
        slow = next(r for r in pv.rows if r.record["method"]["kind"] == "baseline")
        assert slow.vs_baseline == pytest.approx(1.0)
        # share of peak: GFLOP/s over the calibrated 100 GFLOP/s
        assert ref.peak_share == pytest.approx(ref.record["gflops"] / 100.0)
        # the Pareto front is non-dominated
        for t, e, _ in pv.front:
            assert not any(r.time < t and r.record["metrics"]["rel_error"] < e for r in rows)
    (view,) = task.scaling
    for name, fit in view.fits.items():
        assert fit is not None and abs(fit.exponent - EXPONENTS[name.split("(")[0].split()[0]]) < 0.15, (name, fit)


def test_roofline_places_cells_by_intensity_under_the_calibrated_ceilings(tmp_path):
    runs = _synthetic(tmp_path)
    model = build_model(runs)
    (task,) = model.tasks
    (view,) = task.roofline
    assert (view.device, view.dtype, view.peak_gflops, view.bandwidth_gbs) == ("cpu", "float64", 100.0, 20.0)
    timed = [r for r in runs[-1]["results"] if r["gflops"]]
    assert sum(len(p) for p in view.points.values()) == len(timed)
    for r in timed:
        n = r["problem"]["params"]["n"]
        # 2 n^3 FLOPs over n^2 float64 read and n^2 written: n / 8 FLOPs per byte
        assert (n / 8, r["gflops"]) in [(x, y) for x, y, _ in view.points[r["method"]["name"]]]
    write_report(runs, tmp_path / "rep")
    page = (tmp_path / "rep" / "task-synth_task.html").read_text()
    assert 'id="roofline"' in page and "Roofline, cpu float64" in page
    assert "ceiling: 100 GFLOP/s, 20 GB/s" in page


def test_problems_without_the_size_parameter_are_left_out_of_scaling(tmp_path):
    rng = np.random.default_rng(2)
    recs = power_law_records(EXPONENTS, [32, 64, 128], rng)
    other = record("synth_task", {"n": 16}, ("reference", "reference", {}), "float64", 1e-3, 0.0, rng)
    other["problem"]["params"] = {"dataset": "wine"}  # a generator with no size parameter
    model = build_model([make_run("r0", recs + [other])])
    assert len(model.tasks[0].scaling) == 1 and len(model.tasks[0].problems) == 4


def test_history_across_runs_in_commit_order(tmp_path):
    runs = _synthetic(tmp_path, runs=4)
    model = build_model(list(reversed(runs)))  # given in any order
    pv = model.tasks[0].problems[0]
    labels = [p[0] for p in next(iter(pv.history.values()))]
    assert labels == [r["environment"]["git"]["commit"][:8] for r in runs]
    assert [r.id for r in model.runs] == [r["run"]["id"] for r in runs]


EVIL = "<script>alert('x')</script>"


def test_strings_from_runs_are_escaped(tmp_path):
    rng = np.random.default_rng(1)
    recs = [record("synth_task", {"n": 8}, ("m" + EVIL, "optimized", {"p": EVIL}), "float64", 1e-3, 1e-6, rng, suite=EVIL),
            record("synth_task", {"n": 8}, ("reference", "reference", {}), "float64", 2e-3, 0.0, rng),
            record("synth_task", {"n": 8}, ("bad", "optimized", {}), "float64", 1e-3, 1e-6, rng, status="error", reason=EVIL)]
    run = make_run("r" + EVIL, recs)
    run["run"]["suites"][0]["path"] = EVIL
    out = tmp_path / "rep"
    write_report([run], out)
    for page in out.glob("*.html"):
        text = page.read_text()
        assert "alert(" not in text.replace("alert(&#39;x&#39;)", "") or "<script>alert" not in text
        assert "<script>alert" not in text, page
    assert "&lt;script&gt;" in (out / "index.html").read_text()
    md = write_report([run], tmp_path / "s.md", fmt="md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md


def test_report_files_are_self_contained(tmp_path):
    out = tmp_path / "rep"
    index = write_report(_synthetic(tmp_path, runs=3), out)
    pages = sorted(p.name for p in out.glob("*.html"))
    assert index.name == "index.html" and pages == ["index.html", "task-synth_task.html"]
    task = (out / "task-synth_task.html").read_text()
    assert task.count("<svg") >= 5 * 3 + 1  # per problem: accuracy, speedup, history; plus scaling
    for page in out.glob("*.html"):
        text = page.read_text()
        # nothing is fetched: no external URLs in src/href, no stylesheet or script files
        assert not re.search(r'(src|href)="(https?:)?//', text)
        assert "<link" not in text and '<script src' not in text


def test_report_cli(run_cli, tmp_path):
    (tmp_path / "s.yaml").write_text("task: probe\nproblems: {generator: probe_gaussian, params: {n: [4, 8]}}\n"
                                     "methods: [reference, sleep]\ntiming: {min_time: 0.02, max_time: 0.1}\n")
    assert run_cli("report").returncode == 2  # no run yet: a clear usage error
    res = run_cli("run", "s.yaml", MATRIXBENCH_REPORT="1")
    assert res.returncode == 0, res.stderr
    page = re.search(r"report: (\S+)", res.stdout).group(1)
    assert (tmp_path / page).exists()
    res = run_cli("report", "--format", "md", "-o", "sum.md")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "sum.md").read_text()
    # (a cell timed on a loaded machine says so: "ok (contended)")
    assert "## probe" in text and re.search(r"\| sleep\(ms=10\.0\) \| numpy \| float64 \| cpu \| ok( \(contended\))? \|", text)
    run_file = next((tmp_path / "results").glob("*/*.json"))
    res = run_cli("compare", str(run_file), str(run_file), "--report", "cmp")
    assert res.returncode == 0 and (tmp_path / "cmp" / "compare.html").exists()
    assert "0 regressed" in (tmp_path / "cmp" / "compare.md").read_text()


def test_runs_of_two_machines_are_reported_apart_with_one_history_each(tmp_path):
    """Issue 13: a report of runs from two machine names has one report per machine, and
    each machine's history is its own series (before, the plot vanished without a word)."""
    rng = np.random.default_rng(3)
    recs = power_law_records(EXPONENTS, [32, 64], rng, noise=0.02)
    runs = []
    for machine, scale in (("ci-small", 1.0), ("workstation", 0.25)):
        for i in range(3):
            date = f"2026-11-2{i}T00:00:00+00:00"
            faster = [{**r, "time": {**r["time"], "median": r["time"]["median"] * scale}} for r in recs]
            runs.append(make_run(f"{machine}-{i}", faster, commit=f"{i:040d}", date=date, machine=machine))
    out = tmp_path / "rep"
    index = write_report(runs, out)
    text = index.read_text()
    assert "2 machines" in text and "ci-small" in text and "workstation" in text
    for machine, scale in (("ci-small", 1.0), ("workstation", 0.25)):
        sub = out / f"machine-{machine}"
        task = (sub / "task-synth_task.html").read_text()
        assert "History across runs" in task  # the history plot is there, one machine's runs only
        mine = [r for r in runs if r["environment"]["machine"]["name"] == machine]
        model = build_model(mine)
        series = next(iter(model.tasks[0].problems[0].history.values()))
        assert len(series) == 3  # three runs of this machine, none of the other's
        first = model.tasks[0].problems[0].rows[0]
        assert first.time == pytest.approx(mine[-1]["results"][0]["time"]["median"])
    md = write_report(runs, tmp_path / "s.md", fmt="md").read_text()
    assert "# matrixbench report: machine ci-small" in md and "# matrixbench report: machine workstation" in md
