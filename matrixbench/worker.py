"""The worker process: methods run here, so that a failure costs one cell, never the run.

The worker only runs calls: it generates a problem and its reference, and runs a cell
(:func:`matrixbench.execute.run_cell`), sending back what came out. The parent sends
requests over a pipe and waits with a deadline. A method that raises
is reported by the worker itself (``error``). If the deadline passes, the worker is
killed (``timeout``); if the pipe breaks because the process died (segfault, ``os._exit``,
out of memory), the exit code or signal is the reason (``crashed``). Either way the next
request starts a fresh worker; so does a cell that leaves threads running. The worker
dies with its parent, even when the parent is killed with ``SIGKILL``. Workers are started with ``spawn``: a forked child of a
process whose thread pools are already running can deadlock.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class WorkerTimeout(Exception):
    pass


class WorkerCrashed(Exception):
    pass


class WorkerError(Exception):
    """The request itself failed inside a live worker (e.g. the reference raised)."""


def _die_with_parent(parent: int) -> None:
    """End this worker when the runner ``parent`` dies, even by ``kill -9`` (which no handler
    sees): Linux's parent-death signal, and a watchdog thread for where that is missing.
    The runner passes its pid: read here, ``getppid()`` would already name init if the
    runner died while this process was starting, and the worker would outlive it."""
    import os
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="matrixbench-parent-watch", daemon=True).start()


def _native_threads() -> int:
    try:
        import os

        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def _start_pools() -> None:
    """Start torch's intra-op thread pool before a cell's native threads are counted: the
    pool starts on the first parallel operation and spins for a while after it, so a
    worker whose first such operation came inside a cell (the reference and the inputs
    used only NumPy) was taken for one whose method left threads busy, replaced, and the
    next cell's fresh worker again: every cell of such a task paid a worker start."""
    try:
        import torch
    except ImportError:
        return
    torch.ones(1 << 17).exp_().sum()  # above the 32768-element grain: runs on every thread


def _cpu_seconds() -> float:
    import os

    t = os.times()
    return t.user + t.system


def _leftover(threads_before: set[int], native_before: int, grace: float = 0.2) -> str | None:
    """What a cell left running that would slow every later cell of this worker: Python
    threads still alive after ``grace`` seconds, or new native threads that keep the CPU
    busy while nothing runs (a thread pool starting on first use is idle, and fine)."""
    import threading

    deadline = time.monotonic() + grace
    while True:
        extra = [t for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()]
        if not extra or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    if extra:
        return f"the method left {len(extra)} Python thread(s) running"
    if _native_threads() > native_before:
        cpu, wall = _cpu_seconds(), time.monotonic()
        time.sleep(0.1)
        busy = (_cpu_seconds() - cpu) / max(time.monotonic() - wall, 1e-3)
        if busy > 0.3:
            return f"the method left native threads busy ({busy:.0%} of a core while idle)"
    return None


def _serve(conn: Any, plugins: list[str], parent: int) -> None:
    _die_with_parent(parent)  # first: the imports below take seconds on a loaded machine
    import gc
    import os
    import threading

    from .discovery import load_plugins
    from .fastexit import exit_now
    from .execute import ensure_reference, run_cell, set_threads

    # Ctrl-C is the parent's to handle: it records what finished and stops the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        report = load_plugins(plugins)
        # Each cell's memory figure starts with a full garbage collection (matrixbench.memory),
        # which walks every object of torch and the task modules: 0.13 s a cell on a 2-core
        # VM, most of a small cell's cost. Frozen, they are never walked again; what a
        # cell leaves behind is still collected.
        gc.collect()
        gc.freeze()
        conn.send(("ready", report.failed))
        while True:
            kind, *args = conn.recv()
            if kind == "stop":
                # nothing is left to save; the runner waits for this process to end
                conn.close()
                exit_now(0)
            try:
                if kind == "reference":
                    problem, cache_dir = args
                    conn.send(("ok", ensure_reference(problem, Path(cache_dir))))
                elif kind == "cell":
                    cell, cache_dir, threads = args
                    thread_info = set_threads(threads)
                    _start_pools()
                    before = {t.ident for t in threading.enumerate()}
                    native = _native_threads()
                    result = run_cell(cell, Path(cache_dir))
                    result.threads = thread_info
                    left = _leftover(before, native)
                    if left:
                        result.notes.append(left + "; the worker was replaced after this cell")
                    conn.send(("last", result) if left else ("ok", result))
                    if left:  # a fresh worker for the next cell; os._exit: a leaked thread may never end
                        conn.close()
                        os._exit(0)
                else:
                    raise ValueError(f"unknown request {kind!r}")
            except Exception as exc:
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "the worker stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory, or by another process)" if name == "SIGKILL" else ""
        return f"the worker died from {name}{hint}"
    return f"the worker exited with code {code}"


@dataclass
class Worker:
    """A restartable worker process; :meth:`request` never hangs past its timeout."""

    plugins: list[str]
    startup_timeout: float = 120.0

    def __post_init__(self) -> None:
        self._proc: Any = None
        self._conn: Any = None
        self.starts = 0
        self.plugin_failures: dict[str, str] = {}

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self.plugins, os.getpid()), daemon=True, name="matrixbench-worker")
        self._proc.start()
        child.close()
        self._conn = parent
        self.starts += 1
        if not parent.poll(self.startup_timeout):
            self.kill()
            raise WorkerCrashed(f"the worker did not start within {self.startup_timeout:.0f} s")
        try:
            _, self.plugin_failures = parent.recv()
        except (EOFError, OSError):
            code = self._reap()
            raise WorkerCrashed(_describe_exit(code)) from None

    def _reap(self) -> int | None:
        proc = self._proc
        self._proc, self._conn = None, None
        if proc is None:
            return None
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        return proc.exitcode

    def kill(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
        self._reap()

    def request(self, message: tuple[Any, ...], timeout: float) -> Any:
        """Send ``message``; return the payload or raise WorkerTimeout/WorkerCrashed/WorkerError."""
        if self._proc is None or not self._proc.is_alive():
            self._reap()
            self._start()
        try:
            self._conn.send(message)
        except (BrokenPipeError, OSError):
            raise WorkerCrashed(_describe_exit(self._reap())) from None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise WorkerTimeout(f"no answer within the {timeout:g} s timeout; the worker was killed")
            if self._conn.poll(min(remaining, 0.5)):
                try:
                    status, payload = self._conn.recv()
                except (EOFError, OSError):
                    raise WorkerCrashed(_describe_exit(self._reap())) from None
                if status == "error":
                    raise WorkerError(payload)
                if status == "last":  # the worker is ending itself: reap it now
                    self.kill()
                return payload
            if not self._proc.is_alive() and not self._conn.poll(0):
                raise WorkerCrashed(_describe_exit(self._reap()))

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(("stop",))
                self._proc.join(5)
            except (BrokenPipeError, OSError):
                pass
        self.kill()
