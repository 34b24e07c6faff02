"""Timing rounds: the cell list is passed R times, samples pooled, resumable between rounds."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time

import numpy as np

from conftest import cli_env
from matrixbench.store import read_run
from matrixbench.timing import TimeStats, TimingSettings, summarize


def _round(samples: list[float], number: int = 1) -> dict:
    return {"median": float(np.median(samples)), "count": len(samples), "number": number, "samples": samples,
            "timer": "perf_counter_ns", "total": float(sum(samples))}


def test_per_round_splits_the_budget():
    s = TimingSettings(min_time=0.3, max_time=1.5, min_repeats=5, rounds=3).per_round()
    assert np.isclose(s.min_time, 0.1) and np.isclose(s.max_time, 0.5) and s.min_repeats == 2
    one = TimingSettings(rounds=1)
    assert one.per_round() is one


def test_merge_pools_samples():
    rng = np.random.default_rng(0)
    rounds = [list(rng.uniform(1, 2, size=k)) for k in (5, 7, 4)]
    merged: TimeStats | None = None
    for i, samples in enumerate(rounds):
        stats = summarize(samples, i + 1, "perf_counter_ns", float(sum(samples)))
        merged = stats if merged is None else merged.merge(stats)
    pooled = merged.to_dict()
    everything = np.concatenate(rounds)
    q1, q3 = np.percentile(everything, [25, 75])
    assert pooled["median"] == np.median(everything)
    assert np.isclose(pooled["iqr"], q3 - q1) and pooled["min"] == everything.min() and pooled["count"] == 16
    assert [r["count"] for r in pooled["rounds"]] == [5, 7, 4]
    assert [r["median"] for r in pooled["rounds"]] == [np.median(r) for r in rounds]
    assert pooled["number"] == 3


SUITE = """\
task: probe
problems:
  generator: probe_gaussian
  params: {n: [4, 5, 6]}
methods: [stamp]
timing: {min_time: 0.06, max_time: 0.2, min_repeats: 3, rounds: 3, warmup: 1}
"""


def test_rounds_interleave_cells(tmp_path, run_cli):
    (tmp_path / "s.yaml").write_text(SUITE)
    log = tmp_path / "calls.log"
    res = run_cli("run", "s.yaml", MB_PROBE_LOG=str(log))
    assert res.returncode == 0, res.stderr
    # Calls come in blocks by cell: 4,4,..,5,5,..,6,6,.. once per round.
    blocks = [k for k, _ in itertools.groupby(log.read_text().split())]
    assert blocks == ["4", "5", "6"] * 3
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    for r in run["results"]:
        t = r["time"]
        assert len(t["rounds"]) == 3 and r["timing_settings"]["rounds"] == 3
        assert t["count"] == sum(x["count"] for x in t["rounds"]) == len(t["samples"])
        assert t["median"] == np.median(t["samples"])
        assert all(0.002 <= m < 0.02 for m in (x["median"] for x in t["rounds"]))


def test_rounds_override_on_command_line(tmp_path, run_cli):
    (tmp_path / "s.yaml").write_text(SUITE)
    res = run_cli("run", "s.yaml", "--rounds", "2", MB_PROBE_LOG=str(tmp_path / "calls.log"))
    assert res.returncode == 0, res.stderr
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    assert all(len(r["time"]["rounds"]) == 2 for r in run["results"])
    assert run_cli("run", "s.yaml", "--rounds", "0").returncode == 2


def test_kill_between_rounds_then_resume(tmp_path):
    (tmp_path / "s.yaml").write_text(SUITE.replace("min_time: 0.06, max_time: 0.2", "min_time: 0.6, max_time: 0.9"))
    env = cli_env(MB_PROBE_LOG=str(tmp_path / "calls.log"))
    proc = subprocess.Popen([sys.executable, "-m", "matrixbench", "run", "s.yaml"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline, partial = time.time() + 120, None
    while time.time() < deadline:
        files = list((tmp_path / "results").glob("*/*.json"))
        if files:
            run = read_run(files[0])
            done = [len(r["time"]["rounds"]) for r in run["results"]]
            if len(done) == 3 and 2 in done:  # in round 2, or 3
                partial = run
                break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert partial is not None, "the run never reached its second round"
    partial = read_run(files[0])
    before = {r["key"]: r["time"] for r in partial["results"]}
    assert any(len(t["rounds"]) < 3 for t in before.values())

    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "--resume", str(files[0])], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    final = {r["key"]: r["time"] for r in read_run(files[0])["results"]}
    for key, t in final.items():
        old = before[key]
        assert len(t["rounds"]) == 3
        # Earlier rounds are kept, not re-run: their samples open the pooled list.
        assert t["samples"][: len(old["samples"])] == old["samples"]
        assert t["rounds"][: len(old["rounds"])] == old["rounds"]
