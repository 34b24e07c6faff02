"""pytest-benchmark front end: every cell of a suite becomes one benchmark test.

    pytest perf --benchmark-only                       # suites/ci.yaml
    pytest perf --benchmark-only --suite suites/sqrtm.yaml -k newton_schulz
    pytest perf --benchmark-only --benchmark-autosave  # then, on another commit:
    pytest perf --benchmark-only --benchmark-compare --benchmark-compare-fail=median:10%

The cells come from the same planner as ``matrixbench run`` (suites stay the single source
of truth); this folder is outside ``tests/``, so the plain test command never runs it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# MKL's memory manager keeps buffers for a process's life, and where they land moves a
# method's speed for that life: allocate per call, so that the rounds average placements
# (see test_cells.py; matrixbench.ab sets the same for its processes). Set before torch loads.
os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--suite", default=os.environ.get("MATRIXBENCH_BENCH_SUITE", str(ROOT / "suites" / "ci.yaml")),
                     help="suite whose cells become benchmarks (default suites/ci.yaml, or $MATRIXBENCH_BENCH_SUITE)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    from matrixbench.discovery import load_plugins
    from matrixbench.plan import plan
    from matrixbench.suite import load_suites

    load_plugins()
    cells = plan(load_suites([metafunc.config.getoption("--suite")]))
    metafunc.parametrize("cell", cells, ids=[c.key for c in cells])


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return Path(os.environ.get("MATRIXBENCH_CACHE", ROOT / ".cache" / "matrixbench"))
