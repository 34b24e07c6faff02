"""Machine calibration: the matrix-product rate and the memory bandwidth, per device and dtype.

The two ceilings of a roofline analysis (Williams, Waterman, Patterson 2009, "Roofline: an
insightful visual performance model"), measured rather than read from a datasheet:

- **matmul rate** (GFLOP/s): ``torch.matmul`` of two ``n x n`` matrices, ``2 n^3`` FLOPs,
  with the same torch and thread count the runs use; n = 2048 on the CPU, 8192 on CUDA;
- **bandwidth** (GB/s): copying a 256 MiB buffer into another, counting the bytes read
  and the bytes written (``2 x 256 MiB`` per copy), as STREAM's Copy kernel does.

Each figure is the median of the harness's own timing (:mod:`matrixbench.timing`).
Results are cached per machine under ``<cache>/calibration/<machine>.json``, keyed by
device, dtype and threads; runs record the calibration they used, and the report's
"share of peak" is a cell's GFLOP/s over the matmul rate of its device and dtype.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .store import atomic_write_json, now
from .timing import CpuTimer, CudaTimer, TimingSettings, measure

SETTINGS = TimingSettings(warmup=1, min_time=0.5, max_time=3.0, min_repeats=5)
MATMUL_N = {"cpu": 2048, "cuda": 8192}
COPY_BYTES = 256 * 1024 * 1024


def entry_key(device: str, dtype: str, threads: int) -> str:
    return f"{device}/{dtype}/threads={threads}"


def cache_path(cache_dir: Path, machine: str) -> Path:
    return Path(cache_dir) / "calibration" / f"{machine}.json"


def load(cache_dir: Path, machine: str) -> dict[str, Any]:
    """The cached calibration of ``machine`` (``{key: entry}``), empty if none."""
    path = cache_path(cache_dir, machine)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def measure_one(device: str, dtype: str, threads: int, settings: TimingSettings = SETTINGS) -> dict[str, Any]:
    """Measure the matmul rate and the copy bandwidth of one device and dtype."""
    import torch

    from .execute import set_threads

    set_threads(threads)
    tdtype = getattr(torch, dtype)
    n = MATMUL_N[device]
    gen = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=gen, dtype=torch.float32).to(device=device, dtype=tdtype)
    b = torch.randn(n, n, generator=gen, dtype=torch.float32).to(device=device, dtype=tdtype)
    out = torch.empty_like(a)
    timer = CudaTimer() if device == "cuda" else CpuTimer()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def product() -> None:
        torch.matmul(a, b, out=out)
        sync()

    mm = measure(product, settings, timer)
    del a, b, out
    count = COPY_BYTES // torch.tensor([], dtype=tdtype).element_size()
    src = torch.ones(count, dtype=tdtype, device=device)
    dst = torch.empty_like(src)

    def copy() -> None:
        dst.copy_(src)
        sync()

    cp = measure(copy, settings, timer)
    return {
        "device": device, "dtype": dtype, "threads": threads, "measured": now(),
        "matmul_gflops": 2 * n**3 / mm.median / 1e9, "matmul_n": n, "matmul_median_s": mm.median,
        "bandwidth_gbs": 2 * COPY_BYTES / cp.median / 1e9, "copy_bytes": COPY_BYTES, "copy_median_s": cp.median,
        "method": "torch.matmul n x n (2 n^3 FLOPs); Tensor.copy_ of 256 MiB (bytes read + written); medians",
    }


def calibrate(cache_dir: Path, machine: str, devices: list[str], dtypes: list[str], threads: int,
              force: bool = False) -> dict[str, Any]:
    """Measure what the cache lacks (or everything with ``force``); return the whole cache."""
    cached = load(cache_dir, machine)
    for device in devices:
        for dtype in dtypes:
            key = entry_key(device, dtype, threads)
            if force or key not in cached:
                cached[key] = measure_one(device, dtype, threads)
                atomic_write_json(cache_path(cache_dir, machine), cached)
    return cached
