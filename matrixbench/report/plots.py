"""Plots (matplotlib figures, text kept as SVG text), published by :func:`export`.

Every function returns a :class:`~matplotlib.figure.Figure` or None; :func:`export`
writes it as SVG and PDF files (the page's downloads, and ``report --figures DIR``)
and returns the ``<svg ...>...</svg>`` element for the page, sized by its viewBox to the
page's width. matplotlib escapes the text it writes, so labels from suites cannot inject
markup. Readability: each method has one colour in every plot of a report
(``colors``, from :func:`model.method_colors`); dtype and device are told by marker and
line style; no label is placed inside the axes (the Pareto front's members are listed
under the plot, every series is named in a legend outside the axes whose size follows
its entries), so text cannot overlap. For speed (a report may hold hundreds of plots)
figures are laid out by hand instead of ``bbox_inches="tight"`` (which draws twice) and
log axes have no minor ticks.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator

from .model import PLOT_FLOOR, ProblemView, ProductsView, RooflineView, Row, ScalingView

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
                            "axes.grid": True, "grid.alpha": 0.3})
MARKERS = "osD^v<>"  # 7 markers against 10 colours: (colour, marker) pairs repeat only after 70
COLORS = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
WIDTH = 9.0  # inches: the axes take the left part, the legend the right
CHAR = 0.065  # inches per character of 7-pt legend text (8-pt ticks: 0.07), for margins
ENTRY = 0.16  # inches per legend entry
UNKNOWN = "#333333"  # a method missing from ``colors``


def _figure(height: float, rows: int = 1, left_chars: int = 10, legend: list[str] | None = None,
            bottom: float = 0.55) -> tuple[Figure, list[Any]]:
    """A figure whose left margin fits the longest tick label, whose right margin fits the
    longest legend label and whose height fits every legend entry (the legend sits right
    of the axes, never on them). Long labels widen the figure rather than being cut: the
    page scales every figure to its width."""
    if legend:
        height = max(height, ENTRY * len(legend) + 0.6)
    margin_left = left_chars * 0.07 + 0.35
    margin_right = 0.25 if not legend else max(map(len, legend)) * CHAR + 0.55
    width = max(WIDTH, margin_left + margin_right + 4.0)  # at least 4 inches of axes
    fig = Figure(figsize=(width, height))
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    left = max(margin_left, 0.6) / width
    right = 1 - margin_right / width
    fig.subplots_adjust(left=left, right=right, bottom=min(0.45, bottom / height),
                        top=1 - min(0.3, 0.3 / height), hspace=0.35)
    return fig, axes


def method_of(label: str) -> str:
    """The method name a series label starts with (``name(param=...) backend dtype``)."""
    return re.split(r"[ (\[]", label, maxsplit=1)[0]


def color(colors: dict[str, str], label: str) -> str:
    return colors.get(method_of(label), UNKNOWN)


#: inches of axis per tick label: a label is about 0.12 in tall and 0.45 in wide
LABEL_PITCH = {"y": 0.3, "x": 0.6}
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(value: float, _pos: Any = None) -> str:
    """A log-axis tick label as plain text, ``10⁻³`` or ``2×10⁻³``: one SVG text element
    (mathtext would draw each glyph apart, and costs a third of a plot's drawing time)."""
    if not value > 0 or not math.isfinite(value):
        return ""
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10.0**exponent, 6)
    head = "" if abs(mantissa - 1) < 1e-6 else f"{mantissa:g}×"
    return f"{head}10{str(exponent).translate(SUPERSCRIPT)}"


def _log(ax: Any, x: bool = True, y: bool = True) -> None:
    """Log axes with no more tick labels than fit the axis (:data:`LABEL_PITCH`), ticks at
    1, 2 and 5 per decade when the range is under two decades and there is room, so that
    a short range still gets labels; no minor ticks (they cost half the drawing time)."""
    fig = ax.get_figure()
    box = ax.get_position()
    length = {"x": box.width * fig.get_figwidth(), "y": box.height * fig.get_figheight()}
    for on, name, axis, scale, limits in ((x, "x", ax.xaxis, ax.set_xscale, ax.get_xlim),
                                          (y, "y", ax.yaxis, ax.set_yscale, ax.get_ylim)):
        if on:
            scale("log")
            lo, hi = limits()
            room = max(2, int(length[name] / LABEL_PITCH[name]))
            if lo > 0 and hi / lo < 100 and room >= 6:
                axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=room))
            else:
                axis.set_major_locator(LogLocator(base=10, numticks=room))
            axis.set_major_formatter(FuncFormatter(power_of_ten))
    ax.minorticks_off()
    # x labels a little further down: a y label at the bottom corner then cannot touch one at the left corner
    ax.tick_params(axis="x", pad=6)


def export(fig: Figure, stem: Path | None = None) -> str:
    """The figure's ``<svg>`` element for the page (width 100%, height from its viewBox);
    with ``stem``, also ``stem.svg`` and ``stem.pdf``, the files a reader downloads."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    if stem is not None:
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".svg").write_text(text, encoding="utf-8")
        fig.savefig(stem.with_suffix(".pdf"), format="pdf", metadata={"Creator": "matrixbench", "CreationDate": None})
    svg = text[text.index("<svg"):]
    head, rest = svg.split(">", 1)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head) + ' width="100%" preserveAspectRatio="xMinYMin meet"'
    return head + ">" + rest


def _legend(ax: Any) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0.0)


def accuracy_vs_time(pv: ProblemView, axis: str, colors: dict[str, str]) -> Figure | None:
    """One marker per cell; a method's parameter sweep joined as a curve; a cell run with
    trials has a vertical bar over the 10-90% range of its seeds; the Pareto front drawn
    as a staircase (its members are listed under the plot, not written on it)."""
    if not pv.accuracy:
        return None
    labels = [f"{s.name} {s.dtype} {s.device}" for s in pv.accuracy] + (["Pareto front"] if pv.front else [])
    fig, (ax,) = _figure(3.8, legend=labels)
    # colour = method, marker and line style = dtype and device: no two series look alike
    variants = list(dict.fromkeys((s.dtype, s.device) for s in pv.accuracy))
    styles = ["-", "--", ":", "-."]
    for s, label in zip(pv.accuracy, labels):
        xs, ys = [p[0] for p in s.points], [p[1] for p in s.points]
        v = variants.index((s.dtype, s.device))
        c = colors.get(s.method, UNKNOWN)
        ax.plot(xs, ys, styles[v % len(styles)], marker=MARKERS[v % len(MARKERS)], color=c, ms=4, lw=1, label=label)
        for x, r in zip(xs, s.spread):  # the 10-90% range over seeds (trials)
            if r is not None:
                ax.plot([x, x], list(r), color=c, lw=2, alpha=0.45, solid_capstyle="butt")
    if pv.front:
        ax.step([p[0] for p in pv.front], [p[1] for p in pv.front], where="post", color="black", lw=1.5, alpha=0.5,
                label="Pareto front")
    _log(ax)
    ax.set_xlabel("median time (s)")
    ax.set_ylabel(f"{axis} (0 drawn at {PLOT_FLOOR:.0e})")
    _legend(ax)
    return fig


def convergence(pv: ProblemView, axis: str | None, colors: dict[str, str]) -> Figure | None:
    """Every traced method of the problem: its error against iteration (top) and against
    the method's own time up to that iterate (bottom), both on log error axes. Where every
    trace counted products and spent some (an operator task's product methods), the top
    axis is the products instead: a preconditioner's sketch or a block method's columns
    then count, as they cost."""
    if not pv.traces or axis is None:
        return None
    by_products = all(t[4] and t[4][-1] > 0 for t in pv.traces)
    fig, (top, bottom) = _figure(5.6, rows=2, legend=[t[0] for t in pv.traces])
    for i, (label, its, secs, vals, products) in enumerate(pv.traces):
        style = dict(color=color(colors, label), marker=MARKERS[i % len(MARKERS)], ms=3, lw=1)
        top.plot(products if by_products else its, vals, label=label, **style)
        bottom.plot(secs, vals, **style)
    _log(top, x=False)
    _log(bottom)
    top.set_xlabel("matrix-vector products (counted)" if by_products else "iteration")
    bottom.set_xlabel("time up to the iterate (s)")
    for ax in (top, bottom):
        ax.set_ylabel(axis)
    _legend(top)
    return fig


def speedup_bars(rows: list[Row], colors: dict[str, str]) -> Figure | None:
    """Speedup against the reference, one bar per timed cell in its method's colour."""
    rows = [r for r in rows if r.vs_reference]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: (r.label, r.record["dtype"], r.record["device"]))
    labels = [f"{r.label} {r.record['method']['backend']} {r.record['dtype']} {r.record['device']}" for r in rows]
    fig, (ax,) = _figure(0.2 * len(rows) + 0.9, left_chars=max(len(x) for x in labels))
    ys = list(range(len(rows)))
    ax.barh(ys, [r.vs_reference for r in rows], color=[colors.get(r.record["method"]["name"], UNKNOWN) for r in rows])
    ax.set_yticks(ys, labels)
    ax.axvline(1.0, color="black", lw=0.8)
    _log(ax, y=False)
    ax.set_xlabel("speedup against the reference (x, log scale; right of the line is faster)")
    ax.invert_yaxis()
    return fig


def scaling(view: ScalingView, colors: dict[str, str]) -> Figure:
    """Time against size on log-log axes, one line per method and dtype, fitted exponent in the legend."""
    labels = [f"{name}: {fit.label()}" if (fit := view.fits.get(name)) else name for name in view.series]
    fig, (ax,) = _figure(3.8, legend=labels)
    for i, ((name, pts), label) in enumerate(zip(view.series.items(), labels)):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=MARKERS[i % len(MARKERS)], ms=3, lw=1,
                color=color(colors, name), label=label)
    _log(ax)
    ax.set_xlabel(f"{view.size} (problem size)")
    ax.set_ylabel("median time (s)")
    _legend(ax)
    return fig


def error_vs_products(view: ProductsView, axis: str, colors: dict[str, str]) -> Figure:
    """The primary metric against matrix-vector products on log-log axes, one line per method and dtype."""
    fig, (ax,) = _figure(3.8, legend=list(view.series))
    for i, (name, pts) in enumerate(view.series.items()):
        ax.plot([p[0] for p in pts], [max(p[1], PLOT_FLOOR) for p in pts], marker=MARKERS[i % len(MARKERS)], ms=3, lw=1,
                color=color(colors, name), label=name)
    _log(ax)
    ax.set_xlabel("matrix-vector products (counted)")
    ax.set_ylabel(axis)
    _legend(ax)
    return fig


def history(pv: ProblemView, labels: dict[str, str], colors: dict[str, str]) -> Figure | None:
    """Time and each metric of every cell across runs (ordered by commit date)."""
    if not pv.history:
        return None
    metrics = pv.metrics
    names = [labels.get(key, key) for key in pv.history]
    longest = max(pv.history.values(), key=len)
    ticks = max(len(p[0]) for p in longest)  # run labels, drawn at 45 degrees under the last axes
    fig, axes = _figure(1.8 * (1 + len(metrics)) + 0.9, rows=1 + len(metrics), legend=names,
                        bottom=0.55 + 0.05 * ticks)
    for i, ((key, points), name) in enumerate(zip(pv.history.items(), names)):
        xs = list(range(len(points)))
        style = dict(marker=MARKERS[i % len(MARKERS)], ms=3, lw=1, color=color(colors, name))
        axes[0].plot(xs, [p[1] if p[1] is not None else float("nan") for p in points], label=name, **style)
        for ax, m in zip(axes[1:], metrics):
            ax.plot(xs, [max(p[2].get(m, float("nan")), PLOT_FLOOR) for p in points], **style)
    axes[0].set_ylabel("median time (s)")
    for ax, m in zip(axes[1:], metrics):
        ax.set_ylabel(m)
    for ax in axes:
        _log(ax, x=False)
        ax.set_xticks(range(len(longest)), [p[0] for p in longest] if ax is axes[-1] else [])
    axes[-1].tick_params(axis="x", labelrotation=45)
    axes[-1].set_xlabel("run (commit, by commit date)")
    _legend(axes[0])
    return fig


def roofline(view: RooflineView, colors: dict[str, str]) -> Figure:
    """Each timed cell at (FLOPs per byte, GFLOP/s), one colour per method, under the
    ceilings ``min(peak, bandwidth x intensity)`` of the calibration."""
    ceiling = f"ceiling: {view.peak_gflops:.0f} GFLOP/s, {view.bandwidth_gbs:.0f} GB/s"
    fig, (ax,) = _figure(3.8, legend=[ceiling, *view.points])
    xs = [p[0] for pts in view.points.values() for p in pts]
    lo, hi = min(xs) / 2, max(xs) * 2
    ridge = view.peak_gflops / view.bandwidth_gbs  # FLOP/byte where the two ceilings meet
    lo, hi = min(lo, ridge / 4), max(hi, ridge * 4)
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(grid, [min(view.peak_gflops, view.bandwidth_gbs * x) for x in grid], color="black", lw=1.5, label=ceiling)
    for i, (name, pts) in enumerate(view.points.items()):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], MARKERS[i % len(MARKERS)], ms=4,
                color=colors.get(name, UNKNOWN), label=name)
    _log(ax)
    ax.set_xlabel("arithmetic intensity (FLOP/byte of inputs read and output written)")
    ax.set_ylabel("achieved GFLOP/s")
    _legend(ax)
    return fig


__all__ = ["accuracy_vs_time", "convergence", "export", "speedup_bars", "scaling", "history", "roofline"]
