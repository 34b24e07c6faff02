"""Contention: how much CPU other processes took while a cell was timed.

On a shared machine a slow sample is usually not the method's fault: another process
held a core, so one of the method's threads waited (an OpenMP barrier spins until its
descheduled sibling runs again) or the hypervisor gave the vCPU to another guest
(*steal*). Such a time says nothing about the code, and a comparison must not call it a
regression. So the worker measures, over the window in which a cell is timed:

- **others**: the CPU time every process of the machine used (the kernel's system-wide
  counters: user, nice, system, irq, softirq) minus the CPU time of this run's own
  processes (the worker that times the cell, with all its threads, and its parent, the
  runner), in cores: seconds of CPU per second of wall time;
- **steal**: the time the hypervisor ran another guest on this machine's vCPUs, in cores
  (Linux reports it; elsewhere it is 0).

A run pinned to some of the cores (a shard of ``--launcher local --cores``) counts those
cores only: a sibling shard busy on its own cores takes no CPU time from this one (it
shares the caches and the memory bandwidth, which these counters do not see), while any
process scheduled on this run's cores does.

A window is **contended** when others or steal exceed :data:`LIMIT_CORES` (a quarter of a
core) on average. The system-wide counters advance in clock ticks (10 ms on Linux), so a
short window is judged with one tick of slack per core: an idle machine's bookkeeping
(a daemon waking up) does not mark a cell, two busy processes on two cores mark every
cell they touch (measured: see ``tests/test_contention.py`` and the note of issue 13).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Mapping

#: Average cores used by other processes (or stolen) past which a window is contended.
LIMIT_CORES = 0.25
#: Seconds of one clock tick of the system-wide counters (USER_HZ).
try:
    TICK = 1.0 / os.sysconf("SC_CLK_TCK")
except (ValueError, OSError, AttributeError):
    TICK = 0.01


@dataclass
class Contention:
    """Other processes' CPU and steal over a timing window, in cores (CPU-seconds per second)."""

    others: float
    steal: float
    seconds: float
    contended: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Contention | None:
        if not isinstance(d, Mapping):
            return None
        try:
            return cls(float(d["others"]), float(d["steal"]), float(d["seconds"]), bool(d["contended"]))
        except (KeyError, TypeError, ValueError):
            return None

    def merge(self, other: Contention | None) -> Contention:
        """Two windows of one cell (two rounds): time-weighted averages; contended if either was."""
        if other is None:
            return self
        total = self.seconds + other.seconds
        w = (lambda a, b: (a * self.seconds + b * other.seconds) / total) if total > 0 else (lambda a, b: max(a, b))
        return Contention(w(self.others, other.others), w(self.steal, other.steal), total,
                          self.contended or other.contended)

    def describe(self, during: str = "it was timed") -> str:
        parts = [f"other processes used {self.others:.2f} cores"]
        if self.steal > 0.005:
            parts.append(f"the hypervisor stole {self.steal:.2f} cores")
        return " and ".join(parts) + f" over the {self.seconds:.2g} s {during}"


def _system(cpus: tuple[int, ...] | None = None) -> tuple[float, float]:
    """(busy CPU-seconds, stolen CPU-seconds) since boot, of the whole machine or of the
    logical CPUs ``cpus``."""
    import psutil

    if cpus:
        per = psutil.cpu_times(percpu=True)
        times = [per[i] for i in cpus if i < len(per)]
    else:
        times = [psutil.cpu_times()]
    busy = sum(t.user + t.system + getattr(t, "nice", 0.0) + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
               for t in times)
    return busy, sum(getattr(t, "steal", 0.0) for t in times)


def pinned_cpus() -> tuple[int, ...] | None:
    """The logical CPUs this process may run on, when that is fewer than the machine has
    (pinned); None when it may use them all or the platform does not say."""
    try:
        allowed = tuple(sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return None
    return allowed if 0 < len(allowed) < (os.cpu_count() or 0) else None


def _own(pids: tuple[int, ...]) -> float:
    """CPU-seconds of ``pids`` (this process with all its threads, and its parent)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except (psutil.Error, OSError):
            pass
    return total


class Probe:
    """Start at the beginning of a timing window, :meth:`stop` at its end."""

    def __init__(self, limit: float = LIMIT_CORES, pids: tuple[int, ...] | None = None):
        self.limit = limit
        self.pids = pids if pids is not None else (os.getpid(), os.getppid())
        self.cpus = pinned_cpus()
        self.cores = len(self.cpus) if self.cpus else os.cpu_count() or 1
        self._start = self._read()

    def _read(self) -> tuple[float, float, float, float] | None:
        try:
            busy, steal = _system(self.cpus)
            return time.perf_counter(), busy, steal, _own(self.pids)
        except Exception:  # no counters on this platform: contention is not measured
            return None

    def stop(self) -> Contention | None:
        end = self._read()
        if self._start is None or end is None:
            return None
        wall = end[0] - self._start[0]
        if wall <= 0:
            return None
        others_s = max(0.0, (end[1] - self._start[1]) - (end[3] - self._start[3]))
        steal_s = max(0.0, end[2] - self._start[2])
        # the counters advance in ticks: one tick per core of slack before calling it contention
        slack = TICK * self.cores
        contended = max(others_s, steal_s) > self.limit * wall + slack
        return Contention(others_s / wall, steal_s / wall, wall, contended)


def busy_now(seconds: float = 0.5) -> Contention | None:
    """Contention over the next ``seconds`` with this process idle: is the machine busy
    before a run starts?"""
    probe = Probe(pids=(os.getpid(),))
    time.sleep(seconds)
    return probe.stop()
