"""Shards, merge and the launchers (issue 15): the partition against a brute force, shard
files merged into exactly the cells of one run (same statuses, bitwise the same metrics),
a killed shard resumed, and every refusal of ``merge`` with its message and exit 2."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import cli_env
from matrixbench.shard import fingerprint, parse_shard, partition

SUITE = """\
task: probe
problems:
  generator: probe_gaussian
  params: {n: [4, 5, 6, 7, 8, 9, 10]}
methods: [reference, torch_double, nan, {sleep: {ms: 1}}]
timing: {min_time: 0.02, max_time: 0.05}
"""


@dataclass(frozen=True)
class _Problem:
    key: str
    task: str = "t"


@dataclass(frozen=True)
class _Timing:
    min_time: float
    rounds: int = 1


@dataclass(frozen=True)
class _Cell:
    key: str
    problem: _Problem
    timing: _Timing


def _cells(costs: dict[str, list[float]]) -> list[_Cell]:
    return [_Cell(f"{p}/m{i}", _Problem(p), _Timing(c)) for p, cs in costs.items() for i, c in enumerate(cs)]


def test_partition_keeps_problems_together_and_is_near_the_best():
    costs = {f"p{i}": [0.1 * ((7 * i) % 11 + 1)] * (1 + i % 3) for i in range(9)}
    cells = _cells(costs)
    part = partition(cells, 3)
    assert sorted(k for s in part.shards for k in s) == sorted(c.key for c in cells)  # every cell once
    for p in costs:  # a problem's cells in one shard
        assert sum(any(k.startswith(p + "/") for k in s) for s in part.shards) == 1
    # against the best assignment of problems to 3 shards (brute force)
    group = {p: sum(c + 0.1 for c in cs) for p, cs in costs.items()}  # + the setup guess per cell
    best = min(max(sum(group[p] for p, s in zip(group, assign) if s == j) for j in range(3))
               for assign in itertools.product(range(3), repeat=len(group)))
    assert max(part.seconds) <= 4 / 3 * best + 1e-9  # Graham's bound for LPT
    for shard, seconds in zip(part.shards, part.seconds):  # each shard's estimate: its problems' costs
        assert seconds == pytest.approx(sum(group[p] for p in {k.split("/")[0] for k in shard}))
    assert partition(cells, 3).shards == part.shards  # deterministic
    assert part.plan == fingerprint([c.key for c in reversed(cells)])  # the plan, not its order
    # measured walls win over the settings' guess: the slow problem gets a shard of its own
    walls = {c.key: (50.0 if c.problem.key == "p1" else 0.01) for c in cells}
    slow = partition(cells, 3, walls)
    alone = next(s for s in slow.shards if any(k.startswith("p1/") for k in s))
    assert all(k.startswith("p1/") for k in alone)


def test_history_for_a_partition_comes_from_runs_with_the_shards_threads(tmp_path):
    """Cell seconds measured at 2 threads mislead a partition into 1-thread shards (measured:
    645 s against 248 s for polar.yaml); history(threads=) keeps the runs made with that many."""
    import numpy as np

    from matrixbench.estimate import history
    from matrixbench.store import atomic_write_json
    from synthetic_runs import make_run, record

    rng = np.random.default_rng(0)
    folder = tmp_path / "results" / "vm"
    folder.mkdir(parents=True)
    for run_id, threads, wall, date in (("a", 2, 5.0, "2026-11-23T00:00:00+00:00"),
                                        ("b", 1, 1.0, "2026-11-22T00:00:00+00:00")):
        rec = record("t", {"n": 4}, ("fast", "optimized", {}), "float64", 0.01, 0.0, rng)
        rec.update(wall=wall, finished=date)
        run = make_run(run_id, [rec], date=date, machine="vm")
        run["environment"]["software"] = {"torch": {"threads": threads}}
        atomic_write_json(folder / f"{run_id}.json", run)
    key = rec["key"]
    assert history(tmp_path / "results", "vm")[0] == {key: 5.0}  # the newest, whatever its threads
    assert history(tmp_path / "results", "vm", threads=1)[0] == {key: 1.0}
    assert history(tmp_path / "results", "vm", threads=4)[0] == {}
    # a merged run's record measured in a shard pinned to one core counts as 1 thread,
    # whatever the launcher's own environment says
    rec = dict(rec, wall=3.0, finished="2026-11-22T12:00:00+00:00", shard={"index": 1, "placement": {"cores": [0]}})
    run = make_run("c", [rec], date="2026-11-22T12:00:00+00:00", machine="vm")
    run["environment"]["software"] = {"torch": {"threads": 2}}
    atomic_write_json(folder / "c.json", run)
    assert history(tmp_path / "results", "vm", threads=1)[0] == {key: 3.0}


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0"])
def test_shard_spec_is_checked(text):
    with pytest.raises(ValueError, match="K/N"):
        parse_shard(text)


def _run(tmp_path: Path, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matrixbench", *args], cwd=tmp_path, env=cli_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def _records(path: Path) -> dict[str, dict]:
    return {r["key"]: r for r in json.loads(path.read_text())["results"]}


#: methods whose results differ in the last bits between two processes of the same code on
#: the same inputs: torch.linalg.lstsq (float64 max-norm error 2.8e-13 in one process,
#: 5.6e-13 in the next, seen by `ab` of identical code and here; MKL_CBWR=COMPATIBLE did
#: not make it reproducible), and every inv_root cell (eigh's float32 rel_error
#: 8.618498730544531e-06 against 8.618498730202115e-06 in two runs of one commit, and
#: coupled_newton's likewise: the task's scores vary in the last bits). Their
#: metrics must agree within a factor of 3, not bitwise.
NONDETERMINISTIC = ("/torch_lstsq(", "inv_root/")


def _same_cells(single: dict[str, dict], merged: dict[str, dict]) -> None:
    assert sorted(merged) == sorted(single)
    for key, r in single.items():
        m = merged[key]
        assert m["status"] == r["status"], key
        if any(name in key for name in NONDETERMINISTIC):
            for metric, value in r["metrics"].items():
                assert value / 3 <= m["metrics"][metric] <= value * 3, (key, metric)
            continue
        # bitwise: the same code on the same inputs with the same thread count
        assert json.dumps(m["metrics"], sort_keys=True) == json.dumps(r["metrics"], sort_keys=True), key


@dataclass(frozen=True)
class _Shards:
    """One plain run of :data:`SUITE` and the same plan as 3 shard files, in ``root``."""

    root: Path
    one: Path
    files: list[Path]


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> _Shards:
    root = tmp_path_factory.mktemp("shards")
    (root / "s.yaml").write_text(SUITE)
    single = _run(root, "run", "s.yaml", "--threads", "1", "--results", "one")
    assert single.returncode == 1, single.stderr  # the nan method fails its cells
    files = []
    for k in (1, 2, 3):
        res = _run(root, "run", "s.yaml", "--threads", "1", "--shard", f"{k}/3", "--results", "sh")
        assert res.returncode in (0, 1), res.stderr
        files.append(max((root / "sh").glob("*/*.json"), key=os.path.getmtime))
    return _Shards(root, next((root / "one").rglob("*.json")), files)


def test_shards_merge_into_the_cells_of_one_run(shards):
    tmp_path, one, files = shards.root, shards.one, shards.files
    parts = [json.loads(f.read_text())["run"]["shard"] for f in files]
    assert len({p["plan"] for p in parts}) == 1 and [p["index"] for p in parts] == [1, 2, 3]
    assert parts[0]["shards"] == parts[2]["shards"]  # one partition, written by the first shard
    assert len(list((tmp_path / "sh" / ".partitions").glob("*.partition"))) == 1
    merged = _run(tmp_path, "merge", *map(str, files), "-o", "merged.json")
    assert merged.returncode == 1 and "missing" not in merged.stdout, merged.stdout + merged.stderr
    _same_cells(_records(one), _records(tmp_path / "merged.json"))
    data = json.loads((tmp_path / "merged.json").read_text())
    assert data["run"]["complete"] and data["run"]["merged"]["missing"] == []
    assert {r["shard"]["index"] for r in data["results"]} == {1, 2, 3}
    # report and compare take the merged file
    rep = _run(tmp_path, "report", "merged.json", "-o", "rep")
    assert rep.returncode == 0 and (tmp_path / "rep" / "index.html").is_file(), rep.stderr
    cmp = _run(tmp_path, "compare", str(one), "merged.json", "--threshold", "10")
    assert cmp.returncode in (0, 1) and "Traceback" not in cmp.stderr, cmp.stderr
    # compare also takes the shard files themselves, comma-separated, merged as merge does
    side = _run(tmp_path, "compare", str(one), ",".join(map(str, files)), "--threshold", "10")
    assert side.returncode == cmp.returncode and side.stdout.split("\n")[1:] == cmp.stdout.split("\n")[1:], side.stdout
    assert "cells matched, 0 only in base, 0 only in head" in side.stdout, side.stdout
    # a missing shard: its cells are named, the run is not complete, exit 1
    partial = _run(tmp_path, "merge", str(files[0]), str(files[2]), "-o", "partial.json")
    assert partial.returncode == 1 and "shards with no file: 2/3" in partial.stdout, partial.stdout
    absent = json.loads((tmp_path / "partial.json").read_text())["run"]
    assert not absent["complete"] and sorted(absent["merged"]["missing"]) == sorted(parts[0]["shards"][1])


def test_merge_refuses_other_plans_and_commits(shards, tmp_path):
    """Shards of another plan, of another commit, and a plain run file are refused (exit
    2, the reason named, nothing written); the first two are let through when told."""
    (tmp_path / "t.yaml").write_text(SUITE.replace("10]", "10, 11]"))
    b = _run(tmp_path, "run", "t.yaml", "--shard", "2/2", "--results", "b", "--methods", "reference")
    assert b.returncode == 0, b.stderr
    fa, fb = shards.files[0], next((tmp_path / "b").glob("*/*.json"))
    res = _run(tmp_path, "merge", str(fa), str(fb), "-o", "m.json")
    assert res.returncode == 2 and "shards of different plans" in res.stderr and not (tmp_path / "m.json").exists()
    res = _run(tmp_path, "compare", f"{fa},{fb}", str(fa))
    assert res.returncode == 2 and "shards of different plans" in " ".join(res.stderr.split()), res.stderr
    assert _run(tmp_path, "merge", str(fa), str(fb), "-o", "m.json", "--allow-different-plans").returncode in (0, 1)
    fc = tmp_path / "other-commit.json"  # shard 2/3 of the same plan, made by another commit
    data = json.loads(shards.files[1].read_text())
    data["environment"].setdefault("git", {})["commit"] = "0" * 40
    fc.write_text(json.dumps(data))
    res = _run(tmp_path, "merge", str(fa), str(fc), "-o", "m2.json")
    assert res.returncode == 2 and "different commits" in res.stderr and "0000000000" in res.stderr, res.stderr
    res = _run(tmp_path, "merge", str(fa), str(shards.one), "-o", "m3.json")
    assert res.returncode == 2 and "not a shard file" in res.stderr


def test_local_launcher_relaunches_a_killed_shard_and_merges(tmp_path):
    """Two pinned shards (one core each); the first run of ``kills_runner`` kills its
    shard's ``matrixbench run``; the launcher starts it again on its run file."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two cores")
    (tmp_path / "s.yaml").write_text(SUITE.replace("{sleep: {ms: 1}}]", "{sleep: {ms: 1}}, kills_runner]"))
    marker = tmp_path / "killed"
    res = _run(tmp_path, "run", "s.yaml", "--launcher", "local", "--shards", "2", "--cores", "0,1", "--results", "r",
               MB_PROBE_KILL_MARKER=str(marker), timeout=600)
    assert marker.exists(), res.stderr
    assert "started again on its run file" in res.stderr, res.stderr
    assert res.returncode == 1, res.stdout + res.stderr  # the nan cells
    merged = tmp_path / res.stdout.split("run file: ")[1].split()[0]
    data = json.loads(merged.read_text())
    keys = [r["key"] for r in data["results"]]
    assert len(keys) == len(set(keys)) == data["run"]["planned"] and data["run"]["complete"], data["run"]["merged"]
    cores = {tuple(r["threads"]["cpus"]) for r in data["results"] if r.get("threads")}
    assert cores == {(0,), (1,)}  # each shard pinned to its own core, and the records say so
    assert {r["shard"]["placement"]["cores"][0] for r in data["results"]} == {0, 1}


def test_a_launcher_without_its_engine_is_refused_with_the_install_command(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text(SUITE)
    for launcher, module in (("slurm", "submitit"), ("dask", "distributed")):
        try:
            __import__(module)
            continue  # installed: nothing to refuse
        except ImportError:
            pass
        res = _run(tmp_path, "run", "s.yaml", "--launcher", launcher, "--shards", "2", "--scheduler", "tcp://x:1")
        assert res.returncode == 2 and 'pip install -e ".[cluster]"' in res.stderr, res.stderr


@pytest.mark.skipif(not all(__import__("importlib").util.find_spec(m) for m in ("submitit", "distributed")),
                    reason='submitit and dask are optional: pip install -e ".[cluster]"')
def test_ci_suite_as_submitit_and_dask_shards_equals_one_run(tmp_path):
    """suites/ci.yaml (quick timing, one thread) as 3 submitit shards (its local executor)
    and as 2 shards on a dask LocalCluster of 2 single-threaded workers: each merged run
    has exactly the cells of one run, with the same statuses and bitwise the same metrics
    (within a factor of 3 for :data:`NONDETERMINISTIC` methods)."""
    from distributed import LocalCluster

    root = Path(__file__).resolve().parent.parent
    env = {"MATRIXBENCH_CACHE": str(tmp_path / "cache")}
    # the whole suite takes 3 min 10 s here, which the 15-minute CI cannot spare: CI runs
    # two of its entries, two tasks (the fresh-clone CI reached 847 s with three);
    # MATRIXBENCH_SLOW_TESTS=1 runs all of ci.yaml
    subset = [] if os.environ.get("MATRIXBENCH_SLOW_TESTS") == "1" else ["--entry", "ci-polar,ci-svd-topk"]
    args = ["run", str(root / "suites" / "ci.yaml"), "--quick", "--threads", "1", *subset]
    single = _run(tmp_path, *args, "--results", "one", timeout=900, **env)
    assert single.returncode == 0, single.stdout[-2000:] + single.stderr[-2000:]
    one = _records(next((tmp_path / "one").rglob("*.json")))
    sub = _run(tmp_path, *args, "--results", "sub", "--launcher", "slurm", "--submitit-cluster", "local",
               "--shards", "3", timeout=900, **env)
    assert sub.returncode == 0 and "submitted 3 shards" in sub.stderr, sub.stdout[-2000:] + sub.stderr[-3000:]
    merged = tmp_path / sub.stdout.split("run file: ")[1].split()[0]
    _same_cells(one, _records(merged))
    assert sorted({r["shard"]["index"] for r in _records(merged).values()}) == [1, 2, 3]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = _run(tmp_path, *args, "--results", "dask", "--launcher", "dask", "--scheduler", cluster.scheduler_address,
                    "--shards", "2", timeout=900, **env)
    assert dask.returncode == 0, dask.stdout[-2000:] + dask.stderr[-3000:]
    merged = tmp_path / dask.stdout.split("run file: ")[1].split()[0]
    _same_cells(one, _records(merged))
    data = json.loads(merged.read_text())["run"]
    assert data["complete"] and [s["index"] for s in data["merged"]["shards"]] == [1, 2]
