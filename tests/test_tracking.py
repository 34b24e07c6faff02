"""End to end, in a scratch repository with two commits, the second making Newton-Schulz
about twice as slow and the Pade approximant less accurate (same speed): ``matrixbench
compare`` and ``matrixbench ab`` exit 1 naming both cells, pytest-benchmark with
``--benchmark-compare-fail=median:10%`` fails naming the slower one, and (where asv and
virtualenv are installed: the ``track`` extra) ``asv continuous`` reports the slower
benchmark and the changed ``track_rel_error`` and exits non-zero.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scratch import git, scratch_repo

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


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The working tree as commit 1; commit 2 adds three products per Newton-Schulz step (3 -> 6)."""
    repo = scratch_repo(tmp_path_factory.mktemp("scratch"), {"suites/tiny.yaml": TINY})
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
    for name in [k for k in full if k.startswith("PYTEST_XDIST")]:  # the inner pytest is no xdist worker
        del full[name]
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
        extra = (["--benchmark-autosave"] if name == "base" else
                 ["--benchmark-compare", "--benchmark-compare-fail=median:10%", "--benchmark-json", str(repo / "head.json")])
        out[f"bench_{name}"] = run(repo, sys.executable, *bench, *extra)
    return out


def test_matrixbench_compare_names_the_slower_cell(repo, measured):
    assert measured["run_base"].returncode == 0, measured["run_base"].stderr
    assert measured["run_head"].returncode == 0, measured["run_head"].stderr
    base, head = (str(next((repo / f"r_{n}").glob("*/*.json"))) for n in ("base", "head"))
    # --threshold 0.2: the change doubles the time; a busy CI machine has drifted an
    # unchanged cell (the eigh reference) past the default 10% between two runs.
    # --fail-on regressed,traded: the less accurate Pade is "traded" when its process
    # happened to run it more than 20% faster (MKL's per-process speed), else "regressed"
    res = run(repo, sys.executable, "-m", "matrixbench", "compare", "--threshold", "0.2", "--fail-on", "regressed,traded",
              base, head)
    assert res.returncode == 1, res.stdout
    busy = {r["key"] for p in (base, head) for r in json.loads(Path(p).read_text())["results"]
            if (r.get("contention") or {}).get("contended")}
    if CELL in busy:  # timed on a loaded machine: unreliable, never a regression
        assert f"regressed: {CELL}" not in res.stderr and " unreliable" in res.stdout, res.stdout
    else:
        assert f"regressed: {CELL} (time slower" in res.stderr
    assert re.search(rf"(regressed|traded): {re.escape(MPA)} \(time .*accuracy worse: ", res.stderr), res.stderr
    # (an unchanged cell may drift past the threshold between two runs minutes apart: the
    # CI of issue 13 saw the eigh reference 29% slower; `ab` below is what never cries wolf)
    assert "method source changed" in res.stdout


def _bench_contended(repo: Path, name: str) -> bool:
    """Whether pytest-benchmark timed ``name`` under contention (perf records it in extra_info)
    in the base's saved run or the head's JSON."""
    files = [*(repo / ".benchmarks").rglob("*.json"), repo / "head.json"]
    return any((b["extra_info"].get("contention") or {}).get("contended") for f in files if f.exists()
               for b in json.loads(f.read_text())["benchmarks"] if name in b["name"])


def test_pytest_benchmark_compare_fail_names_the_slower_cell(repo, measured):
    assert measured["bench_base"].returncode == 0, measured["bench_base"].stdout[-3000:]
    head = measured["bench_head"]
    if head.returncode == 0:
        # pytest-benchmark has no notion of a busy machine: a base timed while the other
        # test worker loaded both cores can be as slow as the doubled head; perf records
        # the contention, which is the only excuse for a missed regression
        assert _bench_contended(repo, "newton_schulz(iters=12)"), head.stdout[-3000:]
        return
    failed = [line for line in head.stdout.splitlines() + head.stderr.splitlines() if "Performance has regressed" in line
              or "median" in line and "newton_schulz" in line]
    assert any("newton_schulz(iters=12)" in line for line in failed), head.stdout[-3000:]


ASV = importlib.util.find_spec("asv") is not None and importlib.util.find_spec("virtualenv") is not None
#: ``asv continuous`` builds a virtualenv with torch for the two commits (110 s on the 2-core
#: machine, an eighth of the whole suite): run by hand, and in CI's slow job, with this set
SLOW = os.environ.get("MATRIXBENCH_SLOW_TESTS") == "1"


def _asv_home(repo: Path) -> dict[str, str]:
    """asv keeps its machine file in ~: a scratch home, never the user's own; pip keeps its
    cache where it was (the environments asv builds reuse the wheels already downloaded)."""
    (repo / ".home").mkdir(exist_ok=True)
    return {"HOME": str(repo / ".home"),
            "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))}


@pytest.mark.skipif(not ASV, reason="asv and virtualenv are not installed (pip install -e '.[track]')")
def test_asv_run_in_this_environment_accepts_the_bridge(repo):
    """``asv run --python=same`` (this environment, no build) on the head commit: exit 0,
    every cell's time and metrics recorded, metrics a cell lacks skipped the asv way."""
    git(repo, "checkout", "-q", "main")
    mine = Path.home() / ".asv-machine.json"
    before = mine.read_bytes() if mine.exists() else None
    asv, home = [sys.executable, "-m", "asv"], _asv_home(repo)
    assert run(repo, *asv, "machine", "--yes", "--machine", "scratch", **home).returncode == 0
    res = run(repo, *asv, "run", "--python=same", "--quick", "--machine", "scratch", "--set-commit-hash",
              git(repo, "rev-parse", "HEAD").strip(), "-b", "track_(time|rel_error|iterations)",
              MATRIXBENCH_ASV_SUITE=str(repo / "suites" / "tiny.yaml"), **home)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    results = list((repo / ".asv" / "results" / "scratch").glob("*.json"))
    results = [p for p in results if p.name != "machine.json"]
    assert results, res.stdout[-2000:]
    data = json.loads(results[0].read_text())
    names = set(data["results"])
    assert any(n.endswith("track_time") for n in names) and any(n.endswith("track_rel_error") for n in names)
    assert (mine.read_bytes() if mine.exists() else None) == before  # the user's asv machine file is untouched


@pytest.mark.skipif(not ASV, reason="asv and virtualenv are not installed (pip install -e '.[track]')")
@pytest.mark.skipif(not SLOW, reason="builds a virtualenv with torch (about 2 minutes): set MATRIXBENCH_SLOW_TESTS=1")
def test_asv_continuous_reports_the_slower_benchmark(repo):
    git(repo, "checkout", "-q", "main")
    config = (repo / "asv.conf.json").read_text()
    assert '"benchmark_dir": "benchmarks"' in config
    asv, home = [sys.executable, "-m", "asv"], _asv_home(repo)
    assert run(repo, *asv, "machine", "--yes", "--machine", "scratch", **home).returncode == 0
    res = run(repo, *asv, "continuous", "--machine", "scratch", "-b", "track_(time|rel_error)", "main~1", "main",
              timeout=900, MATRIXBENCH_ASV_SUITE=str(repo / "suites" / "tiny.yaml"), **home)
    assert res.returncode != 0, res.stdout[-3000:]
    assert "PERFORMANCE DECREASED" in res.stdout
    worse = [line for line in res.stdout.splitlines() if line.startswith("| +")]
    assert any("track_time" in line and "newton_schulz(iters=12)" in line for line in worse), res.stdout[-3000:]
    assert any("track_rel_error" in line and "mpa(degree=8)" in line for line in worse), res.stdout[-3000:]


def ab(repo: Path, *args: str, processes: int = 4) -> subprocess.CompletedProcess:
    # short cells: a doubling and an accuracy loss need few rounds to show
    return run(repo, sys.executable, "-m", "matrixbench", "ab", *args, "--min-rounds", "8", "--cell-time", "1.5",
               "--processes", str(processes))


def test_ab_names_the_slower_and_the_less_accurate_cell(repo):
    res = ab(repo, "HEAD~1", "main", "tiny", "--report", "ab-report")
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"regressed: {MPA} (time " in res.stderr and "accuracy worse: " in res.stderr
    assert not [line for line in res.stderr.splitlines() if line.startswith("regressed:") and "reference()" in line]
    record = json.loads((repo / "ab-report" / "ab.json").read_text())
    cells = {c["key"]: c for c in record["cells"]}
    if cells[CELL]["verdict"] != "regressed":  # a loaded machine: too few clean rounds or too noisy to tell
        assert cells[CELL]["contended_rounds"] > 0 and cells[CELL]["verdict"] in ("unreliable", "inconclusive"), cells[CELL]
    else:
        assert f"regressed: {CELL} (time slower" in res.stderr, res.stderr
        lo, hi = cells[CELL]["interval"]
        # twice the products: about twice the time; the run stops once the interval is clearly past 5%
        assert 1.05 < lo <= cells[CELL]["ratio"] <= hi and 1.5 < cells[CELL]["ratio"] < 2.6
        # seen again in fresh processes (matrixbench.ab, point 7)
        second = cells[CELL]["confirmation"]
        assert second["confirmed"] and 1 < second["interval"][0] and 1.5 < second["ratio"] < 2.6, second
    assert "regressed" in (repo / "ab-report" / "compare.md").read_text()
    assert not any("matrixbench-ab-" in line for line in git(repo, "worktree", "list").splitlines())


def test_ab_of_a_broken_head(repo):
    """(``ab`` of unchanged code exiting 0 is tests/test_workflow.py's pull-request job.)"""
    before = git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(repo, "checkout", "-q", "-B", "broken", "main")
    (repo / "implementations" / "sqrtm" / "pade.py").write_text("def broken(:\n")
    git(repo, "commit", "-q", "-am", "a syntax error")
    git(repo, "checkout", "-q", before if before != "HEAD" else "main")
    broken = ab(repo, "main", "broken", "tiny", processes=2)  # nothing is timed: two processes a side suffice
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "head revision broken is broken" in broken.stdout and "pade" in broken.stdout, broken.stdout
    unknown = ab(repo, "main", "no-such-revision", "tiny", processes=2)
    assert unknown.returncode == 2 and "git does not know the revision 'no-such-revision'" in unknown.stderr


def test_a_run_under_contention_is_marked_and_never_a_regression(repo, measured):
    """Two busy processes during a run: its cells are marked contended, the run warns, and
    compare against a clean run of the same code calls none of them a regression."""
    git(repo, "checkout", "-q", "main")
    spin = "import time\nend = time.time() + 60\nwhile time.time() < end: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    try:
        time.sleep(0.5)
        loaded = run(repo, sys.executable, "-m", "matrixbench", "run", "tiny", "--results", "r_loaded")
    finally:
        for p in procs:
            p.kill()
    assert loaded.returncode == 0, loaded.stderr
    assert "the machine is busy" in loaded.stderr
    assert "contended" in loaded.stdout
    path = next((repo / "r_loaded").glob("*/*.json"))
    results = json.loads(path.read_text())["results"]
    assert results and all(r["contention"]["contended"] and r["contention"]["others"] > 0.5 for r in results)
    head = str(next((repo / "r_head").glob("*/*.json")))
    res = run(repo, sys.executable, "-m", "matrixbench", "compare", head, str(path))
    assert res.returncode == 0, res.stdout
    assert "0 regressed" in res.stdout and f"{len(results)} unreliable" in res.stdout, res.stdout
