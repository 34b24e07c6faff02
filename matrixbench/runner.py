"""The runner: cells -> worker -> results, appended to the run file as each one finishes.

Cells are grouped by problem instance so that the input is generated, and the float64
reference computed (or read from the disk cache), once per problem. Checks that need no
worker (a missing dependency, an unsupported dtype or device) give ``skipped`` results
with their reason straight away.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import registry
from .backends import device_available
from .plan import Cell, Problem
from .store import RunFile, now
from .worker import Worker, WorkerCrashed, WorkerError, WorkerTimeout

Progress = Callable[[str, Cell, "dict[str, Any] | None"], None]


def default_threads() -> int:
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:
        return os.cpu_count() or 1


def base_record(cell: Cell) -> dict[str, Any]:
    meth = cell.method_obj
    return {
        "key": cell.key,
        "task": cell.problem.task,
        "suite": cell.suite,
        "entry": cell.entry,
        "problem": cell.problem.to_dict(),
        "method": {"name": meth.name, "kind": meth.kind, "backend": meth.backend,
                   "params": dict(cell.method_params), "version": meth.version},
        "dtype": cell.dtype,
        "device": cell.device,
        "status": "ok",
        "reason": "",
        "metrics": {},
        "gates": dict(cell.gates),
        "time": None,
        "memory": None,
        "flops": None,
        "gflops": None,
        "threads": None,
        "timing_settings": cell.timing.to_dict(),
    }


def skip_reason(cell: Cell) -> str | None:
    """Why ``cell`` cannot run here, or None."""
    meth = cell.method_obj
    missing = _missing_modules(meth.requires)
    if missing:
        return f"method {meth.name!r} needs {', '.join(missing)}, which is not installed"
    gen = registry.GENERATORS[cell.problem.generator]
    missing = _missing_modules(gen.requires)
    if missing:
        return f"generator {gen.name!r} needs {', '.join(missing)}, which is not installed"
    if cell.dtype not in meth.dtypes:
        return f"method {meth.name!r} does not support {cell.dtype} (supports {', '.join(meth.dtypes)})"
    if cell.device not in meth.devices:
        return f"method {meth.name!r} does not run on {cell.device} (runs on {', '.join(meth.devices)})"
    return device_available(meth.backend, cell.device)


def _missing_modules(mods: Iterable[str]) -> list[str]:
    import importlib.util

    return [m for m in mods if importlib.util.find_spec(m) is None]


@dataclass
class Runner:
    """Runs cells in a restartable worker and records each result at once."""

    run_file: RunFile
    cache_dir: Path
    plugins: list[str] = field(default_factory=list)
    threads: int | None = None
    timeout: float | None = None
    progress: Progress | None = None

    def __post_init__(self) -> None:
        self.worker = Worker(self.plugins)

    def _emit(self, event: str, cell: Cell, record: dict[str, Any] | None = None) -> None:
        if self.progress is not None:
            self.progress(event, cell, record)

    def _record(self, cell: Cell, started: float, **fields: Any) -> dict[str, Any]:
        record = base_record(cell)
        record.update(fields)
        record["wall"] = time.perf_counter() - started
        record["finished"] = now()
        self.run_file.add(record)
        self._emit("done", cell, record)
        return record

    def _reference(self, problem: Problem, cells: list[Cell]) -> tuple[str, str] | None:
        """Make sure the reference exists; on failure return (status, reason) for the cells."""
        timeout = self.timeout or max(c.timing.timeout for c in cells)
        try:
            self.worker.request(("reference", problem, str(self.cache_dir)), timeout)
            return None
        except WorkerTimeout as exc:
            return "timeout", f"the reference timed out: {exc}"
        except WorkerCrashed as exc:
            return "crashed", f"the reference crashed: {exc}"
        except WorkerError as exc:
            return "error", f"the reference failed: {exc}"

    def run(self, cells: list[Cell]) -> None:
        groups: dict[Problem, list[Cell]] = {}
        for cell in cells:
            groups.setdefault(cell.problem, []).append(cell)
        try:
            for problem, group in groups.items():
                runnable = []
                for cell in group:
                    reason = skip_reason(cell)
                    if reason:
                        self._record(cell, time.perf_counter(), status="skipped", reason=reason)
                    else:
                        runnable.append(cell)
                if not runnable:
                    continue
                self._emit("reference", runnable[0])
                failed = self._reference(problem, runnable)
                for cell in runnable:
                    started = time.perf_counter()
                    if failed:
                        self._record(cell, started, status=failed[0], reason=failed[1])
                        continue
                    self._emit("start", cell)
                    self._run_cell(cell, started)
        finally:
            self.worker.close()

    def _run_cell(self, cell: Cell, started: float) -> None:
        threads = cell.threads or self.threads or default_threads()
        timeout = self.timeout or cell.timing.timeout
        try:
            result = self.worker.request(("cell", cell, str(self.cache_dir), threads), timeout)
        except WorkerTimeout as exc:
            self._record(cell, started, status="timeout", reason=str(exc))
        except WorkerCrashed as exc:
            self._record(cell, started, status="crashed", reason=str(exc))
        except WorkerError as exc:
            self._record(cell, started, status="error", reason=str(exc))
        else:
            self._record(cell, started, **result)
