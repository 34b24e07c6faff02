"""End to end, in a scratch repository with two commits, the second making Newton-Schulz
about twice as slow and the Pade approximant less accurate (same speed): ``matrixbench
compare`` exits 1 naming both cells, pytest-benchmark with
``--benchmark-compare-fail=median:10%`` fails naming the slower one, and (where asv and
virtualenv are installed: the ``track`` extra) ``asv continuous`` reports the slower
benchmark and the changed ``track_rel_error`` and exits non-zero.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = """\
name: tiny
task: sqrtm
problems:
  generator: spd
  params: {n: 192, cond: 100.0}
methods: [reference, {newton_schulz: {iters: 12}}, {mpa: {degree: 8}}]
dtypes: [float64]
devices: [cpu]
threads: 1
timing: {min_time: 0.3, max_time: 0.6, rounds: 3}
"""
PROBLEM = "sqrtm/spd(batch=1,cond=100,n=192,spectrum=geometric;seed=0)/inverse=false"
CELL = f"{PROBLEM}/newton_schulz(iters=12)/torch/float64/cpu"
MPA = f"{PROBLEM}/mpa(degree=8)/torch/float64/cpu"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The working tree as commit 1; commit 2 adds three products per Newton-Schulz step (3 -> 6)."""
    repo = tmp_path_factory.mktemp("scratch")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for f in files:
        if (ROOT / f).is_file():
            (repo / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, repo / f)
    (repo / "suites" / "tiny.yaml").write_text(TINY)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    ns = repo / "implementations" / "sqrtm" / "newton_schulz.py"
    text = ns.read_text()
    step = "        Y, Z = Y @ T, T @ Z\n"
    assert step in text
    # three extra products per step (3 -> 6): twice the time, far outside the noise of a
    # shared 2-core CI machine, where a 33% slowdown once drifted under a 20% threshold
    ns.write_text(text.replace(step, step + "        (Y @ T).sum(), (T @ Z).sum(), (T @ T).sum()  # deliberately slower\n"))
    pade = repo / "implementations" / "sqrtm" / "pade.py"
    text = pade.read_text()
    last = "    return torch.linalg.solve_ex(Q, P)[0] * c.sqrt()\n"
    assert last in text
    pade.write_text(text.replace(last, "    return torch.linalg.solve_ex(Q, P)[0] * c.sqrt() * 1.5  # deliberately wrong\n"))
    git(repo, "commit", "-q", "-am", "slower Newton-Schulz, less accurate Pade")
    return repo


def run(repo: Path, *args: str, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "MATRIXBENCH_CALIBRATE": "0", "MATRIXBENCH_REPORT": "0", "MATRIXBENCH_CACHE": str(repo / ".cache"),
            **env}
    full.pop("MATRIXBENCH_PLUGINS", None)
    return subprocess.run(args, cwd=repo, env=full, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def measured(repo: Path) -> dict[str, subprocess.CompletedProcess]:
    """Both commits through matrixbench run and pytest-benchmark (the code of each commit:
    ``python -m`` from the scratch folder imports its own matrixbench)."""
    out = {}
    bench = ["-m", "pytest", "perf", "--benchmark-only", "--suite", "suites/tiny.yaml", "-p", "no:cacheprovider",
             "--benchmark-storage", str(repo / ".benchmarks"), "--benchmark-min-rounds", "20"]
    for name, commit in (("base", "HEAD~1"), ("head", "main")):
        git(repo, "checkout", "-q", commit)
        out[f"run_{name}"] = run(repo, sys.executable, "-m", "matrixbench", "run", "suites/tiny.yaml", "--results", f"r_{name}")
        extra = ["--benchmark-autosave"] if name == "base" else ["--benchmark-compare", "--benchmark-compare-fail=median:10%"]
        out[f"bench_{name}"] = run(repo, sys.executable, *bench, *extra)
    return out


def test_matrixbench_compare_names_the_slower_cell(repo, measured):
    assert measured["run_base"].returncode == 0, measured["run_base"].stderr
    assert measured["run_head"].returncode == 0, measured["run_head"].stderr
    base, head = (str(next((repo / f"r_{n}").glob("*/*.json"))) for n in ("base", "head"))
    # --threshold 0.2: the change doubles the time; a busy CI machine has drifted an
    # unchanged cell (the eigh reference) past the default 10% between two runs.
    res = run(repo, sys.executable, "-m", "matrixbench", "compare", "--threshold", "0.2", base, head)
    assert res.returncode == 1, res.stdout
    assert f"regression: time time (min): {CELL}" in res.stderr
    assert f"regression: accuracy rel_error: {MPA}" in res.stderr
    assert "reference()" not in res.stderr  # the unchanged method is not flagged
    assert "method source changed" in res.stdout


def test_pytest_benchmark_compare_fail_names_the_slower_cell(measured):
    assert measured["bench_base"].returncode == 0, measured["bench_base"].stdout[-3000:]
    head = measured["bench_head"]
    assert head.returncode != 0, head.stdout[-3000:]
    failed = [line for line in head.stdout.splitlines() + head.stderr.splitlines() if "Performance has regressed" in line
              or "median" in line and "newton_schulz" in line]
    assert any("newton_schulz(iters=12)" in line for line in failed), head.stdout[-3000:]


@pytest.mark.skipif(importlib.util.find_spec("asv") is None or importlib.util.find_spec("virtualenv") is None,
                    reason="asv and virtualenv are not installed (pip install -e '.[track]')")
def test_asv_continuous_reports_the_slower_benchmark(repo):
    git(repo, "checkout", "-q", "main")
    config = (repo / "asv.conf.json").read_text()
    assert '"benchmark_dir": "benchmarks"' in config
    asv = [sys.executable, "-m", "asv"]
    # asv keeps its machine file in ~: a scratch home, never the user's own; pip keeps its
    # cache where it was (the environments asv builds reuse the wheels already downloaded)
    home = {"HOME": str(repo / ".home"), "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))}
    (repo / ".home").mkdir(exist_ok=True)
    assert run(repo, *asv, "machine", "--yes", "--machine", "scratch", **home).returncode == 0
    res = run(repo, *asv, "continuous", "--machine", "scratch", "-b", "track_(time|rel_error)", "main~1", "main",
              timeout=900, MATRIXBENCH_ASV_SUITE=str(repo / "suites" / "tiny.yaml"), **home)
    assert res.returncode != 0, res.stdout[-3000:]
    assert "PERFORMANCE DECREASED" in res.stdout
    worse = [line for line in res.stdout.splitlines() if line.startswith("| +")]
    assert any("track_time" in line and "newton_schulz(iters=12)" in line for line in worse), res.stdout[-3000:]
    assert any("track_rel_error" in line and "mpa(degree=8)" in line for line in worse), res.stdout[-3000:]
