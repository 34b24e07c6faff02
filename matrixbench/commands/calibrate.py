"""``matrixbench calibrate``: the machine's matmul rate and memory bandwidth, cached;
and the calibration a run records (measured once per machine when missing)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from .common import EXIT_OK, UsageError, cache_dir


def record_calibration(run_file: Any, cells: list[Any], measure: bool, threads: int | None, err: Any) -> None:
    """Put the machine's calibration for the run's CPU dtypes in the run file, measuring
    what is missing first (once per machine; ``--no-calibrate`` or
    ``MATRIXBENCH_CALIBRATE=0`` only records what is cached)."""
    from .. import calibrate
    from ..environment import machine_name
    from ..runner import default_threads

    threads = threads or default_threads()
    cache = cache_dir()
    dtypes = sorted({c.dtype for c in cells if c.device == "cpu" and c.dtype in ("float32", "float64", "bfloat16")})
    if measure and dtypes:
        missing = [d for d in dtypes if calibrate.entry_key("cpu", d, threads) not in calibrate.load(cache, machine_name())]
        if missing:
            err.print(f"calibrating this machine once ({', '.join(missing)} matmul rate and bandwidth; cached)", highlight=False)
            calibrate.calibrate(cache, machine_name(), ["cpu"], missing, threads)
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
