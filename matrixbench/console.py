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

STATUS_STYLE = {"ok": "green", "inaccurate": "yellow", "nan": "red", "error": "red", "timeout": "red",
                "crashed": "red", "skipped": "dim"}


def fmt_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            return f"{seconds / scale:.3g} {unit}"
    return "-"


def fmt_num(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        return f"{value:.{digits}g}"
    return f"{value:.{digits - 1}e}"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return "-"


def method_label(record: dict[str, Any]) -> str:
    params = record["method"]["params"]
    inner = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    return record["method"]["name"] + (f"({inner})" if inner else "")


def _reference_time(record: dict[str, Any], group: list[dict[str, Any]]) -> float | None:
    """Median time of the reference on the same problem: same dtype and device if present."""
    refs = [r for r in group if r["method"]["kind"] == "reference" and r["time"]]
    same = [r for r in refs if r["dtype"] == record["dtype"] and r["device"] == record["device"]]
    pick = same or [r for r in refs if r["dtype"] == "float64" and r["device"] == "cpu"] or refs
    return pick[0]["time"]["median"] if pick else None


def results_tables(results: Iterable[dict[str, Any]]) -> list[Table]:
    """One table per problem: status, time, speedup against the reference, metrics, rate, memory."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r["problem"]["key"], []).append(r)
    tables = []
    for problem, group in groups.items():
        metrics = sorted({m for r in group for m in r["metrics"]})
        table = Table(title=Text(problem), title_justify="left", show_lines=False, pad_edge=False)
        for col in ("method", "dtype", "device", "status", "median", "IQR", "vs ref"):
            table.add_column(col, justify="right" if col in ("median", "IQR", "vs ref") else "left")
        for m in metrics:
            table.add_column(m, justify="right")
        table.add_column("GFLOP/s", justify="right")
        table.add_column("peak mem", justify="right")
        for r in group:
            t = r["time"]
            ref = _reference_time(r, group)
            speedup = fmt_num(ref / t["median"]) + "x" if (t and ref and t["median"] > 0) else "-"
            status = Text(r["status"], style=STATUS_STYLE.get(r["status"], ""))
            table.add_row(Text(method_label(r)), r["dtype"], r["device"], status,
                          fmt_time(t["median"]) if t else "-", fmt_time(t["iqr"]) if t else "-", speedup,
                          *[fmt_num(r["metrics"].get(m)) for m in metrics],
                          fmt_num(r["gflops"]), fmt_bytes((r["memory"] or {}).get("peak_bytes")))
        tables.append(table)
    return tables


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


def make_console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, width=None if sys.stdout.isatty() else 200)


class RunProgress:
    """A progress bar on a terminal; one line per finished cell otherwise (CI logs)."""

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

    def __call__(self, event: str, cell: Any, record: dict[str, Any] | None) -> None:
        if event == "reference":
            self.bar.update(self.task_id, description=f"reference for {cell.problem.key}")
        elif event == "start":
            self.bar.update(self.task_id, description=f"{cell.method} {cell.dtype} {cell.device} on {cell.problem.generator}")
        elif event == "done" and record is not None:
            self.done += 1
            self.bar.update(self.task_id, advance=1)
            if not self.live and record["status"] != "skipped":
                t = record["time"]["median"] if record["time"] else None
                self.console.print(f"[{self.done}/{self.total}] {record['status']:<10} {fmt_time(t):>9}  {record['key']}",
                                   highlight=False, markup=False, soft_wrap=True)
