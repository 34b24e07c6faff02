"""``matrixbench calibrate``: the machine's matmul rate and memory bandwidth, cached;
and the calibration a run records (measured once per machine when missing)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from .common import EXIT_OK, UsageError, cache_dir


def record_calibration(run_file: Any, cells: list[Any], measure: bool, threads: int | None, err: Any) -> None:
    """Put the machine's calibration for the run's devices and dtypes in the run file,
    measuring what is missing first (once per machine; ``--no-calibrate`` or
    ``MATRIXBENCH_CALIBRATE=0`` only records what is cached). CUDA is measured only where
    a GPU is present (its cells are skipped otherwise)."""
    from .. import calibrate
    from ..backends import device_available
    from ..environment import machine_name
    from ..runner import default_threads

    threads = threads or default_threads()
    cache = cache_dir()
    wanted = sorted({(c.device, c.dtype) for c in cells if c.dtype in ("float32", "float64", "bfloat16")
                     and (c.device == "cpu" or device_available("torch", c.device) is None)})
    if measure and wanted:
        known = calibrate.load(cache, machine_name())
        missing = [(dev, d) for dev, d in wanted if calibrate.entry_key(dev, d, threads) not in known]
        if missing:
            err.print(f"calibrating this machine once ({', '.join(f'{dev} {d}' for dev, d in missing)} matmul rate "
                      "and bandwidth; cached)", highlight=False)
            for dev in sorted({dev for dev, _ in missing}):
                calibrate.calibrate(cache, machine_name(), [dev], [d for v, d in missing if v == dev], threads)
    cached = calibrate.load(cache, machine_name())
    used = {k: v for k, v in cached.items() if v["threads"] == threads or v["device"] != "cpu"}
    if used:
        run_file.data["calibration"] = used
        run_file.save()


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .. import calibrate
    from ..backends import device_available
    from ..console import make_console
    from ..environment import machine_name
    from ..runner import default_threads

    out = make_console()
    threads = args.threads or default_threads()
    devices = args.device or ["cpu"]
    for device in devices:
        reason = device_available("torch", device)
        if reason:
            raise UsageError(f"cannot calibrate {device}: {reason}")
    cached = calibrate.calibrate(cache_dir(), machine_name(), devices, args.dtype or ["float32", "float64"], threads,
                                 force=args.force)
    table = Table("device", "dtype", "threads", "matmul GFLOP/s", "bandwidth GB/s", "measured")
    for entry in cached.values():
        table.add_row(entry["device"], entry["dtype"], str(entry["threads"]), f"{entry['matmul_gflops']:.1f}",
                      f"{entry['bandwidth_gbs']:.1f}", entry["measured"])
    out.print(table)
    out.print(f"cached in {calibrate.cache_path(cache_dir(), machine_name())}", highlight=False)
    return EXIT_OK
