"""Trustworthy verdicts end to end: every faulty method costs its own cell, nothing is lost
to an interruption, inputs are never altered, and exit codes tell the truth."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from conftest import cli_env
from matrixbench.store import read_run

CORRECT = ["reference", "sleep", "torch_double", "stalls"]
FAULTY = ["raises", "hangs", "dies", "nan", "aborts", "segfaults", "exits", "inf", "overflows", "nan_info", "wrong_shape",
          "scalar", "returns_none", "upcasts", "scribbles", "torch_scribbles", "leaks_thread"]

SUITE = """\
task: probe
problems:
  - generator: probe_gaussian
    params: {{n: 5}}
methods: [{methods}]
dtypes: [{dtypes}]
timing: {{min_time: 0.01, max_time: 0.05, timeout: 3}}
"""

#: What each faulty method must get, with a word of its reason.
EXPECTED = {
    "raises": ("error", "deliberate failure"), "hangs": ("timeout", "timeout"), "dies": ("crashed", "SIGKILL"),
    "nan": ("nan", "NaN or Inf"), "aborts": ("crashed", "SIGABRT"), "segfaults": ("crashed", "SIGSEGV"),
    "exits": ("crashed", "code 3"), "inf": ("nan", "NaN or Inf"), "overflows": ("nan", "NaN or Inf"),
    "nan_info": ("nan", "iterations"), "wrong_shape": ("error", "shape (1,"), "scalar": ("error", "expected"),
    "returns_none": ("error", "None"), "scribbles": ("error", "wrote into its input"),
    "torch_scribbles": ("error", "wrote into its input"), "leaks_thread": ("ok", ""),
}


def _run_file(tmp_path: Path) -> dict:
    files = list((tmp_path / "results").glob("*/*.json"))
    assert len(files) == 1, files
    return read_run(files[0])


def test_faulty_methods_cost_one_cell_each_and_leave_correct_cells_untouched(run_cli, tmp_path):
    # every method in float64 (a crash or a hang costs a worker start, whatever the dtype),
    # and the one whose fault is the dtype in float32 as well
    (tmp_path / "all.yaml").write_text(
        "name: all\nbenchmarks:\n"
        + "".join("  - " + body.replace("\n", "\n    ").rstrip() + "\n" for body in (
            "name: every\n" + SUITE.format(methods=", ".join(CORRECT + FAULTY), dtypes="float64"),
            "name: dtype\n" + SUITE.format(methods="upcasts", dtypes="float32"))))
    res = run_cli("run", "all.yaml", "--no-table", timeout=600)
    assert res.returncode == 1, res.stderr
    run = _run_file(tmp_path)
    assert run["run"]["complete"] is True
    by = {(r["problem"]["generator"], r["method"]["name"], r["dtype"]): r for r in run["results"]}
    assert len(by) == len(CORRECT + FAULTY) + 1
    for (gen, name, dtype), r in by.items():
        if name in EXPECTED:
            status, word = EXPECTED[name]
            assert r["status"] == status and word in r["reason"], (gen, name, dtype, r["status"], r["reason"])
            if status not in ("ok", "inaccurate"):
                assert r["time"] is None and r["gflops"] is None, "a cell that failed shows no time"
    # float64 holds 1e308, and the error overflows: the metric is named
    assert "rel_error" in by[("probe_gaussian", "overflows", "float64")]["reason"]
    # upcasts: float64 is what it was asked for; float32 is not what it computed in
    assert by[("probe_gaussian", "upcasts", "float64")]["status"] == "ok"
    assert "not the cell's float32" in by[("probe_gaussian", "upcasts", "float32")]["reason"]
    # the leaked busy thread is noted and the worker replaced
    assert any("thread" in n for n in by[("probe_gaussian", "leaks_thread", "float64")]["notes"])

    (tmp_path / "results").rename(tmp_path / "with_faulty")
    (tmp_path / "good.yaml").write_text(SUITE.format(methods=", ".join(CORRECT), dtypes="float64"))
    assert run_cli("run", "good.yaml", "--no-table").returncode == 1  # stalls is inaccurate, as in the big run
    clean = {r["key"]: r for r in _run_file(tmp_path)["results"]}
    mixed = {r["key"]: r for r in run["results"]}
    for key, r in clean.items():
        assert mixed[key]["status"] == r["status"] and mixed[key]["metrics"] == r["metrics"], key
        assert mixed[key]["input_checksum"] == r["input_checksum"], key


def test_zero_matrix_stores_null_and_the_run_goes_on(run_cli, tmp_path):
    # The probe task scores ||X - 2A|| / ||2A||: 0/0 on the zero matrix. No traceback, no
    # lost cell: status nan naming the metric, the value stored as null, later cells run.
    (tmp_path / "z.yaml").write_text("task: probe\nproblems:\n  - generator: probe_zero\n    params: {n: 4}\n"
                                     "  - generator: probe_gaussian\n    params: {n: 4}\n"
                                     "methods: [reference, sleep]\ntiming: {min_time: 0.01, max_time: 0.02}\n")
    res = run_cli("run", "z.yaml")
    assert res.returncode == 1, res.stderr
    results = _run_file(tmp_path)["results"]
    zero = [r for r in results if r["problem"]["generator"] == "probe_zero"]
    assert all(r["status"] == "nan" and "rel_error" in r["reason"] and r["metrics"]["rel_error"] is None for r in zero)
    assert [r["status"] for r in results if r["problem"]["generator"] == "probe_gaussian"] == ["ok", "ok"]


def test_invalid_problem_and_inapplicable_method(run_cli, tmp_path):
    (tmp_path / "v.yaml").write_text("task: probe\nproblems:\n  - generator: probe_nonfinite\n    params: {n: 4}\n"
                                     "  - generator: probe_rect\n    params: {m: 4, n: 3}\n"
                                     "methods: [reference, square_only]\ntiming: {min_time: 0.01, max_time: 0.02}\n")
    res = run_cli("run", "v.yaml")
    assert res.returncode == 1
    by = {(r["problem"]["generator"], r["method"]["name"]): r for r in _run_file(tmp_path)["results"]}
    assert by[("probe_nonfinite", "reference")]["status"] == "invalid"
    assert "1 non-finite" in by[("probe_nonfinite", "square_only")]["reason"]
    assert by[("probe_rect", "square_only")]["status"] == "skipped"
    assert "4 x 3" in by[("probe_rect", "square_only")]["reason"]
    assert by[("probe_rect", "reference")]["status"] == "ok"


def test_reference_cache_follows_the_inputs(probe, tmp_path):
    # The cache key is the inputs' checksum: a change anywhere upstream (the generator, a
    # helper it imports, a data file) gives another key, never a stale reference.
    from matrixbench.execute import ProblemData, checksum, reference_path
    from matrixbench.plan import Problem

    problem = Problem("probe", "probe_gaussian", (("n", 4), ("scale", 1.0)), 0, (("offset", 0.0),))
    a = np.arange(16.0).reshape(4, 4)
    one = ProblemData(problem, {"A": a, "offset": 0.0}, checksum({"A": a, "offset": 0.0}), None)
    b = a.copy()
    b[0, 0] += 1e-12
    two = ProblemData(problem, {"A": b, "offset": 0.0}, checksum({"A": b, "offset": 0.0}), None)
    assert reference_path(one, tmp_path) != reference_path(two, tmp_path)
    assert reference_path(one, tmp_path) == reference_path(ProblemData(problem, {"A": a.copy(), "offset": 0.0},
                                                                       one.checksum, None), tmp_path)


def test_method_versions_cover_imported_helpers(tmp_path, monkeypatch):
    # A method's version changes when a project module it imports changes.
    pkg = tmp_path / "mbv_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("def f():\n    return 1\n")
    (pkg / "meth.py").write_text("from .helper import f\n\ndef run():\n    return f()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    code = ("import sys; sys.path.insert(0, %r); import mbv_pkg.meth as m; "
            "from matrixbench.sources import closure_hash; print(closure_hash('mbv_pkg.meth'))") % str(tmp_path)
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    (pkg / "helper.py").write_text("def f():\n    return 2\n")
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert first.strip() and first != second


# ------------------------------------------------------------------ interruptions

RESUMABLE = """\
task: probe
problems:
  generator: probe_gaussian
  params: {n: [4, 5, 6, 7]}
methods: [reference, {sleep: {ms: [20, 300]}}]
timing: {min_time: 0.05, max_time: 0.1, rounds: 2, timeout: 30}
"""


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_kill_9_at_random_moments_then_resume(tmp_path):
    (tmp_path / "s.yaml").write_text(RESUMABLE)
    rng = random.Random(20261130)
    run_path: Path | None = None
    finished: dict[str, str] = {}
    for _ in range(4):
        args = ["--resume", str(run_path)] if run_path else ["s.yaml"]
        proc = subprocess.Popen([sys.executable, "-m", "matrixbench", "run", *args, "--no-table"], cwd=tmp_path,
                                env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120  # the first run: kill only once it has a run file (start-up is slow under load)
        while run_path is None and not list((tmp_path / "results").glob("*/*.json")) and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 4.0))
        children = _descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)  # the runner alone: its worker must notice and die too
        proc.wait()
        gone, alive = psutil.wait_procs(children, timeout=5)
        alive = [p for p in alive if _running(p)]  # a zombie has exited; init reaps it when it can
        assert not alive, f"worker(s) left running after kill -9 of the runner: {alive}"
        files = list((tmp_path / "results").glob("*/*.json"))
        if files:
            run_path = files[0]
            for r in read_run(run_path)["results"]:  # a valid file after every kill
                if r["key"] in finished:
                    assert r["finished"] >= finished[r["key"]]
                finished[r["key"]] = r["finished"]
    assert run_path is not None
    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "--resume", str(run_path), "--no-table"],
                         cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    final = read_run(run_path)
    keys = [r["key"] for r in final["results"]]
    assert len(keys) == len(set(keys)) == 12 and final["run"]["complete"] is True
    assert all(len(r["time"]["rounds"]) == 2 for r in final["results"]), "every cell has both rounds"
    leftovers = [p.name for p in run_path.parent.iterdir() if p.name != run_path.name]
    assert leftovers == [], f"temporary or lock files left: {leftovers}"


def test_two_resumes_of_one_file_cannot_both_write(tmp_path):
    (tmp_path / "s.yaml").write_text(RESUMABLE)
    first = subprocess.Popen([sys.executable, "-m", "matrixbench", "run", "s.yaml", "--no-table"], cwd=tmp_path,
                             env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not list((tmp_path / "results").glob("*/*.json")) and time.time() < deadline:
            time.sleep(0.05)
        run_path = list((tmp_path / "results").glob("*/*.json"))[0]
        second = subprocess.run([sys.executable, "-m", "matrixbench", "run", "--resume", str(run_path)], cwd=tmp_path,
                                env=cli_env(), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "another matrixbench is writing" in second.stderr and f"pid {first.pid}" in second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    assert len(read_run(run_path)["results"]) == 12


def test_plan_limits_and_empty_filters_are_usage_errors(cli_here, tmp_path):
    (tmp_path / "s.yaml").write_text(RESUMABLE)
    code, _, err = cli_here("run", "s.yaml", "--filter", "nothing-matches-this")
    assert code == 2 and "no cell matches" in err
    code, _, err = cli_here("run", "s.yaml", "--max-cells", "5")
    assert code == 2 and "max-cells" in err


def test_filtered_resume_of_an_unfiltered_run_stays_incomplete(tmp_path):
    (tmp_path / "s.yaml").write_text(RESUMABLE.replace("rounds: 2", "rounds: 1").replace("300", "30"))
    proc = subprocess.Popen([sys.executable, "-m", "matrixbench", "run", "s.yaml", "--no-table"], cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    path = None
    while time.time() < deadline:
        files = list((tmp_path / "results").glob("*/*.json"))
        if files and len(read_run(files[0])["results"]) >= 2:
            path = files[0]
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert path is not None
    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "--resume", str(path), "--filter", "n=7",
                          "--no-table"], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    run = read_run(path)
    assert run["run"]["complete"] is False and len(run["results"]) < 12
    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "--resume", str(path), "--no-table"],
                         cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert read_run(path)["run"]["complete"] is True and len(read_run(path)["results"]) == 12


@pytest.mark.parametrize("option,value", [("--threads", "-1"), ("--threads", "0"), ("--timeout", "-1"),
                                          ("--timeout", "0"), ("--rounds", "0"), ("--timeout", "nan")])
def test_numeric_options_are_validated(cli_here, option, value):
    code, _, err = cli_here("run", "ci", option, value)
    assert code == 2 and option in err, err


# ------------------------------------------------------------------ hostile matrices, shipped tasks

SQRTM_METHODS = ["reference", "scipy_sqrtm", "newton_schulz", "denman_beavers", "mtp", "mpa"]


def test_sqrtm_zero_nonsymmetric_and_indefinite_matrices(run_cli, tmp_path):
    (tmp_path / "s.yaml").write_text(
        "task: sqrtm\nproblems:\n  - generator: probe_zero\n    params: {n: 8}\n"
        "  - generator: probe_nonsymmetric\n    params: {n: 8}\n  - generator: probe_indefinite\n    params: {n: 8}\n"
        f"methods: [{', '.join(SQRTM_METHODS)}]\ndtypes: [float64]\ndevices: [cpu]\n"
        "timing: {min_time: 0.01, max_time: 0.02}\n")
    res = run_cli("run", "s.yaml", "--no-table")
    assert res.returncode == 1, res.stderr  # invalid problems are not ok
    by = {(r["problem"]["generator"], r["method"]["name"]): r for r in _run_file(tmp_path)["results"]}
    assert {name for _, name in by} == set(SQRTM_METHODS)
    for name in SQRTM_METHODS:  # the exact answer (0) from every method, scored 0, not 0/0
        zero = by[("probe_zero", name)]
        assert zero["status"] == "ok" and zero["metrics"]["rel_error"] == 0.0, (name, zero["status"], zero["reason"])
    for name in SQRTM_METHODS:
        bad = by[("probe_nonsymmetric", name)]
        assert bad["status"] == "invalid" and "not symmetric" in bad["reason"], bad["reason"]
        # the skew part K is 0.4 ||S||_F and orthogonal to S: ||A - A^T|| / ||A|| = 0.8 / sqrt(1 + 0.4^2)
        assert f"{0.8 / np.sqrt(1.16):.2g}" in bad["reason"], bad["reason"]
        indefinite = by[("probe_indefinite", name)]
        assert indefinite["status"] == "invalid" and "positive semidefinite" in indefinite["reason"], indefinite["reason"]


LSTSQ_EXACT = ["reference", "numpy_lstsq", "torch_lstsq", "scipy_lstsq"]


@pytest.mark.parametrize("params", ["{m: 200, n: 10, zero_solution: true}", "{m: 12, n: 12}",
                                    "{m: 200, n: 10, consistent: true}"])
def test_lstsq_zero_solution_and_square_systems(run_cli, tmp_path, params):
    (tmp_path / "l.yaml").write_text(
        f"task: lstsq\nproblems:\n  generator: probe_lstsq\n  params: {params}\n"
        f"methods: [{', '.join(LSTSQ_EXACT)}, sketch_and_solve]\ndtypes: [float64]\ndevices: [cpu]\n"
        "gates: {rel_error: {float64: 1.0e-8}}\ntiming: {min_time: 0.01, max_time: 0.02}\n")
    run_cli("run", "l.yaml", "--no-table")
    by = {r["method"]["name"]: r for r in _run_file(tmp_path)["results"]}
    for name in LSTSQ_EXACT:  # right answers are never inaccurate
        assert by[name]["status"] == "ok", (name, by[name]["status"], by[name]["reason"], by[name]["metrics"])
    rough = by["sketch_and_solve"]
    if "zero_solution" in params:  # a rough answer (x* = 0, b far from range(A)) is never ok under a 1e-8 gate
        assert rough["status"] == "inaccurate", (rough["status"], rough["metrics"])
    elif "consistent" in params:  # b in range(A): sketch-and-solve is exact, and a right answer is ok
        assert rough["status"] == "ok", (rough["status"], rough["reason"])
    else:  # a square system: a sketch of more than m rows does not apply
        assert rough["status"] == "skipped", (rough["status"], rough["reason"])


@pytest.mark.parametrize("k", [4, 6])
def test_svd_topk_at_full_rank(run_cli, tmp_path, k):
    # k = rank (4) of a 6 x 6 rank-4 matrix, and k = min(m, n) = 6: exact methods are ok.
    (tmp_path / "t.yaml").write_text(
        "task: svd_topk\nproblems:\n  generator: lowrank_noise\n  params: {m: 6, n: 6, rank: 4, noise: 0.0}\n"
        f"  task_params: {{k: {k}}}\nmethods: [reference, torch_svd, numpy_svd, lanczos]\ndtypes: [float64]\ndevices: [cpu]\n"
        "gates: {optimality_ratio: {float64: 1.1}}\ntiming: {min_time: 0.01, max_time: 0.02}\n")
    res = run_cli("run", "t.yaml", "--no-table")
    results = _run_file(tmp_path)["results"]
    for r in results:
        assert r["status"] in ("ok", "skipped"), (r["method"]["name"], r["status"], r["reason"], r["metrics"])
    assert res.returncode == 0


def test_input_checksums_cover_every_dtype_and_layout():
    # bfloat16 has no NumPy dtype, and sparse tensors have no plain buffer: both are hashed
    # by their bytes, and a one-entry change changes the checksum.
    import torch

    from matrixbench.execute import checksum

    a = torch.arange(12.0).reshape(3, 4)
    for t in (a.to(torch.bfloat16), a.to(torch.float16), a, a.to_sparse_csr(), a.to_sparse()):
        b = a.clone()
        b[0, 0] = 100.0
        changed = b.to(t.dtype) if t.layout == torch.strided else (b.to_sparse_csr() if t.layout == torch.sparse_csr
                                                                    else b.to_sparse())
        assert checksum({"A": t}) == checksum({"A": t.clone()}) != checksum({"A": changed}), t.dtype


def test_bfloat16_cells_run(run_cli, tmp_path):
    (tmp_path / "b.yaml").write_text("task: probe\nproblems:\n  generator: probe_gaussian\n  params: {n: 6}\n"
                                     "methods: [torch_double]\ndtypes: [bfloat16]\ntiming: {min_time: 0.01, max_time: 0.02}\n")
    res = run_cli("run", "b.yaml", "--no-table")
    assert res.returncode == 0, res.stdout + res.stderr
    (r,) = _run_file(tmp_path)["results"]
    assert r["status"] == "ok" and r["metrics"]["rel_error"] < 2**-7
