"""``matrixbench ab BASE HEAD [SUITE...]``: two git revisions measured in alternation
(:mod:`matrixbench.ab`); exit 1 on a cell verdict in ``--fail-on`` or a broken head, 2
when nothing could be judged."""

from __future__ import annotations

import argparse
import json
import signal
import time
from pathlib import Path

from rich.text import Text

from ..console import make_console
from .common import EXIT_FAIL, EXIT_OK, UsageError, cache_dir, plugins
from .compare import VERDICT_STYLE, show_comparison


def cmd_ab(args: argparse.Namespace) -> int:
    from ..ab import ABError, ABSettings, git, run_ab

    plugins(args.plugin, args.tasks)
    settings = ABSettings(threshold=args.threshold, accuracy_threshold=args.accuracy_threshold,
                          confidence=args.confidence, min_rounds=args.min_rounds,
                          max_rounds=max(args.max_rounds, args.min_rounds), cell_time=args.cell_time,
                          processes=args.processes, confirm_confidence=args.confirm_confidence,
                          fail_on=args.fail_on)
    selection = {"filter": args.filter, "methods": args.methods, "entry": args.entry, "backend": args.backend}
    out, err = make_console(), make_console(stderr=True)
    repo = Path(args.repo)
    try:
        if git(repo, "status", "--porcelain", "--untracked-files=no"):
            err.print(Text("note: ", style="yellow") + Text(
                "the working tree has uncommitted changes: ab measures the commits, not the working tree"))
    except ABError as exc:
        raise UsageError(str(exc)) from None
    # SIGTERM (a cancelled CI job) ends it like Ctrl-C: the worktrees and processes are removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.perf_counter()

    def progress(done: int, total: int, verdict) -> None:
        ratio = "" if verdict.time_ratio is None else f" x{verdict.time_ratio:.3f}"
        if verdict.interval:
            ratio += f" [{verdict.interval[0]:.3f}, {verdict.interval[1]:.3f}]"
        err.print(Text(f"[{done}/{total}] ") + Text(f"{verdict.verdict:<12}", style=VERDICT_STYLE.get(verdict.verdict, ""))
                  + Text(f"{ratio}  {verdict.key}"), soft_wrap=True)

    try:
        cmp, record = run_ab(repo, args.base, args.head, args.suites or ["ci"], settings, cache=cache_dir(),
                             selection=selection, progress=progress)
    except ABError as exc:
        raise UsageError(str(exc)) from None
    record["seconds"] = time.perf_counter() - started
    show_comparison(cmp, out, args.threshold, every_cell=args.every_cell)
    out.print(f"ab of {len(cmp.cells)} cells took {record['seconds']:.0f} s", highlight=False)
    if args.report:
        from ..report import write_comparison

        # the measurements first: a report that fails to render must not lose minutes of rounds
        Path(args.report).mkdir(parents=True, exist_ok=True)
        (Path(args.report) / "ab.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        page, md = write_comparison(cmp, Path(args.report))
        out.print(f"comparison page: {page}\nMarkdown summary: {md}\nevery round: {Path(args.report) / 'ab.json'}",
                  highlight=False)
    return EXIT_FAIL if cmp.failed else EXIT_OK
