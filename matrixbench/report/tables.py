"""Report tables as data: one model drawn as HTML (by the templates), Markdown and LaTeX.

A problem's table shows the cells that ran; skipped cells are collapsed into one group
per reason (shown under the table with a count and a toggle), and columns that are empty
in every shown row are dropped. :func:`to_markdown` and :func:`to_latex` (``booktabs``)
write any table as text, for ``matrixbench report --format latex`` and Markdown output;
the page's own copy buttons export the table as displayed (sorted) by the same rules.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from ..fmt import fmt_bytes, fmt_num, fmt_time
from ..results import contended, group_by

#: statuses collapsed under a table: the cell did not run, so it has nothing to show
HIDDEN = ("skipped",)


@dataclass
class Cell:
    text: str
    value: float | str | None = None  # the sort key (numbers sort as numbers)
    title: str = ""  # the tooltip: a reason, a source
    kind: str = ""  # how the page draws it: "num", "status", "metric", "key" or plain
    note: str = ""  # a second, muted line (a status's reason, a seed range)

    @property
    def empty(self) -> bool:
        return self.text in ("", "-")


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    hidden: list["Hidden"] = field(default_factory=list)  # collapsed cells, one group per reason

    def without_empty_columns(self) -> "Table":
        keep = [i for i in range(len(self.header)) if any(not row[i].empty for row in self.rows)]
        return Table([self.header[i] for i in keep], [[row[i] for i in keep] for row in self.rows], self.caption,
                     self.hidden)


@dataclass
class Hidden:
    status: str
    reason: str
    table: Table

    @property
    def count(self) -> int:
        return len(self.table.rows)


def _num(v: Any, text: str | None = None) -> Cell:
    if v is None or isinstance(v, float) and not math.isfinite(v):
        return Cell("-" if v is None else str(v), None, kind="num")
    return Cell(text if text is not None else (fmt_num(float(v)) if isinstance(v, float) else str(v)), v, kind="num")


def _metric(record: dict[str, Any], name: str) -> Cell:
    cell = _num(record["metrics"].get(name))
    spread = ((record.get("trials") or {}).get("spread") or {}).get(name)
    if spread:
        cell.note = f"{fmt_num(spread['p10'])} to {fmt_num(spread['p90'])}"
        cell.title = f"median over {record['trials']['count']} seeds; 10-90% range {cell.note}"
    return cell


def _speedup(v: float | None) -> Cell:
    return _num(v, None if v is None else f"{fmt_num(v)}x")


def problem_table(pv: Any) -> Table:
    """One problem's cells: measured rows in the table, skipped cells grouped by reason."""
    header = ["method", "kind", "backend", "dtype", "device", "status", "median", "95% CI", "IQR", "vs reference",
              "vs best baseline", *pv.metrics, "GFLOP/s", "share of peak", "peak memory"]
    shown, hidden = [], []
    for row in pv.rows:
        (hidden if row.record["status"] in HIDDEN else shown).append(row)
    table = Table(header, [_row(row, pv.metrics) for row in shown]).without_empty_columns()
    for (status, reason), rows in group_by(hidden, lambda r: (r.record["status"], r.record.get("reason") or "")).items():
        table.hidden.append(Hidden(status, reason, Table(["method", "backend", "dtype", "device"], [
            [Cell(r.label), Cell(r.record["method"]["backend"]), Cell(r.record["dtype"]), Cell(r.record["device"])]
            for r in rows])))
    return table


def _row(row: Any, metrics: list[str]) -> list[Cell]:
    r = row.record
    status = Cell(r["status"], r["status"], title=r.get("reason") or "", kind="status")
    if contended(r):
        status.text += " (contended)"
    if r.get("reason") and r["status"] != "ok":
        status.note = r["reason"] if len(r["reason"]) <= 120 else r["reason"][:117] + "..."
    peak = (r.get("memory") or {}).get("peak_bytes")
    share = row.peak_share
    return [Cell(row.label), Cell(r["method"]["kind"]), Cell(r["method"]["backend"]), Cell(r["dtype"]), Cell(r["device"]),
            status, _num(row.time, None if row.time is None else fmt_time(row.time)),
            Cell(row.ci, None, title=row.ci_range, kind="num"), _num(row.iqr, None if row.iqr is None else fmt_time(row.iqr)),
            _speedup(row.vs_reference), _speedup(row.vs_baseline), *[_metric(r, m) for m in metrics],
            _num(r.get("gflops")),
            Cell("-" if share is None else f"{100 * share:.0f}%", share, title=row.peak_source or "", kind="num"),
            _num(peak, None if peak is None else fmt_bytes(peak))]


# ------------------------------------------------------------------ text formats

def md_escape(value: Any) -> str:
    """A string for a Markdown table: HTML-escaped (GitHub renders inline HTML), ``|`` and
    backticks neutralized, one line; None as ``-``."""
    text = "-" if value is None else str(value)
    return html.escape(text, quote=False).replace("|", "\\|").replace("`", "\\`").replace("\n", " ")


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned), collapsed cells as a list."""
    align = ["---:" if row_kind == "num" else "---" for row_kind in _kinds(table)]
    lines = ["| " + " | ".join(map(md_escape, table.header)) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(md_escape(c.text) for c in row) + " |" for row in table.rows]
    lines += [f"\n{h.count} cell(s) {md_escape(h.status)}: {md_escape(h.reason)}" for h in table.hidden]
    return "\n".join(lines)


def _kinds(table: Table) -> list[str]:
    return [next((row[i].kind for row in table.rows if not row[i].empty), "") for i in range(len(table.header))]


#: characters pdflatex does not take from UTF-8 input without extra packages
_LATEX_CHARS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "±": r"\ensuremath{\pm}",
                "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}", "×": r"\ensuremath{\times}", "µ": r"\ensuremath{\mu}",
                "−": "-", "→": r"\ensuremath{\to}", "<": r"\textless{}", ">": r"\textgreater{}"}


def latex_escape(text: str) -> str:
    """``text`` as LaTeX source: specials escaped, known symbols as math, other non-ASCII as ``?``."""
    return "".join(_LATEX_CHARS.get(ch, ch if ord(ch) < 128 else "?") for ch in text)


def to_latex(table: Table, float_: bool = True) -> str:
    """A ``booktabs`` tabular (numbers right-aligned) with its caption: in a ``table``
    float, or (``float_=False``, for long documents that would run out of float slots)
    in place, the caption as a bold line above it."""
    cols = "".join("r" if k == "num" else "l" for k in _kinds(table))
    caption = latex_escape(table.caption)
    lines = [r"\begin{table}[htbp]", r"\centering"] if float_ else [r"\par\medskip\noindent\textbf{" + caption + r"}\par",
                                                                    r"\begin{center}"]
    lines.append(r"\scriptsize")
    if table.caption and float_:
        lines.append(r"\caption{" + caption + "}")
    lines += [r"\begin{tabular}{" + cols + "}", r"\toprule",
              " & ".join(latex_escape(h) for h in table.header) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(c.text) for c in row) + r" \\" for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.hidden:
        lines.append(r"\par\smallskip " + "; ".join(
            latex_escape(f"{h.count} cell(s) {h.status}: {h.reason}") for h in table.hidden))
    lines.append(r"\end{table}" if float_ else r"\end{center}")
    return "\n".join(lines)


def winners_table(task: Any) -> Table:
    """The fastest usable cell of each problem overall and at each accuracy level."""
    levels = list(next(iter(task.winners.values()), {}).keys())
    rows = []
    for p in task.problems:
        row = [Cell(p.key, kind="key")]
        for lv in levels:
            w = task.winners[p.key][lv]
            row.append(Cell(f"{w.label} {w.backend} {w.dtype} {w.device} {fmt_time(w.time)}", w.time, kind="num")
                       if w else Cell("-", None, kind="num"))
        rows.append(row)
    header = ["problem", *[lv if lv == "any" else f"{task.accuracy_axis} {lv}" for lv in levels]]
    return Table(header, rows, f"{task.name}: the fastest ok cell of each problem, overall and at each accuracy level")


def scaling_table(view: Any) -> Table:
    """A scaling view's fitted exponents."""
    rows = [[Cell(name), _num(fit.exponent), _num(fit.low), _num(fit.high), _num(fit.points)]
            for name, fit in view.fits.items() if fit]
    return Table(["method and dtype", "exponent", "95% low", "95% high", "points"], rows, f"scaling: {view.title}")
