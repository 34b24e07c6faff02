"""What the subcommands share: exit codes, usage errors, suite lookup, plugins, the cache."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Sequence

from rich.text import Text

from ..console import make_console
from ..discovery import TASKS_ENV_VAR, DiscoveryError, load_plugins
from ..suite import SuiteErrors, load_suites

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input or usage: printed, exit 2."""


def cache_dir() -> Path:
    """Where references and the machine's calibration are cached (``MATRIXBENCH_CACHE``)."""
    return Path(os.environ.get("MATRIXBENCH_CACHE", ".cache/matrixbench"))


def suites_dir() -> Path:
    local = Path("suites")
    return local if local.is_dir() else REPO_ROOT / "suites"


def find_suite(name: str) -> Path:
    """A suite path as given, or a name under ``suites/`` (with or without ``.yaml``)."""
    path = Path(name)
    if path.exists():
        return path
    for candidate in (suites_dir() / name, suites_dir() / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in suites_dir().glob("*.yaml"))
    raise UsageError(f"no suite file {name!r} (known suites in {suites_dir()}: {', '.join(known)})")


def plugins(names: Sequence[str] | None, tasks: Sequence[str] | None = None) -> list[str]:
    """Import the task folders (``implementations/`` and ``tasks``) and the plugin modules;
    warn (stderr) about any module that fails to import. Worker processes see ``tasks``
    through ``MATRIXBENCH_TASKS``."""
    if tasks:
        known = [p for p in os.environ.get(TASKS_ENV_VAR, "").split(os.pathsep) if p]
        os.environ[TASKS_ENV_VAR] = os.pathsep.join(dict.fromkeys(known + [str(Path(t).resolve()) for t in tasks]))
    try:
        report = load_plugins(list(names or []), list(tasks or []))
    except DiscoveryError as exc:
        raise UsageError(f"cannot load the tasks:\n{exc}") from None
    err = make_console(stderr=True)
    for name, why in report.failed.items():
        err.print(Text("warning: ", style="yellow") + Text(f"could not import {name}: {why}; its tasks and methods are missing"))
    return list(names or [])


def load(paths: Sequence[str]) -> list[Any]:
    """Load and validate suites by path or name; every error, with file:line, is exit 2."""
    try:
        return load_suites([find_suite(p) for p in paths])
    except SuiteErrors as exc:
        raise UsageError("\n".join(str(e) for e in exc.errors)) from None


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("0", "false", "no", "")


def positive_int(text: str) -> int:
    """argparse type: an integer of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def even_int(text: str) -> int:
    """argparse type: an even integer of 2 or more."""
    value = positive_int(text)
    if value % 2:
        raise argparse.ArgumentTypeError(f"must be even, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0."""
    value = _float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def nonnegative_float(text: str) -> float:
    """argparse type: a finite number of 0 or more."""
    value = _float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def probability(text: str) -> float:
    """argparse type: a number strictly between 0 and 1."""
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def probability_or_zero(text: str) -> float:
    """argparse type: 0 (off) or a number strictly between 0 and 1."""
    return 0.0 if _float(text) == 0 else probability(text)


def _float(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text}")
    return value
