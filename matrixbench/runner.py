"""The runner: orders cells, sends them to the worker, saves each result as it comes.

Cells are grouped by problem instance so that the input is generated, checked and the
float64 reference computed (or read from the disk cache) once per problem. With
``rounds: R`` the whole list of cells is passed R times (see :mod:`matrixbench.timing`);
a cell's record is rewritten after each of its rounds with the samples pooled so far
(:meth:`~matrixbench.record.CellResult.merge`). The runner decides no status: the
verdicts come from :mod:`matrixbench.verdict`, through the worker or, for what needs no
worker (a missing dependency, an unsupported dtype or device), straight from ``check``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from .plan import Cell, Problem
from .record import CellResult, now
from .store import RunFile
from .verdict import Verdict, check, failed, invalid
from .worker import Worker, WorkerCrashed, WorkerError, WorkerTimeout

#: ``progress(event, cell, payload)``: "reference"; "start" (payload: the round);
#: "advance" (payload: cell-rounds done); "done" (payload: the final record as a dict).
Progress = Callable[[str, Cell, Any], None]


def default_threads() -> int:
    """Physical cores, but no more than the cores this process may use (a pinned shard)."""
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        import psutil

        return min(allowed, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
    except ImportError:
        return min(allowed, os.cpu_count() or 1)


def cell_rounds(result: CellResult) -> int:
    """Rounds a cell's settings ask for."""
    return int(result.timing_settings.get("rounds", 1))


def rounds_left(planned: int, earlier: CellResult | None) -> int:
    """Rounds a cell of ``planned`` rounds still needs after ``earlier`` (0 when complete)."""
    if earlier is None:
        return max(1, planned)
    return 0 if earlier.complete else max(0, planned - earlier.rounds_done)


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

    def _save(self, result: CellResult, started: float, earlier: CellResult | None) -> None:
        """Write the cell's record, pooled with its earlier rounds, and report progress."""
        result.wall = time.perf_counter() - started
        result.finished = now()
        result.merge(earlier)
        self.run_file.add(result)
        if result.complete:
            self._emit("advance", None, max(1, rounds_left(cell_rounds(result), earlier)))
            self._emit("done", None, self.run_file.record(result.key))
        else:
            self._emit("advance", None, 1)

    def steps(self, cells: list[Cell]) -> int:
        """Cell-rounds still to do: the size of the progress bar."""
        return sum(rounds_left(c.timing.rounds, self.run_file.result(c.key)) for c in cells)

    def run(self, cells: list[Cell]) -> None:
        """Run every round of every cell; with ``rounds: R`` the whole list is passed R times.

        Cells already in the run file continue where they stopped (``--resume``): a
        finished cell is not run again, a cell with fewer rounds than planned gets the
        rest, in the same order as a run that was never interrupted.
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

    def _due(self, r: int, cell: Cell) -> tuple[bool, CellResult | None]:
        """Whether ``cell`` runs its round ``r`` now, and its earlier rounds."""
        earlier = self.run_file.result(cell.key)
        done = 0 if earlier is None else earlier.rounds_done
        return (r <= cell.timing.rounds and done == r - 1 and not (earlier and earlier.complete)), earlier

    def _run_round(self, r: int, problem: Problem, group: list[Cell]) -> None:
        runnable = []
        for cell in group:
            due, earlier = self._due(r, cell)
            if not due:
                continue
            verdict = check(cell) if earlier is None else None
            if verdict:
                self._save(CellResult.of(cell).set(verdict), time.perf_counter(), None)
            else:
                runnable.append(cell)
        if not runnable:
            return
        self._emit("reference", runnable[0])
        started = time.perf_counter()
        problem_failure, checksum = self._reference(problem, runnable)
        for cell in runnable:
            earlier = self.run_file.result(cell.key)
            if problem_failure:
                result = CellResult.of(cell).set(problem_failure)
                result.input_checksum = checksum
                self._save(result, started, earlier)
                continue
            self._emit("start", cell, r)
            self._run_cell(cell, earlier)

    def _reference(self, problem: Problem, cells: list[Cell]) -> tuple[Verdict | None, str | None]:
        """Generate the problem and its reference in the worker: (the verdict for all its
        cells when the problem is invalid or its reference failed, the inputs' checksum)."""
        timeout = self.timeout or max(c.timing.timeout for c in cells)
        try:
            info = self.worker.request(("reference", problem, str(self.cache_dir)), timeout)
        except WorkerTimeout as exc:
            return failed("timeout", f"the reference timed out: {exc}"), None
        except WorkerCrashed as exc:
            return failed("crashed", f"the reference crashed: {exc}"), None
        except WorkerError as exc:
            return failed("raised", f"the problem or its reference failed: {exc}"), None
        if info["invalid"]:
            return invalid(info["invalid"]), info["checksum"]
        return None, info["checksum"]

    def _run_cell(self, cell: Cell, earlier: CellResult | None) -> None:
        started = time.perf_counter()
        threads = cell.threads or self.threads or default_threads()
        timeout = self.timeout or cell.timing.timeout
        one_round = replace(cell, timing=cell.timing.per_round())
        try:
            result: CellResult = self.worker.request(("cell", one_round, str(self.cache_dir), threads), timeout)
            result.timing_settings = cell.timing.to_dict()  # the whole cell's settings, not one round's
        except WorkerTimeout as exc:
            result = CellResult.of(cell).set(failed("timeout", str(exc)))
        except WorkerCrashed as exc:
            result = CellResult.of(cell).set(failed("crashed", str(exc)))
        except WorkerError as exc:
            result = CellResult.of(cell).set(failed("raised", str(exc)))
        self._save(result, started, earlier)

