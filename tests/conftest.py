"""Shared fixtures: the test-only ``probe`` plugin and a CLI runner."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PLUGINS = TESTS / "plugins"
sys.path.insert(0, str(PLUGINS))

# Every task folder, as the CLI sees them: a test that imports one method module still
# finds its task's reference and siblings (discovery imports whole folders).
from matrixbench.discovery import load_plugins  # noqa: E402

load_plugins()
# as the worker does (matrixbench.worker._serve): tests that run cells in this process
# (tests/test_contract.py) pay a full garbage collection per cell, which would otherwise
# walk every object of torch and the tasks each time
gc.collect()
gc.freeze()


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGINS), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MATRIXBENCH_PLUGINS"] = "mb_probe"
    # Runs in tests neither calibrate the machine nor write a report unless a test asks.
    env["MATRIXBENCH_CALIBRATE"] = "0"
    env["MATRIXBENCH_REPORT"] = "0"
    env.update(extra)
    return env


@pytest.fixture
def run_cli(tmp_path):
    """Run ``python -m matrixbench ARGS`` in ``tmp_path``; returns the CompletedProcess."""

    def run(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "matrixbench", *args], cwd=tmp_path, env=cli_env(**env),
                              capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture
def cli_here(tmp_path, monkeypatch, capsys):
    """Run ``matrixbench ARGS`` inside this process, in ``tmp_path``: returns (exit code,
    stdout, stderr). For commands that stop before any cell runs (a malformed suite, a
    usage error), where a new process would cost its 3 s of imports and nothing else."""
    monkeypatch.chdir(tmp_path)
    for key, value in cli_env().items():
        if key.startswith("MATRIXBENCH_"):
            monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str, str]:
        from matrixbench.cli import main

        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def probe():
    """Import the probe plugin (and the shipped tasks) into this process."""
    from matrixbench.discovery import load_plugins

    load_plugins(["mb_probe"])
    import mb_probe

    return mb_probe

