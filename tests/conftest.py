"""Shared fixtures: the test-only ``probe`` plugin and a CLI runner."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def probe():
    """Import the probe plugin (and the shipped tasks) into this process."""
    from matrixbench.discovery import load_plugins

    load_plugins(["mb_probe"])
    import mb_probe

    return mb_probe

