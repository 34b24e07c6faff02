"""Timing methodology: warm-up, calibration, adaptive repeats, robust statistics.

Only the method's call is timed; its output is complete before the clock stops.

1. Warm-up calls, not counted (compilation, caches, lazy initialization): at least
   ``warmup``, then more until the call time settles (a call no more than ``settle``
   faster than the one before), at most ``warmup_max`` calls or ``max_time / 2``
   seconds. The last one estimates the cost of a call; the record keeps the count.
2. Calibration: ``number`` calls per sample so that a sample lasts at least
   ``sample_time`` (well above the timer's resolution), as ``timeit.autorange`` and asv do.
3. Repeats: samples are taken until ``min_time`` has passed and ``min_repeats`` samples
   exist, or earlier once at least ``min_repeats`` samples have an IQR/median below
   ``iqr_stop``; never past ``max_time`` (at least one sample is always taken).
4. Statistics: median (the figure to quote), its 95% percentile-bootstrap interval
   (999 resamples, fixed seed, from 5 samples on), IQR, min, mean, max,
   count, raw samples (seconds per call).
5. Rounds (``rounds: R``, as asv's ``rounds``): the runner passes over the whole list of
   cells R times, each pass giving every cell ``1/R`` of its time budget, and pools the
   samples. A slow spell of a shared machine (another tenant, a thermal or frequency
   change) then touches every cell a little instead of a few cells entirely, which is
   what makes two runs of the same code agree.

CPU samples use ``time.perf_counter_ns``. CUDA samples use CUDA events recorded after a
synchronize; in ``cold`` mode the L2 cache is flushed before each sample.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, Mapping

import numpy as np


@dataclass(frozen=True)
class TimingSettings:
    warmup: int = 1
    warmup_max: int = 20
    settle: float = 0.1
    min_time: float = 0.2
    max_time: float = 2.0
    min_repeats: int = 5
    sample_time: float = 0.01
    iqr_stop: float = 0.02
    timeout: float = 300.0
    cold: bool = False
    rounds: int = 1

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TimingSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def per_round(self) -> TimingSettings:
        """The budget of one of ``rounds`` passes: time and repeats split evenly."""
        if self.rounds <= 1:
            return self
        r = self.rounds
        return replace(self, min_time=self.min_time / r, max_time=self.max_time / r,
                       min_repeats=max(1, math.ceil(self.min_repeats / r)))


#: ``--quick``: one warm-up call, a few samples, a fraction of a second a cell.
QUICK = {"warmup": 1, "warmup_max": 1, "min_time": 0.0, "max_time": 0.25, "min_repeats": 3}


@dataclass
class TimeStats:
    """Seconds per call of one cell: statistics over all samples, and each round's summary."""

    median: float
    iqr: float
    min: float
    mean: float
    max: float
    count: int
    number: int
    samples: list[float]
    total: float
    timer: str
    unit: str = "s"
    rounds: list[dict[str, Any]] = field(default_factory=list)
    #: 95% bootstrap interval of the median (None: fewer than 5 samples, or not yet
    #: computed: :meth:`to_dict` fills it in)
    median_ci: list[float] | None = None
    #: warm-up calls made before the samples (see ``measure``)
    warmup: int = 0

    def to_dict(self) -> dict[str, Any]:
        # The interval is computed here, where the record is saved (the parent process),
        # not in the worker right after timing: a method that left busy threads behind
        # would make a bootstrap there as slow as its timeout.
        if self.median_ci is None:
            self.median_ci = median_interval(self.samples)
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TimeStats:
        known = {f.name for f in fields(cls)}
        stats = cls(**{k: v for k, v in d.items() if k in known})
        if not stats.rounds:  # a record written before rounds were kept: one round
            stats.rounds = [{"median": stats.median, "count": stats.count, "number": stats.number}]
        return stats

    def merge(self, other: TimeStats) -> TimeStats:
        """Pool ``other`` (a later round) into these samples, as
        ``torch.utils.benchmark.Measurement.merge`` does: the statistics are those of all
        samples together, and ``rounds`` keeps each round's median, count and calls per
        sample, so that drift between rounds stays visible."""
        pooled = summarize(self.samples + other.samples, max(self.number, other.number), other.timer,
                           self.total + other.total)
        pooled.rounds = self.rounds + other.rounds
        pooled.warmup = self.warmup + other.warmup
        return pooled


def median_interval(samples: list[float], confidence: float = 0.95) -> list[float] | None:
    """Percentile-bootstrap interval of the median (Efron and Tibshirani, *An Introduction
    to the Bootstrap*, 1993, section 13.3): 999 resamples with replacement, seed 0, so the
    same samples always give the same interval; None below 5 samples, where it means
    little. Written with NumPy rather than ``scipy.stats.bootstrap`` (same method,
    ``method="percentile"``) because importing ``scipy.stats`` costs 0.9 s in every
    process that saves a record, which added minutes to the test suite."""
    arr = np.asarray(samples, dtype=float)
    if len(arr) < 5:
        return None
    if arr.min() == arr.max():
        return [float(arr[0]), float(arr[0])]
    rng = np.random.default_rng(0)
    medians = np.median(arr[rng.integers(0, len(arr), size=(999, len(arr)))], axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(medians, [alpha, 1 - alpha])
    return [float(low), float(high)]


def summarize(samples: list[float], number: int, timer: str, total: float) -> TimeStats:
    """Statistics of one round's samples (seconds per call)."""
    arr = np.asarray(samples, dtype=float)
    q1, med, q3 = np.percentile(arr, [25, 50, 75])
    stats = TimeStats(float(med), float(q3 - q1), float(arr.min()), float(arr.mean()), float(arr.max()),
                      len(samples), number, [float(s) for s in samples], total, timer)
    stats.rounds = [{"median": stats.median, "count": stats.count, "number": number}]
    return stats


class CpuTimer:
    """Wall-clock seconds for ``number`` calls with ``perf_counter_ns``."""

    name = "perf_counter_ns"

    def sample(self, call: Callable[[], Any], number: int) -> float:
        start = time.perf_counter_ns()
        for _ in range(number):
            call()
        return (time.perf_counter_ns() - start) * 1e-9


class CudaTimer:
    """CUDA events around ``number`` calls, after a synchronize; optional L2 flush."""

    name = "cuda_event"

    def __init__(self, cold: bool = False):
        import torch

        self.torch = torch
        # 256 MiB: larger than the L2 of any current GPU (50 MiB on H100).
        self.flush_buffer = torch.empty(64 * 1024 * 1024, dtype=torch.int32, device="cuda") if cold else None

    def sample(self, call: Callable[[], Any], number: int) -> float:
        torch = self.torch
        if self.flush_buffer is not None:
            self.flush_buffer.zero_()
        torch.cuda.synchronize()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(number):
            call()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) * 1e-3


def warm_up(call: Callable[[], Any], settings: TimingSettings, timer: CpuTimer | CudaTimer) -> tuple[float, int]:
    """Warm-up calls until the call time settles (see the module docstring): the last
    call's seconds (the estimate of one call) and the number of calls."""
    times: list[float] = []
    begin = time.perf_counter()
    while True:
        times.append(timer.sample(call, 1))
        if len(times) < max(settings.warmup, 1):
            continue
        settled = len(times) >= 2 and times[-1] >= (1 - settings.settle) * times[-2]
        # a call that alone takes half the budget is not repeated to see it settle
        spent = time.perf_counter() - begin >= settings.max_time / 2
        if settled or spent or len(times) >= max(settings.warmup_max, settings.warmup, 1):
            break
    return times[-1], len(times)


def measure(call: Callable[[], Any], settings: TimingSettings, timer: CpuTimer | CudaTimer) -> TimeStats:
    """Time ``call`` per the methodology above; returns seconds per call."""
    estimate, warmups = warm_up(call, settings, timer)
    number = 1 if estimate >= settings.sample_time else max(1, math.ceil(settings.sample_time / max(estimate, 1e-9)))
    samples: list[float] = []
    begin = time.perf_counter()
    while True:
        samples.append(timer.sample(call, number) / number)
        elapsed = time.perf_counter() - begin
        if elapsed >= settings.max_time:
            break
        if len(samples) >= settings.min_repeats:
            if elapsed >= settings.min_time:
                break
            q1, med, q3 = np.percentile(samples, [25, 50, 75])
            if med > 0 and (q3 - q1) / med <= settings.iqr_stop and len(samples) >= 2 * settings.min_repeats:
                break
    stats = summarize(samples, number, timer.name, time.perf_counter() - begin)
    stats.warmup = warmups
    return stats
