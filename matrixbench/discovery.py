"""Find and import tasks, methods and generators: the engine imports no task by name.

A *task root* is a folder of task folders: ``implementations/`` of this repository, plus
any folder named by ``--tasks DIR`` or by the ``MATRIXBENCH_TASKS`` environment variable
(folders separated by ``os.pathsep``). Every sub-folder of a root whose name does not
start with ``_`` or ``.`` is a *task folder*; every module in it is imported (``task.py``
first, then the others and any sub-packages, in name order), as benchopt imports every
solver file of a benchmark. There are no import lists to keep up to date. A folder
that registers nothing is a library the tasks share (``implementations/common/``);
folders whose name starts with ``_`` are not imported.

Extra plugin modules (test-only methods, a user's own methods for a shipped task) come
from ``MATRIXBENCH_PLUGINS`` (comma-separated module names) or ``--plugin MODULE``.
Worker processes import the same roots and modules.

Once everything is imported, :func:`validate` checks the registry as a whole and
:func:`load_plugins` raises :class:`DiscoveryError` naming every problem: a method whose
task no folder defines (a typo in ``@method("tarce", ...)``), a task without its
reference method, a reference registered with another kind, a method of kind
``reference`` that is not its task's reference, a name registered twice, and a
``flops`` or ``applies`` function that cannot take the method's parameters. A module
that fails to import for another reason is reported in :attr:`LoadReport.failed` (the
other tasks still load).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import os
import pkgutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from . import registry

ENV_VAR = "MATRIXBENCH_PLUGINS"
TASKS_ENV_VAR = "MATRIXBENCH_TASKS"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED = REPO_ROOT / "implementations"


class DiscoveryError(ValueError):
    """Registrations that contradict each other: every problem, one per line."""


@dataclass
class LoadReport:
    """What was imported, and what failed to import with the error (never silent)."""

    loaded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    roots: list[Path] = field(default_factory=list)
    #: registrations refused on import (a duplicate name, an unknown backend): fatal
    refused: list[str] = field(default_factory=list)


_REPORT: LoadReport | None = None


def plugin_modules(extra: list[str] | None = None) -> list[str]:
    env = [m.strip() for m in os.environ.get(ENV_VAR, "").split(",") if m.strip()]
    return list(dict.fromkeys(env + list(extra or [])))


def task_roots(extra: list[str] | None = None) -> list[Path]:
    """The shipped ``implementations/`` folder, then ``MATRIXBENCH_TASKS``, then ``extra``."""
    env = [p for p in os.environ.get(TASKS_ENV_VAR, "").split(os.pathsep) if p.strip()]
    roots = [SHIPPED] + [Path(p).expanduser().resolve() for p in env + list(extra or [])]
    return list(dict.fromkeys(roots))


def _root_package(root: Path) -> str:
    """The import name of a task root: its folder name, with its parent put on ``sys.path``.

    A name already taken by another module (``trace`` is in the standard library) would
    import the wrong code, so it is refused with the way out.
    """
    if not root.is_dir():
        raise DiscoveryError(f"task folder root {root} does not exist or is not a folder")
    name = root.name
    if not name.isidentifier():
        raise DiscoveryError(f"task folder root {root}: {name!r} is not a Python identifier; rename the folder")
    known = sys.modules.get(name) or (importlib.util.find_spec(name) if name not in sys.modules else None)
    locations = [Path(p).resolve() for p in (getattr(known, "submodule_search_locations", None)
                                             or getattr(known, "__path__", None) or [])]
    if known is not None and root not in locations:
        raise DiscoveryError(f"task folder root {root}: the name {name!r} is already a Python module "
                             f"({getattr(known, 'origin', None) or locations}); rename the folder")
    if str(root.parent) not in sys.path:
        sys.path.insert(0, str(root.parent))
    return name


def task_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")) and p.name != "__pycache__")


def _task_modules(package: str, folder: Path) -> list[str]:
    """``package.task`` first, then every other module and sub-package of the folder."""
    names: list[str] = []
    for info in pkgutil.iter_modules([str(folder)], prefix=f"{package}."):
        names.append(info.name)
        if info.ispkg:  # a generators/ folder, say: its modules too
            names += _task_modules(info.name, folder / info.name.rpartition(".")[2])[1:]
    first = f"{package}.task"
    return [package] + ([first] if first in names else []) + sorted(n for n in names if n != first)


def _import(name: str, report: LoadReport) -> None:
    if name in report.loaded or name in report.failed:
        return
    try:
        importlib.import_module(name)
        report.loaded.append(name)
    except registry.RegistryError as exc:
        report.failed[name] = f"{type(exc).__name__}: {exc}"
        report.refused.append(str(exc))
    except Exception as exc:  # a broken task must not take the others down
        report.failed[name] = f"{type(exc).__name__}: {exc}"


def _load_root(root: Path, report: LoadReport) -> None:
    package = _root_package(root)
    _import(package, report)
    for folder in task_folders(root):
        for name in _task_modules(f"{package}.{folder.name}", folder):
            _import(name, report)
    report.roots.append(root)


def _accepts(fn: object, params: Mapping[str, object]) -> bool:
    """Whether ``fn(inputs, **params)`` binds (a lambda or builtin we cannot read: yes)."""
    try:
        sig = inspect.signature(fn)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    try:
        sig.bind({}, **{p: None for p in params})
    except TypeError:
        return False
    return True


def validate() -> list[str]:
    """Every contradiction in the registry, as messages naming the module to fix."""
    problems: list[str] = []
    tasks = sorted(registry.TASKS)
    for (task, name), meth in sorted(registry.METHODS.items()):
        where = getattr(meth.fn, "__module__", "?")
        if task not in registry.TASKS:
            near = difflib.get_close_matches(task, tasks, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            problems.append(f"method {name!r} ({where}) registers under task {task!r}, which no task folder "
                            f"defines: {hint}known tasks: {', '.join(tasks) or 'none'}")
        for hook in ("flops", "applies"):  # called as hook(inputs, **params): must accept them all
            fn = getattr(meth, hook)
            if fn is not None and not _accepts(fn, meth.params):
                problems.append(f"method {name!r} of task {task!r} ({where}): its {hook} function "
                                f"{getattr(fn, '__name__', fn)!r} does not accept the method's parameters "
                                f"({', '.join(meth.params) or 'none'}) after the inputs: add them or **_")
        if meth.kind == "reference" and task in registry.TASKS and name != registry.TASKS[task].reference:
            problems.append(f"method {name!r} of task {task!r} ({where}) has kind 'reference', but the task's "
                            f"reference is {registry.TASKS[task].reference!r}: use kind 'optimized' or 'baseline'")
    for task in registry.TASKS.values():
        ref = registry.METHODS.get((task.name, task.reference))
        if ref is None:
            problems.append(f"task {task.name!r} has no method {task.reference!r} (its reference): register one "
                            f"with @method({task.name!r}, {task.reference!r}, kind='reference', ...) in its folder")
        elif ref.kind != "reference":
            problems.append(f"method {ref.name!r} of task {task.name!r} ({ref.fn.__module__}) is the task's "
                            f"reference but is registered with kind {ref.kind!r}: use kind='reference'")
    for gen in registry.GENERATORS.values():
        if gen.task is not None and gen.task not in registry.TASKS:
            problems.append(f"generator {gen.name!r} ({gen.fn.__module__}) belongs to task {gen.task!r}, "
                            f"which no task folder defines")
    return problems


def load_plugins(extra: list[str] | None = None, tasks: list[str] | None = None) -> LoadReport:
    """Import the generic generators, every task folder of every root and the plugins,
    then :func:`validate` the registry (:class:`DiscoveryError` on any problem).

    Idempotent: later calls only import roots and plugins not yet imported.
    """
    global _REPORT
    report = _REPORT or LoadReport()
    if _REPORT is None:
        importlib.import_module("matrixbench.generators")
    _REPORT = report
    for root in task_roots(tasks):
        if root not in report.roots:
            _load_root(root, report)
    for name in plugin_modules(extra):
        _import(name, report)
    problems = report.refused + validate()
    if problems:
        raise DiscoveryError("\n".join(problems))
    return report
