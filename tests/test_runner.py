"""The runner end to end on the test-only probe task: statuses, timing, memory, run file."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np

from matrixbench.store import read_run

FAULTY = """\
name: faulty
task: probe
problems:
  generator: probe_gaussian
  params: {n: 6}
methods: [reference, sleep, raises, hangs, dies, nan, stalls, noisy, torch_double, alloc]
dtypes: [float64]
devices: [cpu, cuda]
gates: {rel_error: {float64: 1.0e-6}}
timing: {timeout: 4, min_time: 0.3, max_time: 1.0}
"""


def only_run_file(tmp_path: Path) -> Path:
    files = list((tmp_path / "results").glob("*/*.json"))
    assert len(files) == 1, files
    return files[0]


def test_every_failure_costs_one_cell(run_cli, tmp_path):
    (tmp_path / "faulty.yaml").write_text(FAULTY)
    res = run_cli("run", "faulty.yaml")
    assert res.returncode == 1, res.stderr  # some cells are not ok
    run = read_run(only_run_file(tmp_path))
    status = {(r["method"]["name"], r["device"]): r for r in run["results"]}
    assert status[("raises", "cpu")]["status"] == "error"
    assert "deliberate failure" in status[("raises", "cpu")]["reason"]
    assert status[("hangs", "cpu")]["status"] == "timeout"
    assert status[("dies", "cpu")]["status"] == "crashed"
    assert "SIGKILL" in status[("dies", "cpu")]["reason"]
    assert status[("nan", "cpu")]["status"] == "nan"
    # a finite answer that says it did not converge: inaccurate, with its reason, still timed
    stalls = status[("stalls", "cpu")]
    assert stalls["status"] == "inaccurate" and stalls["reason"] == "no convergence after 100 steps"
    assert stalls["time"]["count"] >= 1 and stalls["metrics"]["iterations"] == 100.0
    for name in ("reference", "sleep", "noisy", "torch_double", "alloc"):
        assert status[(name, "cpu")]["status"] == "ok", status[(name, "cpu")]
    # cuda cells: skipped with a reason on this CPU-only machine (or unsupported by the method)
    assert all(r["status"] == "skipped" and r["reason"] for (m, d), r in status.items() if d == "cuda")
    assert run["run"]["complete"] is True
    assert "run file:" in res.stdout and "cells that are not ok" in res.stdout

    # the 10 ms sleep is reported within 5% of 10 ms
    sleep = status[("sleep", "cpu")]["time"]
    assert abs(sleep["median"] - 0.010) / 0.010 < 0.05, sleep["median"]
    assert sleep["count"] == len(sleep["samples"]) >= 5
    assert np.isclose(np.median(sleep["samples"]), sleep["median"])

    # metrics are computed against the reference: noisy is off by a relative 1e-9
    assert np.isclose(status[("noisy", "cpu")]["metrics"]["rel_error"], 1e-9, rtol=1e-3)
    assert status[("torch_double", "cpu")]["metrics"]["iterations"] == 1.0

    # the 64 MiB scratch buffer shows in the peak memory (within a few hundred KiB: pages freed during the call)
    peak = status[("alloc", "cpu")]["memory"]["peak_bytes"]
    assert 0.98 * 64 * 2**20 <= peak < 1.03 * 64 * 2**20, peak


def test_flops_give_achieved_rate(run_cli, tmp_path):
    (tmp_path / "s.yaml").write_text(FAULTY.replace("methods: [reference, sleep, raises, hangs, dies, nan, stalls, noisy, torch_double, alloc]", "methods: [reference]"))
    assert run_cli("run", "s.yaml", "--quick", "--device", "cpu").returncode == 0
    r = read_run(only_run_file(tmp_path))["results"][0]
    assert r["flops"] == 36  # the probe's model: one FLOP per entry of a 6 x 6 input
    assert np.isclose(r["gflops"], 36 / r["time"]["median"] / 1e9)


def test_gate_marks_inaccurate(run_cli, tmp_path):
    suite = FAULTY.replace("methods: [reference, sleep, raises, hangs, dies, nan, stalls, noisy, torch_double, alloc]", "methods: [noisy]")
    (tmp_path / "s.yaml").write_text(suite)
    res = run_cli("run", "s.yaml", "--quick", "--device", "cpu", MB_PROBE_ERROR="1e-3")
    assert res.returncode == 1
    r = read_run(only_run_file(tmp_path))["results"][0]
    assert r["status"] == "inaccurate"
    assert "rel_error 0.001 > gate 1e-06" in r["reason"]


def test_run_file_is_valid_json_with_environment(run_cli, tmp_path):
    (tmp_path / "s.yaml").write_text(FAULTY.replace("methods: [reference, sleep, raises, hangs, dies, nan, stalls, noisy, torch_double, alloc]", "methods: [reference]"))
    assert run_cli("run", "s.yaml", "--quick", "--threads", "1", "--device", "cpu").returncode == 0
    data = json.loads(only_run_file(tmp_path).read_text())
    env = data["environment"]
    assert env["machine"]["cores_logical"] >= 1 and env["software"]["numpy"]
    assert data["results"][0]["threads"]["requested"] == 1
    assert data["results"][0]["threads"]["torch"] == 1


SPARSE = """\
name: sparse
task: probe
problems:
  generator: probe_sparse
  params: {n: 50, density: 0.1}
methods: [reference, sparse_double, torch_sparse_double, sleep]
dtypes: [float32, float64]
devices: [cpu]
timing: {min_time: 0.01, max_time: 0.05}
"""


def test_sparse_inputs_reach_sparse_methods_as_such(run_cli, tmp_path):
    import scipy.sparse as sp

    (tmp_path / "sparse.yaml").write_text(SPARSE)
    res = run_cli("run", "sparse.yaml")
    assert res.returncode == 0, res.stderr
    run = read_run(only_run_file(tmp_path))
    by = {(r["method"]["name"], r["dtype"]): r for r in run["results"]}
    # an independent copy of the problem: the same seeded generator call
    A = sp.random(50, 50, density=0.1, random_state=np.random.default_rng(0), format="csr")
    for dtype, size in (("float32", 4), ("float64", 8)):
        for name in ("reference", "sparse_double", "torch_sparse_double"):
            r = by[(name, dtype)]
            assert r["status"] == "ok", r
            itemsize = size  # every method, the reference too, gets the cell's dtype
            indices = 4 if name != "torch_sparse_double" else 8  # SciPy int32, torch int64
            io = r["io"]
            assert io["sparse"] is True
            assert io["input_bytes"] == A.nnz * itemsize + (A.nnz + 51) * indices
            assert io["output_bytes"] == 50 * 50 * itemsize  # the dense 2 A in the cell's dtype
        assert by[("sparse_double", dtype)]["metrics"]["nnz"] == A.nnz
        assert by[("sparse_double", dtype)]["metrics"]["itemsize"] == size
        assert by[("torch_sparse_double", dtype)]["metrics"]["itemsize"] == size
        assert by[("sparse_double", dtype)]["metrics"]["rel_error"] < (1e-6 if size == 4 else 1e-15)
        skipped = by[("sleep", dtype)]
        assert skipped["status"] == "skipped"
        assert skipped["reason"] == "method 'sleep' takes dense inputs only and this problem is sparse"


TWO_ENTRIES = """\
name: two
benchmarks:
  - name: small
    task: probe
    problems: {generator: probe_gaussian, params: {n: [3, 4]}}
    methods: [reference, sleep]
    dtypes: [float64]
    devices: [cpu]
    timing: {min_time: 0.01, max_time: 0.05}
  - name: large
    task: probe
    problems: {generator: probe_gaussian, params: {n: [4, 6]}}
    methods: [reference]
    dtypes: [float64]
    devices: [cpu]
    timing: {min_time: 0.01, max_time: 0.05}
"""


def test_entry_runs_one_benchmark_of_a_suite(run_cli, tmp_path):
    # n = 4 / reference is a cell of both entries: a key filter cannot tell them apart
    (tmp_path / "two.yaml").write_text(TWO_ENTRIES)
    res = run_cli("run", "two.yaml", "--entry", "large")
    assert res.returncode == 0, res.stderr
    run = read_run(only_run_file(tmp_path))
    got = sorted((r["entry"], r["problem"]["params"]["n"], r["method"]["name"]) for r in run["results"])
    assert got == [("large", 4, "reference"), ("large", 6, "reference")]
    assert run["run"]["options"]["entry"] == ["large"]
    bad = run_cli("run", "two.yaml", "--entry", "lage")
    assert bad.returncode == 2
    assert "no benchmark 'lage'" in bad.stderr and "did you mean 'large'?" in bad.stderr
