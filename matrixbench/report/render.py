"""Write a report: HTML pages (self-contained: styles, script and SVG plots inline) or Markdown.

Templates are Jinja2 with autoescaping, so every string from a suite or a run file is
escaped; only the SVG that matplotlib wrote (itself escaped) is inserted as markup.
Markdown is written by :mod:`.markdown`, which escapes the same strings. A Content Security
Policy forbids any request from the page.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ..fmt import fmt_num, fmt_time
from ..tradeoff import HEADER
from . import latex, markdown, tables
from .model import ReportModel, TaskView, build_model

VERSION = "0.1.0"


def _flatten(d: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(d, list) and d and all(isinstance(x, dict) for x in d):
        for i, v in enumerate(d):
            yield from _flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, d


def _num(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "-" if v is None else str(v)
    return fmt_num(float(v)) if isinstance(v, float) else str(v)


def task_href(name: str) -> str:
    return "task-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".html"


def _filters(env: Environment) -> None:
    env.filters.update(time=fmt_time, num=_num, flatten=_flatten,
                       task_href=task_href)


def html_env() -> Environment:
    env = Environment(loader=PackageLoader("matrixbench.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    _filters(env)
    return env


def _asset(name: str) -> str:
    return resources.files("matrixbench.report").joinpath("templates", name).read_text(encoding="utf-8")


def _common(title: str, nav: list[dict[str, str]]) -> dict[str, Any]:
    return {"title": title, "nav": nav, "css": Markup(_asset("style.css")), "js": Markup(_asset("sort.js")),
            "version": VERSION, "generated": datetime.now(timezone.utc).isoformat(timespec="seconds")}


@dataclass
class Plot:
    """One figure of a page: the inline SVG and its two downloads (paths relative to the page)."""

    svg: Markup
    name: str  # the file stem, e.g. "polar-p3-accuracy"
    svg_href: str
    pdf_href: str


def _publish(args: tuple[Any, Path, str]) -> tuple[str, str] | None:
    """Draw one figure (a closure-free spec, so that it can run in a worker process)
    and write its files: ``(stem name, inline svg)`` or None when there is nothing to draw."""
    from . import plots

    (kind, view, extra), folder, name = args
    fig = {"accuracy": lambda: plots.accuracy_vs_time(view, *extra),
           "convergence": lambda: plots.convergence(view, *extra),
           "speedup": lambda: plots.speedup_bars(view, *extra),
           "history": lambda: plots.history(view, *extra),
           "scaling": lambda: plots.scaling(view, *extra),
           "products": lambda: plots.error_vs_products(view, *extra),
           "roofline": lambda: plots.roofline(view, *extra)}[kind]()
    return None if fig is None else (name, plots.export(fig, folder / name))


def _figure_specs(task: TaskView) -> list[tuple[str, tuple[str, Any, tuple]]]:
    """Every figure of a task page, named: (file stem, (kind, view, extra arguments))."""
    colors, axis = task.colors, task.accuracy_axis
    specs: list[tuple[str, tuple[str, Any, tuple]]] = []
    for pv in task.problems:
        labels = {row.record["key"]: f"{row.label} {row.record['method']['backend']} {row.record['dtype']} "
                                     f"{row.record['device']}" for row in pv.rows}
        if task.primary:
            specs.append((f"{pv.anchor}-accuracy", ("accuracy", pv, (axis, colors))))
            specs.append((f"{pv.anchor}-convergence", ("convergence", pv, (axis, colors))))
        specs.append((f"{pv.anchor}-speedup", ("speedup", pv.rows, (colors,))))
        specs.append((f"{pv.anchor}-history", ("history", pv, (labels, colors))))
    specs += [(f"{task.name}-scaling-{i}", ("scaling", v, (colors,))) for i, v in enumerate(task.scaling)]
    specs += [(f"{task.name}-products-{i}", ("products", v, (axis, colors))) for i, v in enumerate(task.products)]
    specs += [(f"{task.name}-roofline-{i}", ("roofline", v, (colors,))) for i, v in enumerate(task.roofline)]
    return specs


def _map(fn: Any, items: list[Any], workers: int) -> list[Any]:
    if workers > 1 and len(items) > 8:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(fn, items, chunksize=max(1, len(items) // (4 * workers))))
    return [fn(i) for i in items]


def write_html(model: ReportModel, out_dir: Path, workers: int = 1, figures: Path | None = None) -> Path:
    """The index and one page per task in ``out_dir``; every figure also as SVG and PDF
    files under ``figures`` (default ``out_dir/figures``), one folder per task."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = (figures or out_dir / "figures").resolve()
    env = html_env()
    nav = [{"name": t.name, "href": task_href(t.name)} for t in model.tasks]
    for task in model.tasks:
        folder = figures / re.sub(r"[^A-Za-z0-9_.-]", "_", task.name)
        specs = _figure_specs(task)
        drawn = _map(_publish, [(spec, folder, name) for name, spec in specs], workers)
        rel = Path(os.path.relpath(folder, out_dir.resolve())).as_posix()
        figs = {name: Plot(Markup(svg), name, f"{rel}/{name}.svg", f"{rel}/{name}.pdf") for name, svg in filter(None, drawn)}
        page = env.get_template("task.html.j2").render(
            task=task, figs=figs, tables={pv.key: tables.problem_table(pv) for pv in task.problems},
            scaling_tables=[tables.scaling_table(v) for v in task.scaling], **_common(f"matrixbench: {task.name}", nav))
        (out_dir / task_href(task.name)).write_text(page, encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(
        model=model, winners={t.name: tables.winners_table(t) for t in model.tasks}, **_common("matrixbench report", nav)),
        encoding="utf-8")
    return index


def write_markdown(model: ReportModel, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown.summary(model), encoding="utf-8")
    return path


def machine_of(run: dict[str, Any]) -> str:
    """The machine a run was measured on (``MATRIXBENCH_MACHINE`` or the host name when it ran)."""
    return str(((run.get("environment") or {}).get("machine") or {}).get("name") or "unknown machine")


def by_machine(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Runs grouped by machine; a merged run of several machines counts as one run per machine."""
    from ..merge import split_by_machine

    out: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        for part in split_by_machine(run):
            out.setdefault(machine_of(part), []).append(part)
    return dict(sorted(out.items()))


def machine_slug(name: str) -> str:
    return "machine-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def write_report(runs: list[dict[str, Any]], out: Path, fmt: str = "html", workers: int = 1,
                 figures: Path | None = None) -> Path:
    """Build the model of ``runs`` and write it: ``out`` is a folder (html) or a file (md, tex).

    Runs from several machines are never mixed: each machine gets its own report (a
    sub-folder, or a section of the Markdown or LaTeX), and the top page lists the
    machines. ``figures``: where the HTML report's figure files go (SVG and PDF, one
    folder per task; default ``out/figures``)."""
    machines = by_machine(runs)
    if fmt in ("md", "latex"):
        suffix = ".md" if fmt == "md" else ".tex"
        path = out if out.suffix == suffix else out / ("summary.md" if fmt == "md" else "report.tex")
        path.parent.mkdir(parents=True, exist_ok=True)
        models = {name: build_model(group) for name, group in machines.items()}
        if fmt == "latex":
            path.write_text(latex.document(models), encoding="utf-8")
            return path
        if len(models) == 1:
            return write_markdown(next(iter(models.values())), path)
        parts = [f"# matrixbench report: {len(machines)} machines\n\nTimes from different machines are not "
                 "comparable: each machine has its own section.\n"]
        for name, model in models.items():
            parts.append(markdown.summary(model).replace("# matrixbench report",
                                                         f"# matrixbench report: machine {markdown.esc(name)}", 1))
        path.write_text("\n".join(parts), encoding="utf-8")
        return path
    if len(machines) == 1:
        return write_html(build_model(runs), out, workers, figures)
    rows = []
    for name, group in machines.items():
        write_html(build_model(group), out / machine_slug(name), workers,
                   figures / machine_slug(name) if figures else None)
        rows.append({"name": name, "href": f"{machine_slug(name)}/index.html", "runs": len(group),
                     "cells": sum(len(r["results"]) for r in group),
                     "newest": max(r["run"]["started"] for r in group)})
    out.mkdir(parents=True, exist_ok=True)
    index = out / "index.html"
    index.write_text(html_env().get_template("machines.html.j2").render(
        machines=rows, **_common("matrixbench report: machines", [])), encoding="utf-8")
    return index


def write_comparison(cmp: Any, out_dir: Path) -> tuple[Path, Path]:
    """``compare.html`` and ``compare.md`` of a :class:`~matrixbench.compare.Comparison`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / "compare.html"
    page.write_text(html_env().get_template("compare.html.j2").render(cmp=cmp, header=HEADER, **_common(f"matrixbench {cmp.title}", [])),
                    encoding="utf-8")
    md = out_dir / "compare.md"
    md.write_text(markdown.comparison(cmp), encoding="utf-8")
    return page, md
