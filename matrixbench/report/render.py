"""Write a report: HTML pages (self-contained: styles, script and SVG plots inline) or Markdown.

Templates are Jinja2 with autoescaping, so every string from a suite or a run file is
escaped; only the SVG that matplotlib wrote (itself escaped) is inserted as markup.
Markdown is written by :mod:`.markdown`, which escapes the same strings. A Content Security
Policy forbids any request from the page.
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ..fmt import fmt_bytes, fmt_num, fmt_time
from ..tradeoff import HEADER
from . import markdown
from .model import ProblemView, ReportModel, build_model

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


def _speedup(v: float | None) -> str:
    return "-" if v is None else f"{fmt_num(v)}x"


def _pct(v: float | None) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.0f}%"


def task_href(name: str) -> str:
    return "task-" + re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".html"


def _filters(env: Environment) -> None:
    env.filters.update(time=fmt_time, num=_num, speedup=_speedup, pct=_pct, bytes=fmt_bytes, flatten=_flatten,
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


def _problem_plots(args: tuple[ProblemView, str | None]) -> list[str]:
    from . import plots

    pv, primary = args
    labels = {row.record["key"]: f"{row.label} {row.record['method']['backend']} {row.record['dtype']} {row.record['device']}"
              for row in pv.rows}
    out = [plots.accuracy_vs_time(pv, primary) if primary else None, plots.convergence(pv, primary),
           plots.speedup_bars(pv.rows), plots.history(pv, labels)]
    return [s for s in out if s]


def _scaling_plot(view: Any) -> str:
    from . import plots

    return plots.scaling(view)


def _products_plot(view: Any) -> str:
    from . import plots

    return plots.error_vs_products(view)


def _roofline_plot(view: Any) -> str:
    from . import plots

    return plots.roofline(view)


def _map(fn: Any, items: list[Any], workers: int) -> list[Any]:
    if workers > 1 and len(items) > 8:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(fn, items, chunksize=max(1, len(items) // (4 * workers))))
    return [fn(i) for i in items]


def write_html(model: ReportModel, out_dir: Path, workers: int = 1) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    env = html_env()
    nav = [{"name": t.name, "href": task_href(t.name)} for t in model.tasks]
    for task in model.tasks:
        svgs = _map(_problem_plots, [(pv, task.primary) for pv in task.problems], workers)
        plots = {pv.key: [Markup(s) for s in svg] for pv, svg in zip(task.problems, svgs)}
        scaling = [(view, Markup(svg)) for view, svg in zip(task.scaling, _map(_scaling_plot, task.scaling, workers))]
        roofline = [(view, Markup(_roofline_plot(view))) for view in task.roofline]
        products = [(view, Markup(svg)) for view, svg in zip(task.products, _map(_products_plot, task.products, workers))]
        page = env.get_template("task.html.j2").render(task=task, plots=plots, scaling=scaling, roofline=roofline,
                                                       products=products,
                                                       **_common(f"matrixbench: {task.name}", nav))
        (out_dir / task_href(task.name)).write_text(page, encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(model=model, **_common("matrixbench report", nav)),
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


def write_report(runs: list[dict[str, Any]], out: Path, fmt: str = "html", workers: int = 1) -> Path:
    """Build the model of ``runs`` and write it: ``out`` is a folder (html) or a file (md).

    Runs from several machines are never mixed: each machine gets its own report (a
    sub-folder, or a section of the Markdown), and the top page lists the machines."""
    machines = by_machine(runs)
    if fmt == "md":
        path = out if out.suffix == ".md" else out / "summary.md"
        if len(machines) == 1:
            return write_markdown(build_model(runs), path)
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = [f"# matrixbench report: {len(machines)} machines\n\nTimes from different machines are not "
                 "comparable: each machine has its own section.\n"]
        for name, group in machines.items():
            parts.append(markdown.summary(build_model(group)).replace("# matrixbench report",
                                                                      f"# matrixbench report: machine {markdown.esc(name)}", 1))
        path.write_text("\n".join(parts), encoding="utf-8")
        return path
    if len(machines) == 1:
        return write_html(build_model(runs), out, workers)
    rows = []
    for name, group in machines.items():
        write_html(build_model(group), out / machine_slug(name), workers)
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
