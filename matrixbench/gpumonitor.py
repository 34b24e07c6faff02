"""What a CUDA cell's time was measured under: the timer, the L2 flush, and the GPU's
clocks, power and throttle reasons sampled while it ran (NVML).

Peers document the pitfalls this records: CUDA-event timing counts the CPU's launch
gaps; a CUDA-graph replay without an L2 flush inflates bandwidth (up to 1.6x); a GPU's
SM clock droops 15-20% under sustained load. Each CUDA record gets ``gpu``:

- ``timer``: ``cuda_event`` (events around the calls, after a synchronize) or
  ``cuda_graph`` (events around graph replays); ``l2_flush``: whether a 256 MiB buffer
  was written before each sample (``timing: {cold: true}``; never inside the timed span);
- ``sm_clock_mhz`` and ``power_w`` (min, median, max over the samples), ``throttle``:
  the NVML clock-event reasons seen (``sw_power_cap``, ``hw_slowdown``, ``sw_thermal``,
  ``hw_thermal``, ``hw_power_brake``), and ``throttled``: any of them seen. A throttled
  cell is marked, as a contended CPU cell is.

NVML comes from ``nvidia-ml-py`` (``import pynvml``), an optional extra; without it the
record says so (``nvml: "not installed"``). Sampling runs on a thread every 20 ms while
the cell is timed. NOT VERIFIED ON A GPU in this repository's CI.
"""

from __future__ import annotations

import statistics
import threading
from typing import Any

#: NVML clock-event reason bits (nvml.h, nvmlClocksEventReason*) that slow the SM
REASONS = {0x4: "sw_power_cap", 0x8: "hw_slowdown", 0x20: "sw_thermal", 0x40: "hw_thermal", 0x80: "hw_power_brake"}
PERIOD = 0.02


class GpuMonitor:
    """Samples one GPU between :meth:`start` and :meth:`stop`."""

    def __init__(self, index: int = 0):
        self.samples: list[tuple[float, float, int]] = []
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self._nvml = pynvml
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except ImportError:
            self._nvml, self.error = None, "not installed (pip install nvidia-ml-py)"
        except Exception as exc:  # noqa: BLE001 - NVML missing or refused: recorded, not fatal
            self._nvml, self.error = None, f"{type(exc).__name__}: {exc}"

    def _sample(self) -> None:
        nv = self._nvml
        while not self._stop.is_set():
            try:
                clock = nv.nvmlDeviceGetClockInfo(self._handle, nv.NVML_CLOCK_SM)
                power = nv.nvmlDeviceGetPowerUsage(self._handle) / 1000.0
                reasons = nv.nvmlDeviceGetCurrentClocksThrottleReasons(self._handle)
                self.samples.append((float(clock), power, int(reasons)))
            except Exception as exc:  # noqa: BLE001
                self.error = f"{type(exc).__name__}: {exc}"
                return
            self._stop.wait(PERIOD)

    def start(self) -> GpuMonitor:
        if self._nvml is not None:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def stop(self, timer: str, l2_flush: bool) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        out: dict[str, Any] = {"timer": timer, "l2_flush": l2_flush}
        if not self.samples:
            out["nvml"] = self.error or "no sample"
            return out
        clocks, power, bits = zip(*self.samples)

        def spread(values: tuple[float, ...]) -> dict[str, float]:
            return {"min": min(values), "median": statistics.median(values), "max": max(values)}

        seen = sorted({name for s in bits for bit, name in REASONS.items() if s & bit})
        out.update(sm_clock_mhz=spread(clocks), power_w=spread(power), throttle=seen, throttled=bool(seen),
                   samples=len(self.samples))
        return out
