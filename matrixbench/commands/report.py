"""``matrixbench report``: an HTML report of run files (or Markdown, or LaTeX), and its figures."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..console import make_console
from ..store import RunFileError, read_run
from .common import EXIT_OK, UsageError, plugins


def newest_run(results_dir: Path) -> Path:
    files = sorted(results_dir.glob("*/*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise UsageError(f"no run files under {results_dir}/: run `matrixbench run` first, or name run files")
    return files[-1]


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import write_report

    plugins(args.plugin, args.tasks)
    paths = [Path(p) for p in args.runs] or [newest_run(Path(args.results))]
    runs = []
    for path in paths:
        try:
            runs.append(read_run(path))
        except RunFileError as exc:
            raise UsageError(str(exc)) from None
    newest = max(runs, key=lambda r: r["run"]["started"])["run"]["id"]
    out = Path(args.output) if args.output else Path("reports") / (newest if len(runs) == 1 else f"{newest}+{len(runs) - 1}")
    started = time.perf_counter()
    figures = Path(args.figures) if args.figures else None
    if figures is not None and args.format != "html":
        raise UsageError("--figures goes with the html format: the figures are drawn for the pages")
    path = write_report(runs, out, fmt=args.format, workers=args.jobs, figures=figures)
    make_console().print(f"report of {len(runs)} run(s), {sum(len(r['results']) for r in runs)} results, "
                         f"written in {time.perf_counter() - started:.1f} s: {path}", highlight=False)
    return EXIT_OK
