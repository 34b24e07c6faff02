"""Find and import tasks, methods and generators: the engine imports no task by name.

Every package under ``implementations/`` is imported; its import registers the task and
its methods. Extra plugin modules (test-only methods, a user's own tasks) come from the
``MATRIXBENCH_PLUGINS`` environment variable, a comma-separated list of module names,
or from ``--plugin`` on the command line. Worker processes import the same list.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field

ENV_VAR = "MATRIXBENCH_PLUGINS"


@dataclass
class LoadReport:
    """What was imported, and what failed to import with the error (never silent)."""

    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


_REPORT: LoadReport | None = None


def plugin_modules(extra: list[str] | None = None) -> list[str]:
    env = [m.strip() for m in os.environ.get(ENV_VAR, "").split(",") if m.strip()]
    return list(dict.fromkeys(env + list(extra or [])))


def load_plugins(extra: list[str] | None = None) -> LoadReport:
    """Import ``matrixbench.generators``, every ``implementations.<task>`` and the plugins.

    Idempotent: later calls only import plugins not yet imported.
    """
    global _REPORT
    report = _REPORT or LoadReport()
    names: list[str] = []
    if _REPORT is None:
        importlib.import_module("matrixbench.generators")
        impl = importlib.import_module("implementations")
        names += [
            f"implementations.{info.name}"
            for info in pkgutil.iter_modules(impl.__path__)
            if info.ispkg and not info.name.startswith("_")
        ]
    names += [m for m in plugin_modules(extra) if m not in report.loaded]
    for name in names:
        try:
            importlib.import_module(name)
            report.loaded.append(name)
        except Exception as exc:  # a broken task must not take the others down
            report.failed[name] = f"{type(exc).__name__}: {exc}"
    _REPORT = report
    return report
