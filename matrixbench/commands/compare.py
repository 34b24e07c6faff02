"""``matrixbench compare BASE HEAD``: exit 1 on a regression or a broken head, 2 when the
runs cannot be compared (an unreadable file, different machines, shards that do not merge).
Either side may be several shard files of one plan, comma-separated: they are merged in
memory as ``matrixbench merge`` would merge them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from ..console import fmt_time, make_console
from ..store import RunFileError, read_run
from .common import EXIT_FAIL, EXIT_OK, UsageError, plugins


VERDICT_STYLE = {"regressed": "red", "traded": "yellow", "improved": "green", "unreliable": "magenta",
                 "inconclusive": "cyan", "unchanged": "dim"}


def show_comparison(cmp: Any, out: Any, threshold: float, *, every_cell: bool = False) -> None:
    """Print a comparison: the run line, each judged cell's joint verdict, the changes
    behind them, run-level problems and the tally; regressions also go to stderr."""
    from ..tradeoff import HEADER

    out.print(f"base {cmp.base_id}  head {cmp.head_id}: {cmp.matched} cells matched, "
              f"{len(cmp.only_base)} only in base, {len(cmp.only_head)} only in head; "
              f"geometric-mean time ratio head/base {cmp.geomean_ratio:.3f}", highlight=False)
    shown = cmp.cells if every_cell else [c for c in cmp.cells if c.verdict != "unchanged"]
    if shown:
        table = Table(*HEADER)
        for c in shown:
            row = c.row()
            table.add_row(Text(row[0], style=VERDICT_STYLE.get(c.verdict, "")), *[Text(v) for v in row[1:]])
        out.print(table)
    if cmp.changes:
        table = Table("", "kind", "what", "cell", "base", "head", "ratio", "p", "test / note", title="changes")
        for c in cmp.changes:
            mark = "[red]worse[/]" if c.regression else "[green]better[/]"
            fmt = fmt_time if c.kind == "time" else (lambda v: str(v) if isinstance(v, str) or v is None else f"{v:.3g}")
            note = c.test + ("; method source changed" if c.method_changed else "") + (f"; {c.note}" if c.note else "")
            table.add_row(mark, c.kind, c.what, Text(c.key), fmt(c.base), fmt(c.head),
                          f"{c.ratio:.3f}" if c.ratio is not None else "-",
                          f"{c.p_value:.2g}" if c.p_value is not None else "-", Text(note))
        out.print(table)
    for note in cmp.notes:
        out.print(Text("note: ", style="yellow") + Text(note))
    for problem in cmp.problems:
        out.print(Text("head is broken: ", style="red") + Text(problem))
    tally = cmp.tally()
    out.print(f"{tally} (of {len(cmp.cells)} cells judged; time threshold {threshold:.0%} unless a suite sets its "
              f"own; fails on: {', '.join(cmp.fail_on)})", highlight=False)
    for c in cmp.cells:
        if c.verdict in cmp.fail_on:
            print(c.summary(), file=sys.stderr)
    for problem in cmp.problems:
        print(f"regression: run {problem}", file=sys.stderr)


def read_side(spec: str) -> dict[str, Any]:
    """One side of a comparison: a run file, or the shard files of one plan separated by
    commas, merged in memory under ``matrixbench merge``'s rules (one plan, one commit)."""
    from ..merge import MergeError, merge_runs

    paths = [p for p in spec.split(",") if p]
    if len(paths) == 1:
        return read_run(paths[0])
    try:
        return merge_runs([(p, read_run(p)) for p in paths])
    except MergeError as exc:
        raise UsageError(f"{spec}: {exc}") from None


def cmd_compare(args: argparse.Namespace) -> int:
    from .. import registry
    from ..compare import check_comparable, compare_runs, run_directions

    try:
        base, head = read_side(args.base), read_side(args.head)
    except RunFileError as exc:
        raise UsageError(str(exc)) from None
    why_not = check_comparable(base, head, allow_different_machines=args.allow_different_machines)
    if why_not:
        raise UsageError(why_not)
    # Run files record each task's metric directions; the tasks are imported (seconds:
    # torch and every task folder) only for files that do not, or when asked to.
    tasks = {r["task"] for run in (base, head) for r in run["results"]}
    recorded = [run_directions(run) for run in (base, head)]
    directions: dict[str, dict[str, str]] = {}
    if args.plugin or args.tasks or any(t not in rec for rec in recorded for t in tasks):
        plugins(args.plugin, args.tasks)
        directions = {t.name: {m.name: m.direction for m in t.metrics} for t in registry.TASKS.values()}
    cmp = compare_runs(base, head, threshold=args.threshold, alpha=args.alpha,
                       accuracy_threshold=args.accuracy_threshold, directions=directions, min_time=args.min_time,
                       statistic=args.statistic, fail_on=args.fail_on)
    show_comparison(cmp, make_console(), args.threshold)
    if args.report:
        from ..report import write_comparison

        page, md = write_comparison(cmp, Path(args.report))
        make_console().print(f"comparison page: {page}\nMarkdown summary: {md}", highlight=False)
    return EXIT_FAIL if cmp.failed else EXIT_OK
