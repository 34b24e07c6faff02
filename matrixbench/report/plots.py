"""Plots as inline SVG strings (matplotlib, text kept as SVG text).

Every function returns the ``<svg ...>...</svg>`` element only, ready to be placed in a
page; matplotlib escapes the text it writes, so labels from suites cannot inject markup.
For speed (a report may hold hundreds of plots) figures are laid out by hand instead
of ``bbox_inches="tight"`` (which draws twice) and log axes have no minor ticks: 2.5x
faster per plot.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

from .model import PLOT_FLOOR, ProblemView, ProductsView, RooflineView, Row, ScalingView

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 8, "axes.titlesize": 9, "legend.fontsize": 7,
                            "axes.grid": True, "grid.alpha": 0.3})
MARKERS = "osD^v<>"  # 7 markers against 10 colours: (colour, marker) pairs repeat only after 70
COLORS = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
WIDTH = 9.0  # inches: the axes take the left part, the legend the right
CHAR = 0.07  # inches per character of 8-pt text, for margins


def _figure(height: float, rows: int = 1, left_chars: int = 10, legend: bool = True) -> tuple[Figure, list[Any]]:
    fig = Figure(figsize=(WIDTH, height))
    axes = [fig.add_subplot(rows, 1, i + 1) for i in range(rows)]
    left = min(0.55, (left_chars * CHAR + 0.3) / WIDTH)
    fig.subplots_adjust(left=left, right=0.6 if legend else 0.97, bottom=min(0.45, 0.55 / height),
                        top=1 - min(0.3, 0.3 / height), hspace=0.25)
    return fig, axes


def _log(ax: Any, x: bool = True, y: bool = True) -> None:
    """Log axes with ticks at 1, 2 and 5 per decade (at most 8), so that a range of less
    than a decade still gets labels, and no minor ticks (they cost half the drawing time)."""
    for on, axis, scale, limits in ((x, ax.xaxis, ax.set_xscale, ax.get_xlim), (y, ax.yaxis, ax.set_yscale, ax.get_ylim)):
        if on:
            scale("log")
            lo, hi = limits()
            if lo > 0 and hi / lo < 100:
                axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0), numticks=12))
                axis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False))
            else:
                axis.set_major_locator(LogLocator(base=10, numticks=9))
    ax.minorticks_off()


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def accuracy_vs_time(pv: ProblemView, metric: str) -> str | None:
    """One marker per cell; a method's parameter sweep joined as a curve; a cell run with
    trials has a vertical bar over the 10-90% range of its seeds; the Pareto front drawn
    as a staircase with its members named."""
    if not pv.accuracy:
        return None
    fig, (ax,) = _figure(3.8)
    # colour = method, marker and line style = dtype and device: no two series look alike
    names = list(dict.fromkeys(s.name for s in pv.accuracy))
    variants = list(dict.fromkeys((s.dtype, s.device) for s in pv.accuracy))
    styles = ["-", "--", ":", "-."]
    for s in pv.accuracy:
        xs, ys = [p[0] for p in s.points], [p[1] for p in s.points]
        v = variants.index((s.dtype, s.device))
        color = COLORS[names.index(s.name) % len(COLORS)]
        ax.plot(xs, ys, styles[v % len(styles)], marker=MARKERS[v % len(MARKERS)],
                color=color, ms=4, lw=1, label=f"{s.name} {s.dtype} {s.device}")
        for x, r in zip(xs, s.spread):  # the 10-90% range over seeds (trials)
            if r is not None:
                ax.plot([x, x], list(r), color=color, lw=2, alpha=0.45, solid_capstyle="butt")
    if pv.front:
        fx = [p[0] for p in pv.front]
        fy = [p[1] for p in pv.front]
        ax.step(fx, fy, where="post", color="black", lw=1.5, alpha=0.5, label="Pareto front")
        for x, y, label in pv.front:
            ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=6)
    _log(ax)
    ax.set_xlabel("median time (s)")
    ax.set_ylabel(f"{metric} (0 drawn at {PLOT_FLOOR:.0e})")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


def convergence(pv: ProblemView, metric: str | None) -> str | None:
    """Every traced method of the problem: its error against iteration (left) and against
    the method's own time up to that iterate (right), both on log error axes. Where every
    trace counted products and spent some (an operator task's product methods), the left
    axis is the products instead: a preconditioner's sketch or a block method's columns
    then count, as they cost."""
    if not pv.traces or metric is None:
        return None
    by_products = all(t[4] and t[4][-1] > 0 for t in pv.traces)
    fig, (left, right) = _figure(5.6, rows=2)
    for i, (label, its, secs, vals, products) in enumerate(pv.traces):
        style = dict(color=COLORS[i % len(COLORS)], marker=MARKERS[i % len(MARKERS)], ms=3, lw=1)
        left.plot(products if by_products else its, vals, label=label, **style)
        right.plot(secs, vals, **style)
    _log(left, x=False)
    _log(right)
    left.set_xlabel("matrix-vector products (counted)" if by_products else "iteration")
    right.set_xlabel("time up to the iterate (s)")
    for ax in (left, right):
        ax.set_ylabel(metric)
    left.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


def speedup_bars(rows: list[Row]) -> str | None:
    """Speedup against the reference, one bar per timed cell, dtypes and devices side by side."""
    rows = [r for r in rows if r.vs_reference]
    if not rows:
        return None
    rows = sorted(rows, key=lambda r: (r.label, r.record["dtype"], r.record["device"]))
    variants = sorted({(r.record["dtype"], r.record["device"]) for r in rows})
    color = {v: COLORS[i % len(COLORS)] for i, v in enumerate(variants)}
    labels = [f"{r.label} {r.record['dtype']} {r.record['device']}" for r in rows]
    fig, (ax,) = _figure(0.2 * len(rows) + 0.9, left_chars=max(len(x) for x in labels), legend=False)
    ys = range(len(rows))
    ax.barh(list(ys), [r.vs_reference for r in rows], color=[color[(r.record["dtype"], r.record["device"])] for r in rows])
    ax.set_yticks(list(ys), labels)
    ax.axvline(1.0, color="black", lw=0.8)
    _log(ax, y=False)
    ax.set_xlabel("speedup against the reference (x, log scale; right of the line is faster)")
    ax.invert_yaxis()
    return _svg(fig)


def scaling(view: ScalingView) -> str:
    """Time against size on log-log axes, one line per method and dtype, fitted exponent in the legend."""
    fig, (ax,) = _figure(3.8)
    for i, (name, pts) in enumerate(view.series.items()):
        fit = view.fits.get(name)
        label = f"{name}: {fit.label()}" if fit else name
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=MARKERS[i % len(MARKERS)], ms=3, lw=1,
                color=COLORS[i % len(COLORS)], label=label)
    _log(ax)
    ax.set_xlabel(view.size)
    ax.set_ylabel("median time (s)")
    ax.set_title(view.title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


def error_vs_products(view: ProductsView) -> str:
    """The primary metric against matrix-vector products on log-log axes, one line per method and dtype."""
    fig, (ax,) = _figure(3.8)
    for i, (name, pts) in enumerate(view.series.items()):
        ax.plot([p[0] for p in pts], [max(p[1], PLOT_FLOOR) for p in pts], marker=MARKERS[i % len(MARKERS)], ms=3, lw=1,
                color=COLORS[i % len(COLORS)], label=name)
    _log(ax)
    ax.set_xlabel("matrix-vector products")
    ax.set_ylabel(view.metric)
    ax.set_title(view.title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


def history(pv: ProblemView, labels: dict[str, str]) -> str | None:
    """Time and each metric of every cell across runs (ordered by commit date)."""
    if not pv.history:
        return None
    metrics = pv.metrics
    fig, axes = _figure(1.8 * (1 + len(metrics)) + 0.6, rows=1 + len(metrics))
    for i, (key, points) in enumerate(pv.history.items()):
        xs = list(range(len(points)))
        style = dict(marker=MARKERS[i % len(MARKERS)], ms=3, lw=1, color=COLORS[i % len(COLORS)])
        axes[0].plot(xs, [p[1] if p[1] is not None else float("nan") for p in points], label=labels.get(key, key), **style)
        for ax, m in zip(axes[1:], metrics):
            ax.plot(xs, [max(p[2].get(m, float("nan")), PLOT_FLOOR) for p in points], **style)
    axes[0].set_ylabel("median time (s)")
    for ax, m in zip(axes[1:], metrics):
        ax.set_ylabel(m)
    longest = max(pv.history.values(), key=len)
    for ax in axes:
        _log(ax, x=False)
        ax.set_xticks(range(len(longest)), [p[0] for p in longest] if ax is axes[-1] else [])
    axes[-1].tick_params(axis="x", labelrotation=45)
    axes[0].set_title("history across runs (by commit date)")
    axes[0].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


def roofline(view: RooflineView) -> str:
    """Each timed cell at (FLOPs per byte, GFLOP/s), one colour per method, under the
    ceilings ``min(peak, bandwidth x intensity)`` of the calibration."""
    fig, (ax,) = _figure(3.8)
    xs = [p[0] for pts in view.points.values() for p in pts]
    lo, hi = min(xs) / 2, max(xs) * 2
    ridge = view.peak_gflops / view.bandwidth_gbs  # FLOP/byte where the two ceilings meet
    lo, hi = min(lo, ridge / 4), max(hi, ridge * 4)
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(grid, [min(view.peak_gflops, view.bandwidth_gbs * x) for x in grid], color="black", lw=1.5,
            label=f"ceiling: {view.peak_gflops:.0f} GFLOP/s, {view.bandwidth_gbs:.0f} GB/s")
    for i, (name, pts) in enumerate(view.points.items()):
        ax.plot([p[0] for p in pts], [p[1] for p in pts], MARKERS[i % len(MARKERS)], ms=4,
                color=COLORS[i % len(COLORS)], label=name)
    _log(ax)
    ax.set_xlabel("arithmetic intensity (FLOPs per byte of inputs read and output written)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.set_title(f"roofline, {view.device} {view.dtype}")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _svg(fig)


__all__ = ["accuracy_vs_time", "speedup_bars", "scaling", "history", "roofline"]
