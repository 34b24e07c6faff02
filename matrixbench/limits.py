"""Bounds on what a plan may ask for, checked before anything is allocated.

A valid suite can still ask for the impossible: a grid of 10^9 cells, or ``n: 1000000``
(a 7.3 TiB float64 matrix). Both used to be accepted and then run the machine out of
memory. :func:`check_plan` estimates, from the validated suites alone, how many cells the
planner would make and how many bytes each problem's generated input takes, and raises
:class:`PlanTooLarge` (a ``ValueError``) with the estimate, the file and the line.

Nothing is materialised: the cell count is a product of grid sizes (an upper bound when
the grid is too large to enumerate its exclusions), and the byte estimate looks at one
problem at a time.

The engine knows no task by name, so the byte estimate is generic. A generator may say
how large its output is by giving its function an attribute::

    @generator("banded", params={"n": Param(int, min=1), "bandwidth": Param(int, 3)})
    def banded(rng, n, bandwidth): ...
    banded.estimate_bytes = lambda n, bandwidth: 8 * n * (2 * bandwidth + 1)

It is called with the generator's resolved parameters (defaults filled) and returns
bytes. Without one, :func:`heuristic_bytes` reads the parameters' *names*: see there.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Mapping

from . import registry
from .params import Param, resolve
from .suite import Entry, ProblemSpec, Suite

#: Most cells a plan may have, over all its suites.
DEFAULT_MAX_CELLS = 100_000
#: Most bytes one problem's generated input may take (64 GiB).
DEFAULT_MAX_BYTES = 64 << 30

#: Integer generator parameters taken for matrix dimensions by the fallback estimate.
DIMENSION_NAMES = frozenset({"n", "m", "d", "rows", "cols", "columns", "dim", "size", "length", "samples", "features"})
#: Integer parameters that multiply the whole input (independent copies).
BATCH_NAMES = frozenset({"batch"})
#: Bytes per stored entry of a sparse matrix while it is built (COO: value and two int64 indices).
SPARSE_ENTRY_BYTES = 24
#: Bytes per dense entry (generators return float64).
DENSE_ENTRY_BYTES = 8
#: Most grid points enumerated exactly; a larger grid is bounded instead (see :func:`_points`).
ENUMERATE_LIMIT = 10_000


class PlanTooLarge(ValueError):
    """A plan whose cells or problem inputs exceed a limit; ``str()`` says by how much and where."""

    def __init__(self, message: str, *, what: str, estimate: int, limit: int,
                 file: str | None = None, line: int | None = None):
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(where + message)
        self.what = what  # "cells" or "bytes"
        self.estimate = estimate
        self.limit = limit
        self.file = file
        self.line = line


def fmt_count(n: int) -> str:
    """An integer with thousands separators, or its power of ten when it is astronomical.

    Suites may hold 1000-digit integers, and Python refuses to print past 4300 digits.
    """
    if n < 10**18:
        return f"{n:,}"
    return f"about 10^{int((n.bit_length() - 1) * math.log10(2))}"


def fmt_size(n: int) -> str:
    """Bytes with a binary unit up to EiB (``fmt.fmt_bytes`` stops at GiB: 7450 GiB reads badly)."""
    if n >= 1 << 70:
        return f"{fmt_count(n)} bytes"
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(x) < 1024:
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.3g} {unit}"
        x /= 1024
    return f"{x:.3g} EiB"


# ---------------------------------------------------------------- bytes


def heuristic_bytes(specs: Mapping[str, Param], params: Mapping[str, Any]) -> int:
    """Bytes of a generator's output guessed from its parameter names (the fallback).

    - the dimensions are the positive integer parameters named in :data:`DIMENSION_NAMES`;
      one dimension means an ``n x n`` matrix, several mean the largest by the sum of the
      others (``m x n``; ``n x d`` and ``n x m`` sharing ``n``);
    - a ``batch`` parameter multiplies it;
    - a ``density`` in [0, 1] or an ``nnz`` count makes it sparse: that many entries at
      :data:`SPARSE_ENTRY_BYTES` each, never more than the dense size;
    - otherwise 8 bytes (float64) per entry. No dimension: 0, nothing is known.

    It errs high for tall-and-sparse pairs and low for a square output computed from a
    rectangular factor (``X X^T`` of an ``n x d`` ``X``): such generators should define
    ``estimate_bytes``.
    """
    dims = sorted((int(v) for k, v in params.items() if _is_int_param(specs, k) and k in DIMENSION_NAMES and v > 0),
                  reverse=True)
    if not dims:
        return 0
    entries = dims[0] * (sum(dims[1:]) if len(dims) > 1 else dims[0])
    for name in BATCH_NAMES:
        if _is_int_param(specs, name) and isinstance(params.get(name), int) and params[name] > 0:
            entries *= params[name]
    stored = _sparse_entries(specs, params, entries)
    return stored * SPARSE_ENTRY_BYTES if stored is not None else entries * DENSE_ENTRY_BYTES


def _is_int_param(specs: Mapping[str, Param], name: str) -> bool:
    return name in specs and specs[name].type is int


def _sparse_entries(specs: Mapping[str, Param], params: Mapping[str, Any], dense: int) -> int | None:
    """Stored entries of a sparse output, from ``density`` or ``nnz``; ``None`` when dense."""
    density = params.get("density")
    if "density" in specs and specs["density"].type is float and isinstance(density, float) and 0.0 <= density <= 1.0:
        return min(dense, math.ceil(Fraction(density) * dense))  # exact: dense may exceed a float
    if _is_int_param(specs, "nnz") and isinstance(params.get("nnz"), int):
        return min(dense, max(0, params["nnz"]))
    return None


def input_bytes(gen: registry.Generator, params: Mapping[str, Any]) -> int:
    """Estimated bytes of ``gen``'s output for resolved ``params``.

    The generator's own ``fn.estimate_bytes(**params)`` when it has one (a mistake in it
    is the plugin's bug and propagates), else :func:`heuristic_bytes`.
    """
    estimate: Callable[..., int] | None = getattr(gen.fn, "estimate_bytes", None)
    if estimate is not None:
        return int(estimate(**params))
    return heuristic_bytes(gen.params, params)


def _points(grid: Mapping[str, list[Any]], specs: Mapping[str, Param]) -> tuple[Iterator[dict[str, Any]], bool]:
    """The grid's points and ``True``, or, past :data:`ENUMERATE_LIMIT`, a bounding subset and ``False``.

    A large grid keeps only the largest value of each numeric parameter (estimates grow
    with sizes), and then only the first value of the others if it is still too large.
    Exclusions must not be applied to the subset: they could remove its only point.
    """
    lists = {k: list(v) for k, v in grid.items()}
    exact = math.prod(len(v) for v in lists.values()) <= ENUMERATE_LIMIT
    if not exact:
        for k, v in lists.items():
            if k in specs and specs[k].type in (int, float) and v:
                lists[k] = [max(v)]
    if math.prod(len(v) for v in lists.values()) > ENUMERATE_LIMIT:
        lists = {k: v[:1] for k, v in lists.items()}
    keys = list(lists)
    return (dict(zip(keys, combo)) for combo in itertools.product(*(lists[k] for k in keys))), exact


def _excluded(point: Mapping[str, Any], exclude: Iterable[Mapping[str, Any]]) -> bool:
    """As the planner excludes (``plan._excluded``), for rules on the names in ``point`` only."""
    return any(set(ex) <= set(point) and all(point[k] == v for k, v in ex.items()) for ex in exclude)


def _largest_problem(spec: ProblemSpec) -> tuple[int, dict[str, Any]]:
    """The largest estimated input of a problem grid, and the parameters giving it."""
    gen = registry.GENERATORS[spec.generator]
    best: tuple[int, dict[str, Any]] = (0, {})
    points, exact = _points(spec.grid, gen.params)
    for point in points:
        if exact and _excluded(point, spec.exclude):
            continue
        params = resolve(gen.params, point)
        size = input_bytes(gen, params)
        if size > best[0]:
            best = (size, params)
    return best


def _check_bytes(suite: Suite, entry: Entry, spec: ProblemSpec, max_bytes: int) -> None:
    size, params = _largest_problem(spec)
    if size > max_bytes:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        raise PlanTooLarge(
            f"benchmark {entry.name!r}: problem {spec.generator}({shown}) needs about {fmt_size(size)} "
            f"of input ({fmt_count(size)} bytes), more than the limit of {fmt_size(max_bytes)} per problem",
            what="bytes", estimate=size, limit=max_bytes, file=suite.file, line=spec.line or entry.line)


# ---------------------------------------------------------------- cells


def _problem_count(spec: ProblemSpec) -> int:
    """Problems of one grid: exact (exclusions applied) when small, else the full product."""
    grid = {**spec.grid, **spec.task_grid}
    total = math.prod(len(v) for v in grid.values())
    if total > ENUMERATE_LIMIT or not spec.exclude:
        return total
    keys = list(grid)
    return sum(1 for combo in itertools.product(*(grid[k] for k in keys))
               if not _excluded(dict(zip(keys, combo)), spec.exclude))


def entry_cells(entry: Entry, *, methods: set[str] | None = None, devices: set[str] | None = None) -> tuple[int, str]:
    """Cells of one benchmark (at most; duplicates are not merged) and how they multiply."""
    problems = sum(_problem_count(spec) for spec in entry.problems)
    settings = sum(math.prod(len(v) for v in m.grid.values()) for m in entry.methods
                   if methods is None or m.name in methods)
    n_devices = sum(1 for d in entry.devices if devices is None or d in devices)
    cells = problems * settings * len(entry.dtypes) * n_devices
    how = (f"{fmt_count(problems)} problems x {fmt_count(settings)} method settings x {len(entry.dtypes)} dtypes "
           f"x {n_devices} devices")
    return cells, how


def _selected(suites: Iterable[Suite], entries: set[str] | None) -> Iterator[tuple[Suite, Entry]]:
    for suite in suites:
        for entry in suite.entries:
            if entries is None or entry.name in entries:
                yield suite, entry


def _check_cells(selected: list[tuple[Suite, Entry]], max_cells: int,
                 methods: set[str] | None, devices: set[str] | None) -> None:
    counts = [(entry_cells(entry, methods=methods, devices=devices), suite, entry) for suite, entry in selected]
    total = sum(cells for (cells, _), _, _ in counts)
    if total <= max_cells:
        return
    (cells, how), suite, entry = max(counts, key=lambda c: c[0][0])
    rest = f"; {fmt_count(total)} cells in all" if total != cells else ""
    raise PlanTooLarge(
        f"benchmark {entry.name!r} expands to up to {fmt_count(cells)} cells ({how}){rest}, more than the "
        f"limit of {fmt_count(max_cells)}; narrow the grids or split the suite",
        what="cells", estimate=total, limit=max_cells, file=suite.file, line=entry.line)


# ---------------------------------------------------------------- entry point


def check_plan(
    suites: Iterable[Suite],
    *,
    max_cells: int | None = DEFAULT_MAX_CELLS,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    entries: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    devices: Iterable[str] | None = None,
) -> None:
    """Raise :class:`PlanTooLarge` if the suites ask for more than the limits allow.

    Call it after the suites are loaded (validated) and before :func:`plan.plan`, which
    materialises every cell. ``max_cells`` bounds the cells of all the suites together,
    ``max_bytes`` the estimated generated input of each problem; ``None`` turns a check
    off. ``entries``, ``methods`` and ``devices`` narrow the count as the same arguments
    of :func:`plan.plan` narrow the plan (``patterns`` cannot be counted without keys:
    the count is then an upper bound). Cells are checked first: they are cheap to count,
    and a grid too large to plan is reported as such rather than by its largest problem.
    """
    entry_set = set(entries) if entries is not None else None
    selected = list(_selected(suites, entry_set))
    if max_cells is not None:
        _check_cells(selected, max_cells,
                     set(methods) if methods is not None else None,
                     set(devices) if devices is not None else None)
    if max_bytes is not None:
        for suite, entry in selected:
            for spec in entry.problems:
                _check_bytes(suite, entry, spec, max_bytes)
