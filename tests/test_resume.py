"""A run killed midway keeps every finished cell; --resume completes it without re-running them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from conftest import cli_env
from matrixbench.store import read_run

SUITE = """\
task: probe
problems:
  generator: probe_gaussian
  params: {n: [4, 5, 6, 7, 8, 9]}
methods: [reference, sleep]
timing: {min_time: 0.2, max_time: 0.3}
"""


def test_kill_then_resume(tmp_path):
    (tmp_path / "s.yaml").write_text(SUITE)
    proc = subprocess.Popen([sys.executable, "-m", "matrixbench", "run", "s.yaml"], cwd=tmp_path, env=cli_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    run_path, finished = None, []
    while time.time() < deadline:
        files = list((tmp_path / "results").glob("*/*.json"))
        if files:
            run_path = files[0]
            finished = read_run(run_path)["results"]
            if len(finished) >= 4:
                break
        time.sleep(0.05)
    import os

    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: parent and worker
    proc.wait()
    assert run_path is not None
    killed = read_run(run_path)  # still a valid run file
    done_before = {r["key"]: r["finished"] for r in killed["results"]}
    assert 4 <= len(done_before) < 12 and killed["run"]["complete"] is False

    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "--resume", str(run_path)], cwd=tmp_path,
                         env=cli_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{len(done_before)} of 12 cells complete" in res.stderr
    final = read_run(run_path)
    assert final["run"]["complete"] is True
    assert len(final["results"]) == 12
    after = {r["key"]: r["finished"] for r in final["results"]}
    assert all(after[k] == v for k, v in done_before.items()), "a finished cell was re-run"


def test_ctrl_c_keeps_finished_cells(tmp_path):
    (tmp_path / "s.yaml").write_text(SUITE)
    proc = subprocess.Popen([sys.executable, "-m", "matrixbench", "run", "s.yaml"], cwd=tmp_path, env=cli_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        files = list((tmp_path / "results").glob("*/*.json"))
        if files and len(read_run(files[0])["results"]) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "--resume" in out
    run = read_run(files[0])
    assert run["run"]["interrupted"] is True and run["run"]["complete"] is False
    assert 2 <= len(run["results"]) < 12
    assert all(r["status"] == "ok" for r in run["results"]), "the interrupted cell must not be recorded as failed"


def test_list_commands(run_cli):
    for what, needle in [("tasks", "sqrtm"), ("methods", "newton_schulz"), ("generators", "covariance"), ("suites", "default")]:
        res = run_cli("list", what)
        assert res.returncode == 0 and needle in res.stdout, (what, res.stdout, res.stderr)
