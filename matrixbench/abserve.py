"""One side of ``matrixbench ab``: a process that runs the code of one revision.

:mod:`matrixbench.ab` starts ``python -m matrixbench.abserve`` in each revision's git
worktree, with that worktree first on ``PYTHONPATH``, so that the engine, the task folders
and the suites are the revision's own while the Python environment is shared. It answers
one JSON request per line on stdin with one JSON line; the protocol has its own file
descriptor (a copy of the original stdout), and anything a method prints goes to stderr.

Requests (``op``):

- ``hello``: where this matrixbench was imported from (the driver checks it is the worktree);
- ``plan``: the cells of suites, as ``matrixbench run`` would plan them (``suites``,
  ``filter``, ``methods``, ``entry``, ``backend``): key, task, threads, timing and the
  benchmark's regression thresholds of each;
- ``prepare``: generate a cell's problem, make sure of its reference, call the method
  once, score it (status, reason, metrics) and, unless ``estimate`` is false, time one
  more call (the estimate; without it, the first call's time);
- ``time``: one sample of ``number`` calls of the prepared cell, in seconds per call,
  with the contention of its window (:mod:`matrixbench.contention`); with ``cpus``, on
  those CPUs only (a one-thread cell is pinned so that all blocks of a round share a CPU);
- ``stop``.

A request that fails answers ``{"error": ...}``; a method that raises during ``prepare``
is a cell status (``error``), not a failed request.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


class Side:
    """The revision's cells and the one prepared cell being timed."""

    def __init__(self) -> None:
        self.cells: dict[str, Any] = {}
        self.prepared: Any = None
        self.padding: Any = None
        self.threads = 1
        #: the CPUs this process may use, restored before each cell
        self.cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()

    def plan(self, req: dict[str, Any]) -> dict[str, Any]:
        from .commands.common import UsageError
        from .commands.run import RunOptions, plan_cells

        opts = RunOptions(suites=req.get("suites") or ["ci"], filter=req.get("filter") or None,
                          methods=req.get("methods") or None, entry=req.get("entry") or None,
                          backend=req.get("backend") or None, device=req.get("device") or None)
        try:
            _, cells, paths = plan_cells(opts)
        except UsageError as exc:
            return {"error": str(exc)}
        self.cells = {c.key: c for c in cells}
        from . import registry

        tasks = sorted({c.problem.task for c in cells})
        metrics = {t: {m.name: m.direction for m in registry.TASKS[t].metrics} for t in tasks}
        return {"suites": paths, "metrics": metrics, "cells": [
            {"key": c.key, "task": c.problem.task, "method": c.method, "dtype": c.dtype, "threads": c.threads,
             "timing": c.timing.to_dict(), "regression": dict(c.regression), "version": c.method_obj.version}
            for c in cells]}

    def prepare(self, req: dict[str, Any]) -> dict[str, Any]:
        from .execute import error_reason, prepare_cell, set_threads
        from .verdict import TIMED, Verdict, failed

        self.prepared = None
        from .runner import default_threads

        cell = self.cells[req["key"]]
        self.threads = cell.threads or default_threads()
        set_threads(self.threads)
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, self.cpus)
        prepared = prepare_cell(cell, Path(req["cache"]))
        if isinstance(prepared, Verdict):
            return {"status": prepared.status, "reason": prepared.reason, "metrics": {}}
        try:
            start = time.perf_counter()
            output = prepared.call()
            estimate = time.perf_counter() - start
            if req.get("estimate", True):  # a second call, warm: the estimate the blocks are sized by
                start = time.perf_counter()
                prepared.call()
                estimate = time.perf_counter() - start
        except Exception as exc:  # the method raised: the cell's status on this side
            v = failed("raised", error_reason(exc)[0])
            return {"status": v.status, "reason": v.reason, "metrics": {}}
        verdict, metrics, _ = prepared.evaluate(output)
        trials = None
        if verdict.status in TIMED and cell.trials > 1:  # the accuracy half on every seed, as `run` does
            from .execute import score_trials

            found, verdict = score_trials(prepared, verdict, metrics, estimate)
            trials, metrics = found.to_dict(), found.medians()
        if verdict.status in TIMED:
            self.prepared = prepared
        return {"status": verdict.status, "reason": verdict.reason, "metrics": metrics, "estimate": estimate,
                "threads": self.threads, "cpus": sorted(self.cpus), "trials": trials}

    def refresh(self, req: dict[str, Any]) -> dict[str, Any]:
        """New copies of the inputs at a new place in memory (a random-size block is held
        before them), so that each round times another placement."""
        import numpy as np

        from .execute import fresh_copy

        if self.prepared is None:
            return {"error": "no cell is prepared"}
        rng = np.random.default_rng(int(req.get("seed", 0)))
        self.padding = np.ones(int(rng.integers(1, 1 << 18)) * 8, dtype=np.uint8)
        self.prepared = fresh_copy(self.prepared)
        return {"ok": True}

    def time(self, req: dict[str, Any]) -> dict[str, Any]:
        from .contention import Probe
        from .timing import CpuTimer

        if self.prepared is None:
            return {"error": "no cell is prepared"}
        number = int(req["number"])
        if req.get("cpus"):  # the driver runs all four blocks of a round on the same CPU
            os.sched_setaffinity(0, set(req["cpus"]))
        probe = Probe()
        seconds = CpuTimer().sample(self.prepared.call, number) / number
        contention = probe.stop()
        return {"seconds": seconds, "contention": contention.to_dict() if contention else None}


def main() -> None:
    # the protocol keeps the original stdout; whatever a method prints (C code too) goes to stderr
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # this process's own heap layout (see matrixbench.ab.SideProcess.spawn): a block of a
    # random size (the driver's random-length variable, up to 1 MiB), held for the process's
    # life and allocated before the tasks import
    layout = bytearray(256 * len(os.environ.get("MATRIXBENCH_AB_LAYOUT", "")))
    from .discovery import load_plugins

    import matrixbench

    failed: dict[str, str] = {}
    try:
        failed = dict(load_plugins().failed)
        broken = None
    except Exception as exc:  # the revision's tasks do not load: every answer says so
        broken = f"cannot load the tasks: {type(exc).__name__}: {exc}"
    side = Side()
    for line in sys.stdin:
        req = json.loads(line)
        op = req.get("op")
        try:
            if op == "stop":
                break
            if op == "hello":
                answer: dict[str, Any] = {"package": str(Path(matrixbench.__file__).resolve().parent), "pid": os.getpid()}
            elif broken:
                answer = {"error": broken}
            elif op in ("plan", "prepare", "refresh", "time"):
                answer = getattr(side, op)(req)
                if op == "plan" and "error" in answer and failed:  # say why a method may be unknown
                    answer["error"] += "; modules that did not import: " + "; ".join(f"{k}: {v}" for k, v in failed.items())
            else:
                answer = {"error": f"unknown request {op!r}"}
        except Exception as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        proto.write(json.dumps(answer) + "\n")
    del layout
    # the driver waits for this process to end (matrixbench.fastexit)
    proto.close()
    from .fastexit import exit_now

    exit_now(0)


if __name__ == "__main__":
    main()
