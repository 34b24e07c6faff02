"""Markdown summaries (CI job summaries, pull-request comments) of a report or a comparison.

Every string from a suite or a run file goes through :func:`esc`: HTML-escaped (GitHub
renders inline HTML) with ``|`` and backticks neutralized, so it cannot break a table
or inject markup.
"""

from __future__ import annotations

from typing import Any

from ..fmt import fmt_num, fmt_time
from ..results import ci_text, contended
from .model import ReportModel
from .tables import md_escape, to_markdown, winners_table


esc = md_escape


def _metric(record: dict[str, Any], name: str) -> str:
    """A metric; with trials, its median over seeds and the 10-90% range."""
    spread = ((record.get("trials") or {}).get("spread") or {}).get(name)
    text = _num(record["metrics"].get(name))
    return f"{text} ({_num(spread['p10'])} to {_num(spread['p90'])})" if spread else text


def _num(v: Any) -> str:
    return fmt_num(float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else esc(v)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def summary(model: ReportModel, max_not_ok: int = 200) -> str:
    out = ["# matrixbench report", ""]
    for r in model.runs:
        out.append(f"- run {esc(r.id)} on {esc(r.machine)}, commit {esc((r.commit or '-')[:12])}"
                   f"{' (dirty)' if r.dirty else ''}, {esc(r.started)}, {r.cells} cells, suites {esc(', '.join(r.suites))}")
    for t in model.tasks:
        out += ["", f"## {esc(t.name)}", "", ", ".join(f"{n} {esc(s)}" for s, n in sorted(t.statuses.items())), ""]
        for regime in t.summary:  # the answer first (matrixbench.report.summary)
            out += [f"**{esc(regime.title)}**", ""] + [f"- {esc(s)}" for s in regime.sentences(t.accuracy_axis)] + [""]
        if t.primary:
            out += [f"Fastest `ok` cell per problem, overall and at each level of {esc(t.accuracy_axis)}:", ""]
            out += [to_markdown(winners_table(t)), ""]
        out += ["<details><summary>every cell, per problem</summary>", ""]
        for p in t.problems:
            out += [f"**{esc(p.key)}**", ""]
            rows = [[esc(row.label), esc(row.record["method"]["backend"]), esc(row.record["dtype"]), esc(row.record["device"]),
                     esc(row.record["status"]) + (" (contended)" if contended(row.record) else ""),
                     fmt_time(row.time), ci_text(row.record), f"{fmt_num(row.vs_reference)}x" if row.vs_reference else "-",
                     *[_metric(row.record, m) for m in p.metrics]] for row in p.rows]
            out += [table(["method", "backend", "dtype", "device", "status", "median", "95% CI", "vs reference",
                           *map(esc, p.metrics)], rows), ""]
        out += ["</details>", ""]
        if t.not_ok:
            out += [f"<details><summary>{len(t.not_ok)} cell(s) not ok</summary>", ""]
            out += [table(["status", "cell", "reason"], [[esc(r["status"]), esc(r["key"]), esc(r["reason"][:300])]
                                                         for r in t.not_ok[:max_not_ok]]), ""]
            if len(t.not_ok) > max_not_ok:
                out += [f"... and {len(t.not_ok) - max_not_ok} more", ""]
            out += ["</details>", ""]
    return "\n".join(out) + "\n"


def comparison(cmp: Any, *, every_cell: bool = False) -> str:
    from ..tradeoff import HEADER

    tally = cmp.tally()
    out = ["## matrixbench " + esc(cmp.title), "",
           f"base {esc(cmp.base_id)} → head {esc(cmp.head_id)}: {cmp.matched} cells matched; "
           f"geometric-mean time ratio head/base {fmt_num(cmp.geomean_ratio)}.", "",
           f"**{esc(tally)}** of {len(cmp.cells)} cells judged; fails on {esc(', '.join(cmp.fail_on))}. "
           f"{esc(cmp.method)}", ""]
    out += [f"- head is broken: {esc(p)}" for p in cmp.problems]
    out += [f"- note: {esc(n)}" for n in cmp.notes]
    shown = cmp.cells if every_cell else [c for c in cmp.cells if c.verdict != "unchanged"]
    if shown:
        rows = [[f"**{esc(c.verdict)}**" if c.verdict in cmp.fail_on else esc(c.verdict), *map(esc, c.row()[1:])]
                for c in shown]
        out += ["", table(HEADER, rows), ""]
    if cmp.changes:
        rows = []
        for c in cmp.changes:
            fmt = fmt_time if c.kind == "time" else _num
            rows.append(["worse" if c.regression else "better", esc(c.kind), esc(c.what), esc(c.key),
                         fmt(c.base), fmt(c.head), _num(c.ratio), _num(c.p_value),
                         esc(c.test + ("; method source changed" if c.method_changed else ""))])
        out += ["<details><summary>changes behind the verdicts</summary>", "",
                table(["", "kind", "what", "cell", "base", "head", "ratio", "p", "test"], rows), "", "</details>", ""]
    return "\n".join(out) + "\n"
