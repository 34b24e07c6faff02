"""Issue 14's researcher features: trials over seeds, the file generator, export and load,
dry runs with an estimate, selection by kind, the median's interval, settling warm-up."""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from matrixbench import execute, registry, timing
from matrixbench.execute import reference_path, problem_data, run_cell
from matrixbench.plan import plan
from matrixbench.suite import load_suites


def _suite(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _cells(path: Path, **kw):
    return plan(load_suites([str(path)]), **kw)


# ------------------------------------------------------------------ timing

def test_median_interval_covers_the_true_median_about_95_percent_of_the_time():
    """Lognormal samples (true median 1): the 95% bootstrap interval of 30 samples must
    contain 1 in roughly 95% of 200 independent draws."""
    rng = np.random.default_rng(7)
    hits = 0
    for _ in range(200):
        ci = timing.median_interval(list(rng.lognormal(0.0, 0.3, size=30)))
        hits += ci[0] <= 1.0 <= ci[1]
    assert 0.88 <= hits / 200 <= 0.995, hits


def test_median_interval_needs_five_samples_and_is_kept_in_the_record():
    assert timing.median_interval([1.0, 2.0, 3.0, 4.0]) is None
    assert timing.median_interval([2.0] * 6) == [2.0, 2.0]
    stats = timing.summarize([1.0, 1.1, 0.9, 1.05, 0.95, 1.2], 1, "t", 1.0)
    saved = stats.to_dict()
    assert saved["median_ci"][0] <= stats.median <= saved["median_ci"][1]
    assert timing.TimeStats.from_dict(saved).median_ci == saved["median_ci"]


class _Slowing:
    """A call whose first calls are slow (20, 10, 5 ms), then 1 ms."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1


class _ScriptedTimer:
    """Returns the scripted seconds of ``_Slowing`` instead of reading a clock: the
    warm-up rule is under test, not the scheduler (a sleeping call jittered by 10%
    under load and warmed up once more in CI)."""

    name = "scripted"

    def sample(self, call, number):
        total = 0.0
        for _ in range(number):
            total += [0.02, 0.01, 0.005][call.calls] if call.calls < 3 else 0.001
            call()
        return total


def test_warm_up_continues_until_the_call_time_settles():
    settings = timing.TimingSettings(warmup=1, min_time=0.0, max_time=2.0, min_repeats=1)
    est, n = timing.warm_up(_Slowing(), settings, _ScriptedTimer())
    # calls 1-4 each at least 10% faster than the one before; call 5 is not
    assert n == 5 and est == 0.001
    capped = timing.TimingSettings(warmup=1, warmup_max=2, max_time=2.0)
    assert timing.warm_up(_Slowing(), capped, _ScriptedTimer())[1] == 2
    stats = timing.measure(_Slowing(), settings, _ScriptedTimer())
    assert stats.warmup == 5 and stats.median == pytest.approx(0.001)


# ------------------------------------------------------------------ trials

PROBE_TRIALS = """
name: t
benchmarks:
  - name: seeds
    task: probe
    trials: 20
    problems: {generator: probe_gaussian, params: {n: 8}}
    methods: [seeded, {seeded: {bad_seed: 3}}, sleep]
    dtypes: [float64]
    timing: {min_time: 0.0, max_time: 0.05, min_repeats: 1}
"""


def test_trials_keep_every_seed_and_the_10_90_range(tmp_path, probe):
    cells = {c.method_params: c for c in _cells(_suite(tmp_path, PROBE_TRIALS)) if c.method == "seeded"}
    good = run_cell(cells[(("bad_seed", -1), ("seed", 0))], tmp_path)
    assert good.status == "ok"
    expected = np.arange(1, 21) * 1e-6  # rel_error of seed s is (1 + s) 1e-6
    np.testing.assert_allclose(good.trials["metrics"]["rel_error"], expected, rtol=1e-4)
    assert good.trials["seeds"] == list(range(20)) and len(good.trials["seconds"]) == 20
    p10, p90 = np.percentile(expected, [10, 90])
    spread = good.trials["spread"]["rel_error"]
    assert spread["p10"] == pytest.approx(p10, rel=1e-4) and spread["p90"] == pytest.approx(p90, rel=1e-4)
    assert good.metrics["rel_error"] == pytest.approx(np.median(expected), rel=1e-4)

    bad = run_cell(cells[(("bad_seed", 3), ("seed", 0))], tmp_path)
    assert bad.status == "nan" and "seed 3 of 20" in bad.reason
    assert bad.trials["failed"][0]["seed"] == 3


def test_a_deterministic_method_runs_once_whatever_trials_says(tmp_path, probe):
    cell = next(c for c in _cells(_suite(tmp_path, PROBE_TRIALS)) if c.method == "sleep")
    result = run_cell(cell, tmp_path)
    assert result.status == "ok" and result.trials is None
    assert "trials" not in result.to_dict()


SVD_TRIALS = """
name: t
benchmarks:
  - name: seeds
    task: svd_topk
    trials: 20
    problems:
      generator: lowrank_decay
      params: {m: 300, n: 120, effective_rank: 8.0, decay: polynomial, tail_strength: 0.05}
      task_params: {k: 8}
    methods:
      - randomized_svd: {backend: numpy, p: 2, q: 0}
    dtypes: [float64]
    timing: {min_time: 0.0, max_time: 0.05, min_repeats: 1}
"""


def test_randomized_svd_range_over_20_seeds_matches_20_direct_calls(tmp_path):
    """The record's 10-90% range of every metric against 20 calls of the method made
    here, with seeds 0..19."""
    (cell,) = _cells(_suite(tmp_path, SVD_TRIALS))
    result = run_cell(cell, tmp_path)
    assert result.status == "ok", result.reason
    inputs = problem_data(cell.problem).inputs
    task = registry.TASKS["svd_topk"]
    reference = registry.METHODS[("svd_topk", "reference")].fn(np.array(inputs["A"]), 8)
    fn = registry.METHODS[("svd_topk", "randomized_svd")].fn
    params = {k: v for k, v in cell.method_params if k != "seed"}
    direct: dict[str, list[float]] = {}
    for seed in range(20):
        out = fn(np.array(inputs["A"]), 8, **params, seed=seed)
        for name, value in task.score(out, reference, inputs).items():
            direct.setdefault(name, []).append(value)
    assert len(set(np.round(direct["optimality_ratio"], 12))) > 10  # the seeds differ
    for name, values in direct.items():
        p10, p90 = np.percentile(values, [10, 90])
        got = result.trials["spread"][name]
        assert got["p10"] == pytest.approx(p10, rel=1e-6, abs=1e-12), name
        assert got["p90"] == pytest.approx(p90, rel=1e-6, abs=1e-12), name


def test_compare_judges_accuracy_on_the_seed_distributions():
    from matrixbench.compare import metric_changes

    rng = np.random.default_rng(0)

    def rec(values):
        return {"metrics": {"err": float(np.median(values))}, "dtype": "float64",
                "trials": {"metrics": {"err": [float(v) for v in values]}}}

    wide = rng.lognormal(0, 1.0, 20)
    # the head's median is 1.7x the base's, but the two seed samples overlap: no change
    base, head = rec(wide), rec(wide * rng.permutation(np.r_[np.full(10, 1.0), np.full(10, 3.0)]))
    assert float(np.median(head["trials"]["metrics"]["err"])) / float(np.median(wide)) > 1.5
    assert metric_changes("k", base, head, {"err": "lower"}, 0.5) == []
    # every seed 3x worse: a regression, with the test named
    (change,) = metric_changes("k", base, rec(wide * 3), {"err": "lower"}, 0.5)
    assert change.regression and "Mann-Whitney" in change.test


# ------------------------------------------------------------------ the file generator

FILE_SUITE = """
name: f
benchmarks:
  - name: files
    task: probe
    problems:
      - {{generator: file, params: {{path: {npy}}}}}
      - {{generator: file, params: {{path: {npz}, name: B}}}}
      - {{generator: file, params: {{path: {mtx}}}}}
    methods: [reference]
    dtypes: [float64]
    timing: {{min_time: 0.0, max_time: 0.05, min_repeats: 1}}
"""


def _files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(3)
    paths = {"npy": tmp_path / "a.npy", "npz": tmp_path / "b.npz", "mtx": tmp_path / "c.mtx"}
    np.save(paths["npy"], rng.standard_normal((6, 6)))
    np.savez(paths["npz"], A=np.zeros((2, 2)), B=rng.standard_normal((5, 5)))
    scipy.io.mmwrite(str(paths["mtx"]), scipy.sparse.random(7, 7, density=0.3, random_state=1, format="coo"))
    return paths


def test_file_generator_reads_npy_npz_and_mtx_and_keys_them_by_content(tmp_path, probe):
    paths = _files(tmp_path)
    suite = _suite(tmp_path, FILE_SUITE.format(**{k: str(v) for k, v in paths.items()}))
    cells = _cells(suite)
    assert len(cells) == 3 and all("sha256=" in c.key for c in cells)
    for cell in cells:
        result = run_cell(cell, tmp_path / "cache")
        assert result.status == "ok" and result.metrics["rel_error"] < 1e-15, (cell.key, result.reason)
    mtx = next(c for c in cells if "c.mtx" in c.key)
    data = problem_data(mtx.problem)
    assert scipy.sparse.issparse(data.inputs["A"])  # kept sparse
    np.testing.assert_array_equal(data.inputs["A"].toarray(), scipy.io.mmread(str(paths["mtx"])).toarray())
    old_ref = reference_path(data, tmp_path / "cache")
    assert old_ref.exists()

    # new content: a new key, a new reference (the old one is not reused)
    scipy.io.mmwrite(str(paths["mtx"]), scipy.sparse.random(7, 7, density=0.5, random_state=2, format="coo"))
    again = next(c for c in _cells(suite) if "c.mtx" in c.key)
    assert again.key != mtx.key
    new_data = problem_data(again.problem)
    assert reference_path(new_data, tmp_path / "cache") != old_ref
    assert run_cell(again, tmp_path / "cache").status == "ok"
    assert reference_path(new_data, tmp_path / "cache").exists()

    # a file changed between planning and running is refused, not measured
    np.save(paths["npy"], np.ones((6, 6)))
    stale = next(c for c in cells if "a.npy" in c.key)
    execute._PROBLEM.clear()
    with pytest.raises(ValueError, match="changed since the suite was planned"):
        run_cell(stale, tmp_path / "cache")


def test_file_generator_refusals_are_plain(tmp_path, run_cli):
    paths = _files(tmp_path)
    missing = _suite(tmp_path, FILE_SUITE.format(npy=tmp_path / "nope.npy", npz=paths["npz"], mtx=paths["mtx"]))
    res = run_cli("validate", str(missing))
    assert res.returncode == 2 and "no file" in res.stderr and "nope.npy" in res.stderr
    pinned = _suite(tmp_path, FILE_SUITE.format(npy=paths["npy"], npz=paths["npz"], mtx=paths["mtx"]).replace(
        "path: " + str(paths["npy"]), "path: " + str(paths["npy"]) + ", sha256: 0123abcd"), "p.yaml")
    res = run_cli("validate", str(pinned))
    assert res.returncode == 2 and "the suite pins 0123abcd" in res.stderr
    two = _suite(tmp_path, FILE_SUITE.format(npy=paths["npy"], npz=paths["npz"], mtx=paths["mtx"]).replace(
        ", name: B", ""), "two.yaml")
    res = run_cli("run", str(two), "--filter", "b.npz", "--no-table")
    assert res.returncode == 1, res.stderr
    # the reason is in the record (the console wraps it to the terminal's width)
    newest = max((tmp_path / "results").glob("*/*.json"), key=lambda p: p.stat().st_mtime)
    (cell,) = json.loads(newest.read_text())["results"]
    assert cell["status"] == "error" and "holds 2 arrays" in cell["reason"], cell


def test_the_shipped_sparse_matrix_matches_its_catalog_and_plans(tmp_path):
    from matrixbench.generators.files import content_hash, locate, read_matrix
    from matrixbench.generators.real_data import read_catalog

    entry = read_catalog()["digits_knn"]
    path = locate(entry["file"])
    assert content_hash(path) == entry["sha256"]
    A = read_matrix(path)
    assert scipy.sparse.issparse(A) and list(A.shape) == entry["shape"]
    assert abs(A - A.T).max() == 0 and abs(scipy.sparse.linalg.eigsh(A, k=1)[0][0] - 1) < 1e-8
    cells = [c for c in plan(load_suites(["suites/svd_topk.yaml"]), entries=["svd_topk-file"])]
    assert cells and all(f"sha256={entry['sha256'][:16]}" in c.key for c in cells)


# ------------------------------------------------------------------ export, load, dry run, kinds

PROBE_RUN = """
name: r
benchmarks:
  - name: r
    task: probe
    trials: 5
    problems: {generator: probe_gaussian, params: {n: [4, 6]}}
    methods: [reference, seeded, sleep, nan]
    dtypes: [float64]
    timing: {min_time: 0.02, max_time: 0.1, min_repeats: 5}
"""


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    import subprocess
    import sys

    from conftest import cli_env

    tmp = tmp_path_factory.mktemp("run")
    _suite(tmp, PROBE_RUN, "r.yaml")
    env = cli_env(MATRIXBENCH_MACHINE="m1")
    first = subprocess.run([sys.executable, "-m", "matrixbench", "run", "r.yaml", "--dry-run"], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=300)
    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "r.yaml", "--no-table"], cwd=tmp, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr  # the nan cells
    (path,) = (tmp / "results" / "m1").glob("*.json")
    return tmp, path, first, env


def test_dry_run_prints_the_cells_and_an_estimate_that_learns_from_history(one_run):
    import subprocess
    import sys

    tmp, path, first, env = one_run
    assert first.returncode == 0 and first.stdout.count("probe/probe_gaussian") == 8
    assert "8 cells, estimated" in first.stdout and "8 from their timing settings" in first.stdout
    again = subprocess.run([sys.executable, "-m", "matrixbench", "run", "r.yaml", "--dry-run"], cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=300)
    assert "8 cells from earlier runs (1 run files" in again.stdout
    walls = sum(r["wall"] for r in json.loads(path.read_text())["results"])
    m, s = (int(x) for x in again.stdout.split("estimated ")[1].split("s:")[0].split("m"))
    assert m * 60 + s >= round(walls) - 1  # at least the cells' own time, plus the run's overhead
    assert len(list((tmp / "results" / "m1").glob("*.json"))) == 1  # a dry run writes nothing


def test_kinds_select_methods_by_kind(one_run, run_cli):
    tmp, *_ = one_run
    res = run_cli("run", str(tmp / "r.yaml"), "--dry-run", "--kinds", "reference")
    assert res.returncode == 0 and res.stdout.count("/reference()/") == 2 and "8 cells" not in res.stdout
    res = run_cli("run", str(tmp / "r.yaml"), "--dry-run", "--kinds", "fancy")
    assert res.returncode == 2 and "unknown kind 'fancy'" in res.stderr


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_and_load_round_trip_every_cell(one_run, run_cli, fmt):
    import matrixbench

    tmp, path, *_ = one_run
    out = tmp / f"cells.{fmt}"
    res = run_cli("export", str(path), "-o", str(out))
    assert res.returncode == 0 and f"8 cells of 1 run file(s) written to {out}" in res.stdout
    run = json.loads(path.read_text())
    if fmt == "csv":
        with open(out) as fh:
            rows = list(csv.DictReader(fh))
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        import pandas as pd

        rows = pd.read_parquet(out).to_dict("records")
    assert [r["key"] for r in rows] == [r["key"] for r in run["results"]]
    df = matrixbench.load(path)
    for record, row, frame_row in zip(run["results"], rows, df.to_dict("records")):
        assert row["status"] == record["status"] == frame_row["status"]
        if record["status"] != "ok":
            continue
        assert float(row["time_median"]) == record["time"]["median"] == frame_row["time_median"]
        for name, value in record["metrics"].items():
            assert float(row[f"metric.{name}"]) == value == frame_row[f"metric.{name}"]
        assert float(row["problem.n"]) == record["problem"]["params"]["n"]
        if record.get("trials"):
            assert float(row["metric.rel_error.p90"]) == record["trials"]["spread"]["rel_error"]["p90"]
        if record["time"].get("median_ci"):  # from 5 samples on (a loaded machine may stop short of that)
            lo, hi = record["time"]["median_ci"]
            assert lo <= record["time"]["median"] <= hi
            assert float(row["time_median_low"]) == lo and float(row["time_median_high"]) == hi


def test_export_refuses_an_unknown_format_and_a_bad_file(tmp_path, run_cli):
    res = run_cli("export", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.csv"))
    assert res.returncode == 2 and "missing.json" in res.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    res = run_cli("export", str(bad), "-o", str(tmp_path / "x.xls"))
    assert res.returncode == 2 and "--format" in res.stderr
