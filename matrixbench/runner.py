"""The runner: cells -> worker -> results, appended to the run file as each one finishes.

Cells are grouped by problem instance so that the input is generated, and the float64
reference computed (or read from the disk cache), once per problem. With ``rounds: R``
the whole list of cells is passed R times (see :mod:`matrixbench.timing`); the record of
a cell is rewritten after each of its rounds with the samples pooled so far. Checks that need no
worker (a missing dependency, an unsupported dtype or device) give ``skipped`` results
with their reason straight away.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from . import registry
from .backends import device_available
from .plan import Cell, Problem
from .store import RunFile, is_complete, now, rounds_done
from .timing import add_round
from .worker import Worker, WorkerCrashed, WorkerError, WorkerTimeout

#: ``progress(event, cell, payload)``: "reference"; "start" (payload: the round);
#: "advance" (payload: cell-rounds done); "done" (payload: the final record).
Progress = Callable[[str, Cell, Any], None]


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

    def _emit(self, event: str, cell: Cell, payload: Any = None) -> None:
        if self.progress is not None:
            self.progress(event, cell, payload)

    def _record(self, cell: Cell, started: float, prev: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
        """Write the cell's record, pooled with its earlier rounds, and report progress."""
        record = base_record(cell)
        record.update(fields)
        record["wall"] = time.perf_counter() - started
        if prev is not None:
            record["wall"] += prev.get("wall", 0.0)
            if record["time"] is not None and prev.get("time"):
                record["time"] = add_round(prev["time"], record["time"])
            if record["memory"] is not None and prev.get("memory"):
                record["memory"]["peak_bytes"] = max(record["memory"]["peak_bytes"], prev["memory"]["peak_bytes"])
            if record["time"] is not None and prev.get("time") and record["gflops"] and record["flops"]:
                record["gflops"] = record["flops"] / record["time"]["median"] / 1e9
        elif record["time"] is not None:
            record["time"] = add_round(None, record["time"])
        record["finished"] = now()
        self.run_file.add(record)
        before = rounds_done(prev)
        if is_complete(record):
            self._emit("advance", cell, max(1, cell.timing.rounds - before))
            self._emit("done", cell, record)
        else:
            self._emit("advance", cell, 1)
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

    def steps(self, cells: list[Cell]) -> int:
        """Cell-rounds still to do: the size of the progress bar."""
        return sum(max(1, c.timing.rounds - rounds_done(self.run_file.record(c.key))) for c in cells)

    def run(self, cells: list[Cell]) -> None:
        """Run every round of every cell; with ``rounds: R`` the whole list is passed R times.

        Cells already in the run file continue where they stopped (``--resume``): a
        finished cell is not run again, a cell with fewer rounds than planned gets the rest.
        """
        groups: dict[Problem, list[Cell]] = {}
        for cell in cells:
            groups.setdefault(cell.problem, []).append(cell)
        rounds = max((c.timing.rounds for c in cells), default=1)
        try:
            for r in range(1, rounds + 1):
                for problem, group in groups.items():
                    self._run_round(r, problem, group)
        finally:
            self.worker.close()

    def _run_round(self, r: int, problem: Problem, group: list[Cell]) -> None:
        runnable = []
        for cell in group:
            prev = self.run_file.record(cell.key)
            if r > cell.timing.rounds or rounds_done(prev) != r - 1 or (prev and is_complete(prev)):
                continue
            reason = skip_reason(cell) if prev is None else None
            if reason:
                self._record(cell, time.perf_counter(), None, status="skipped", reason=reason)
            else:
                runnable.append(cell)
        if not runnable:
            return
        self._emit("reference", runnable[0])
        failed = self._reference(problem, runnable)
        for cell in runnable:
            started = time.perf_counter()
            prev = self.run_file.record(cell.key)
            if failed:
                self._record(cell, started, prev, status=failed[0], reason=failed[1])
                continue
            self._emit("start", cell, r)
            self._run_cell(cell, started, prev)

    def _run_cell(self, cell: Cell, started: float, prev: dict[str, Any] | None) -> None:
        threads = cell.threads or self.threads or default_threads()
        timeout = self.timeout or cell.timing.timeout
        one_round = replace(cell, timing=cell.timing.per_round())
        try:
            result = self.worker.request(("cell", one_round, str(self.cache_dir), threads), timeout)
        except WorkerTimeout as exc:
            self._record(cell, started, prev, status="timeout", reason=str(exc))
        except WorkerCrashed as exc:
            self._record(cell, started, prev, status="crashed", reason=str(exc))
        except WorkerError as exc:
            self._record(cell, started, prev, status="error", reason=str(exc))
        else:
            self._record(cell, started, prev, **result)
