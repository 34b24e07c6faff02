"""What the command line prints: number formatting, result tables, progress.

Library code does not print; the CLI owns the console and uses these helpers.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Iterable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .fmt import fmt_bytes, fmt_num, fmt_time
from .results import ci_text, contended, method_label, reference_time

STATUS_STYLE = {"ok": "green", "inaccurate": "yellow", "nan": "red", "error": "red", "timeout": "red",
                "crashed": "red", "invalid": "magenta", "skipped": "dim"}


def results_tables(results: Iterable[dict[str, Any]]) -> list[Table]:
    """One table per problem: status, time, speedup against the reference, metrics, rate, memory."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r["problem"]["key"], []).append(r)
    tables = []
    for problem, group in groups.items():
        metrics = sorted({m for r in group for m in r["metrics"]})
        table = Table(title=Text(problem), title_justify="left", show_lines=False, pad_edge=False)
        for col in ("method", "backend", "dtype", "device", "status", "median", "95% CI", "IQR", "vs ref"):
            table.add_column(col, justify="right" if col in ("median", "95% CI", "IQR", "vs ref") else "left")
        for m in metrics:
            table.add_column(m, justify="right")
        table.add_column("GFLOP/s", justify="right")
        table.add_column("peak mem", justify="right")
        for r in group:
            t = r["time"]
            ref = reference_time(r, group)
            speedup = fmt_num(ref / t["median"]) + "x" if (t and ref and t["median"] > 0) else "-"
            status = Text(r["status"], style=STATUS_STYLE.get(r["status"], ""))
            if contended(r):
                status += Text(" contended", style="yellow")
            table.add_row(Text(method_label(r)), r["method"]["backend"], r["dtype"], r["device"], status,
                          fmt_time(t["median"]) if t else "-", ci_text(r), fmt_time(t["iqr"]) if t else "-", speedup,
                          *[_metric(r, m) for m in metrics],
                          fmt_num(r["gflops"]), fmt_bytes((r["memory"] or {}).get("peak_bytes")))
        tables.append(table)
    return tables


def _metric(record: dict[str, Any], name: str) -> str:
    """A metric; with trials, its median over seeds and [10%, 90%] of them."""
    spread = ((record.get("trials") or {}).get("spread") or {}).get(name)
    text = fmt_num(record["metrics"].get(name))
    return f"{text} [{fmt_num(spread['p10'])}, {fmt_num(spread['p90'])}]" if spread else text


def problems_table(results: Iterable[dict[str, Any]]) -> Table | None:
    """The cells that are not ok, with their reasons; skipped cells are grouped by reason."""
    bad = [r for r in results if r["status"] not in ("ok", "skipped")]
    skipped: dict[str, int] = {}
    for r in results:
        if r["status"] == "skipped":
            skipped[r["reason"]] = skipped.get(r["reason"], 0) + 1
    bad += [{"status": "skipped", "key": f"{n} cell(s)", "reason": reason} for reason, n in skipped.items()]
    if not bad:
        return None
    table = Table(title="cells that are not ok", title_justify="left")
    for col in ("status", "cell", "reason"):
        table.add_column(col)
    for r in bad:
        table.add_row(Text(r["status"], style=STATUS_STYLE.get(r["status"], "")), Text(r["key"]), Text(r["reason"]))
    return table


def contention_line(results: Iterable[dict[str, Any]]) -> str | None:
    """What to say about cells timed while other processes used the CPU, or None."""
    hit = [r for r in results if contended(r)]
    if not hit:
        return None
    worst = max(hit, key=lambda r: r["contention"]["others"] + r["contention"]["steal"])
    c = worst["contention"]
    return (f"{len(hit)} cell(s) were timed under contention (other processes used the CPU; up to "
            f"{c['others'] + c['steal']:.2f} cores, in {worst['key']}): their times are unreliable, "
            "and compare/ab do not judge them")


def make_console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, width=None if sys.stdout.isatty() else 200)


class RunProgress:
    """A progress bar on a terminal; one line per finished cell otherwise (CI logs).

    The bar counts cell-rounds (a cell with ``rounds: 3`` is three steps).
    """

    def __init__(self, total: int, console: Console):
        self.console = console
        self.total = total
        self.done = 0
        self.live = console.is_terminal
        self.bar = Progress(TextColumn("{task.description}", style="cyan"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)
        self.task_id = self.bar.add_task("starting", total=total)

    def __enter__(self) -> RunProgress:
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live:
            self.bar.stop()

    def __call__(self, event: str, cell: Any, payload: Any) -> None:
        if event == "reference":
            self.bar.update(self.task_id, description=f"reference for {cell.problem.key}")
        elif event == "start":
            rounds = f"round {payload}/{cell.timing.rounds}: " if cell.timing.rounds > 1 else ""
            self.bar.update(self.task_id, description=f"{rounds}{cell.method} {cell.backend} {cell.dtype} {cell.device} on {cell.problem.generator}")
        elif event == "advance":
            self.done += payload
            self.bar.update(self.task_id, advance=payload)
        elif event == "done":
            record = payload
            if not self.live and record["status"] != "skipped":
                t = record["time"]["median"] if record["time"] else None
                mark = " contended" if contended(record) else ""
                self.console.print(f"[{self.done}/{self.total}] {record['status']:<10} {fmt_time(t):>9}  {record['key']}{mark}",
                                   highlight=False, markup=False, soft_wrap=True)
