"""``matrixbench export RUN... -o FILE``: the cells of run files as CSV, JSON lines or Parquet."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..console import make_console
from ..export import FORMATS, rows, write
from ..store import RunFileError
from .common import EXIT_OK, UsageError


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.output)
    fmt = args.format or out.suffix.lstrip(".")
    if fmt not in FORMATS:
        raise UsageError(f"cannot tell the format of {out}: give --format ({', '.join(FORMATS)})")
    try:
        table = rows(args.runs)
    except RunFileError as exc:
        raise UsageError(str(exc)) from None
    try:
        write(table, out, fmt)
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    make_console().print(f"{len(table)} cells of {len(args.runs)} run file(s) written to {out} ({fmt})", highlight=False)
    return EXIT_OK
