"""compare: matched by key; time needs a significant test *and* a ratio; accuracy and status too."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from matrixbench.compare import compare_runs
from matrixbench.store import read_run


def fake_run(run_id: str, samples: dict[str, list[float]], metrics: dict[str, float] | None = None, status: str = "ok") -> dict:
    results = []
    for key, s in samples.items():
        results.append({"key": key, "task": "probe", "dtype": "float64", "status": status, "reason": "",
                        "method": {"version": "v1"},
                        "metrics": dict(metrics or {"rel_error": 1e-10}),
                        "time": {"median": float(np.median(s)), "min": float(np.min(s)), "samples": list(s)}})
    return {"run": {"id": run_id}, "results": results}


def noise(rng, median, n=20, rel=0.03):
    return list(median * (1 + rel * rng.standard_normal(n)))


def test_identical_and_noisy_runs_have_no_regression():
    rng = np.random.default_rng(0)
    base = fake_run("a", {f"c{i}": noise(rng, 0.01) for i in range(50)})
    head = fake_run("b", {f"c{i}": noise(rng, 0.01) for i in range(50)})
    cmp = compare_runs(base, head)
    assert cmp.matched == 50 and not cmp.regressions
    assert abs(cmp.geomean_ratio - 1) < 0.02


def test_thirty_percent_slower_is_a_regression():
    rng = np.random.default_rng(1)
    base = fake_run("a", {"fast": noise(rng, 0.01), "slow": noise(rng, 0.01)})
    head = fake_run("b", {"fast": noise(rng, 0.01), "slow": noise(rng, 0.013)})
    cmp = compare_runs(base, head)
    assert [c.key for c in cmp.regressions] == ["slow"]
    c = cmp.regressions[0]
    assert c.kind == "time" and c.p_value < 1e-4 and np.isclose(c.ratio, 1.3, rtol=0.05)
    assert not compare_runs(base, head, min_time=0.05).regressions  # 10 ms cells below the floor


def test_slow_spell_moves_the_median_not_the_minimum():
    # The same 10 ms cell; the head ran partly during a slow spell (another tenant):
    # more of its samples took 20 ms. Its cost did not change: the minimum says so.
    rng = np.random.default_rng(3)
    base = fake_run("a", {"c": noise(rng, 0.01, n=12, rel=0.01) + noise(rng, 0.02, n=8, rel=0.01)})
    head = fake_run("b", {"c": noise(rng, 0.01, n=8, rel=0.01) + noise(rng, 0.02, n=12, rel=0.01)})
    assert not compare_runs(base, head).regressions
    by_median = compare_runs(base, head, statistic="median").regressions
    assert [c.what for c in by_median] == ["time (median)"] and by_median[0].ratio > 1.5


def test_ratio_without_significance_is_not_a_regression():
    # a 15% higher median from wildly spread samples: not significant
    base = fake_run("a", {"c": [0.01, 0.02, 0.005, 0.03, 0.01]})
    head = fake_run("b", {"c": [0.0115, 0.019, 0.006, 0.031, 0.012]})
    assert not compare_runs(base, head).regressions


def test_accuracy_and_status_regressions():
    rng = np.random.default_rng(2)
    s = {"c": noise(rng, 0.01)}
    base = fake_run("a", s, {"rel_error": 1e-10})
    worse = fake_run("b", copy.deepcopy(s), {"rel_error": 1e-7})
    rounding = fake_run("b", copy.deepcopy(s), {"rel_error": 1e-10 + 1e-15})
    cmp = compare_runs(base, worse)
    assert [(c.kind, c.what) for c in cmp.regressions] == [("accuracy", "rel_error")]
    assert not compare_runs(base, rounding).regressions
    broken = fake_run("b", copy.deepcopy(s), status="inaccurate")
    kinds = {c.kind for c in compare_runs(base, broken).regressions}
    assert "status" in kinds
    # higher-is-better metrics regress downwards
    up = fake_run("a", s, {"score": 0.9})
    down = fake_run("b", copy.deepcopy(s), {"score": 0.3})
    assert compare_runs(up, down, directions={"probe": {"score": "higher"}}).regressions
    assert not compare_runs(down, up, directions={"probe": {"score": "higher"}}).regressions


SUITE = """\
task: probe
problems:
  generator: probe_gaussian
  params: {n: [4, 5]}
methods: [spin, noisy]
timing: {min_time: 0.3, max_time: 0.6}
"""


def test_compare_end_to_end(run_cli, tmp_path):
    (tmp_path / "s.yaml").write_text(SUITE)
    runs = []
    # the head: the spin cells 30% slower and the noisy cells less accurate (different cells)
    for i, env in enumerate([{}, {}, {"MB_PROBE_SLOWDOWN": "1.3", "MB_PROBE_ERROR": "1e-6"}]):
        res = run_cli("run", "s.yaml", "--results", f"r{i}", **env)
        assert res.returncode == 0, res.stderr
        runs.append(str(next((tmp_path / f"r{i}").glob("*/*.json"))))
    # time is judged on the 6 ms spin cells only: microsecond cells are noise on a shared machine
    same = run_cli("compare", runs[0], runs[1], "--min-time", "0.005")
    assert same.returncode == 0, same.stdout
    assert "0 regressed" in same.stdout
    slower = run_cli("compare", runs[0], runs[2], "--min-time", "0.005")
    assert slower.returncode == 1, slower.stdout
    # a cell timed while other processes kept the CPU busy (a loaded machine) is
    # "unreliable", never slower: the expected word depends on how the runs went
    busy = {r["key"] for p in (runs[0], runs[2]) for r in json.loads(Path(p).read_text())["results"]
            if (r.get("contention") or {}).get("contended")}
    for n in (4, 5):
        key = f"probe/probe_gaussian(n={n},scale=1;seed=0)/offset=0/spin(ms=6)/numpy/float64/cpu"
        if key in busy:  # never a regression; the tally counts it unreliable
            assert f"regressed: {key}" not in slower.stderr and " unreliable" in slower.stdout, slower.stdout
        else:
            assert f"regressed: {key} (time slower x1." in slower.stderr, slower.stderr
    assert "noisy()/numpy/float64/cpu (time slower" not in slower.stderr  # microsecond cells: time not judged
    noisy = "probe/probe_gaussian(n=4,scale=1;seed=0)/offset=0/noisy()/numpy/float64/cpu"
    word = "unreliable" if noisy in busy else "n/a"
    assert f"regressed: {noisy} (time {word}" in slower.stderr, slower.stderr  # the accuracy loss still counts
    assert "accuracy worse: rel_error x" in slower.stderr
    # a head that crashed midway fails (issue 11: it used to pass); another machine is refused
    crashed = json.loads(Path(runs[1]).read_text())
    crashed["run"].update(complete=False, finished=None)
    crashed["results"] = crashed["results"][:1]
    (tmp_path / "crashed.json").write_text(json.dumps(crashed))
    res = run_cli("compare", runs[0], "crashed.json", "--min-time", "0.005")
    assert res.returncode == 1 and "head run is incomplete: 1 of 4 cells" in res.stdout + res.stderr, res.stdout
    elsewhere = json.loads(Path(runs[1]).read_text())
    elsewhere["environment"]["machine"]["cpu"] = "another CPU"
    (tmp_path / "elsewhere.json").write_text(json.dumps(elsewhere))
    res = run_cli("compare", runs[0], "elsewhere.json")
    assert res.returncode == 2 and "different machines" in res.stderr, res.stderr


def test_compare_refuses_bad_files(run_cli, tmp_path):
    (tmp_path / "x.json").write_text("{\"schema\": \"matrixbench.run\", \"schema_version\": 99}")
    res = run_cli("compare", "x.json", "x.json")
    assert res.returncode == 2 and "schema version 99" in res.stderr
    (tmp_path / "y.json").write_text("not json")
    res = run_cli("compare", "y.json", "y.json")
    assert res.returncode == 2 and "not a JSON run file" in res.stderr
