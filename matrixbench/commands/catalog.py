"""``matrixbench list`` and ``matrixbench validate``: what exists, and whether suites are sound."""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from .. import registry
from ..console import make_console
from ..suite import SuiteErrors, load_suite
from ..yamlsrc import SuiteError
from .common import EXIT_OK, UsageError, load, plugins, suites_dir


def cmd_list(args: argparse.Namespace) -> int:
    plugins(args.plugin, args.tasks)
    what = args.what
    if what == "tasks":
        table = Table("task", "metrics", "params", "methods", "description")
        for t in sorted(registry.TASKS.values(), key=lambda t: t.name):
            table.add_row(t.name, ", ".join(f"{m.name} ({m.direction})" for m in t.metrics),
                          ", ".join(f"{k}={v.default!r}" for k, v in t.params.items()),
                          str(len(registry.methods_of(t.name))), t.description)
    elif what == "methods":
        table = Table("task", "method", "kind", "backends", "devices", "dtypes", "params", "requires")
        for m in sorted(registry.METHODS.values(), key=lambda m: (m.task, m.kind, m.name)):
            table.add_row(m.task, m.name, m.kind, ",".join(m.backends), ",".join(m.devices), ",".join(m.dtypes),
                          ", ".join(f"{k}={v.default!r}" for k, v in m.params.items()), ",".join(m.requires))
    elif what == "generators":
        table = Table("generator", "params", "description")
        for g in sorted(registry.GENERATORS.values(), key=lambda g: g.name):
            table.add_row(g.name, ", ".join(f"{k}" + ("" if v.required else f"={v.default!r}") for k, v in g.params.items()), g.description)
    else:
        table = Table("suite", "file", "benchmarks", "description")
        for path in sorted(suites_dir().glob("*.yaml")):
            try:
                s = load_suite(path)
                table.add_row(s.name, str(path), ", ".join(e.name for e in s.entries), s.description)
            except (SuiteErrors, SuiteError) as exc:
                table.add_row(path.stem, str(path), Text("invalid", style="red"), Text(str(exc).splitlines()[0]))
    make_console().print(table)
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from ..limits import PlanTooLarge, check_plan
    from ..plan import PlanError, plan

    plugins(args.plugin, args.tasks)
    out = make_console()
    for s in load(args.suites):
        try:
            check_plan([s])
        except PlanTooLarge as exc:
            raise UsageError(f"{s.file}: {exc}") from None
        try:
            cells = plan([s])
        except PlanError as exc:
            raise UsageError(f"{s.file}: {exc}") from None
        out.print(f"{s.file}: ok ({len(s.entries)} benchmark(s), {len(cells)} cells)", highlight=False)
    return EXIT_OK
