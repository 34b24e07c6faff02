"""``matrixbench run``: plan the suites' cells, run them, save each result, report.

A run file is complete only when every cell of its *original* plan is (a resume with a
narrower ``--filter`` finishes some cells, not the run). ``--resume`` takes the run
file's lock first, so two resumes of one file cannot overwrite each other's cells.
"""

from __future__ import annotations

import argparse
import difflib
import signal
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from rich.text import Text

from .. import registry
from ..console import RunProgress, contention_line, make_console, problems_table, results_tables
from ..store import RunFile, RunFileError, statuses
from ..verdict import NOT_FAILURES
from .common import EXIT_FAIL, EXIT_OK, REPO_ROOT, UsageError, cache_dir, find_suite, load, plugins

#: Options stored in the run file, so that ``--resume`` plans the same cells.
STORED = ("suites", "quick", "device", "backend", "methods", "kinds", "filter", "entry", "timeout", "threads", "plugin",
          "tasks", "rounds", "trials", "trace", "max_cells", "max_bytes", "shard", "cores")


@dataclass
class RunOptions:
    """What to run: the command line's options, or a resumed run's stored ones."""

    suites: list[str] = field(default_factory=list)
    quick: bool = False
    device: list[str] | None = None
    backend: list[str] | None = None
    methods: list[str] | None = None
    kinds: list[str] | None = None
    filter: list[str] | None = None
    entry: list[str] | None = None
    timeout: float | None = None
    threads: int | None = None
    plugin: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    rounds: int | None = None
    trials: int | None = None
    trace: bool | None = None
    max_cells: int | None = None
    max_bytes: float | None = None
    #: ``K/N``: only shard K of N of the plan (:mod:`matrixbench.shard`)
    shard: str | None = None
    #: the cores this run is pinned to, comma-separated
    cores: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        return cls(**{f.name: getattr(args, f.name, None) or ([] if f.name in ("suites", "plugin", "tasks") else None)
                      for f in fields(cls) if f.name != "quick"}, quick=bool(args.quick))

    @classmethod
    def stored(cls, options: dict[str, Any]) -> RunOptions:
        return cls(**{k: v for k, v in options.items() if k in STORED})

    def over(self, base: RunOptions) -> RunOptions:
        """These options where given, ``base``'s elsewhere (a resume narrowed by flags)."""
        mine = asdict(self)
        return RunOptions(**{k: (mine[k] if mine[k] not in (None, False, []) else v) for k, v in asdict(base).items()})


def _names(values: list[str] | None) -> list[str]:
    return [v for part in (values or []) for v in part.split(",") if v]


def plan_cells(opts: RunOptions) -> tuple[list[Any], list[Any], list[str]]:
    """(suites, cells, suite paths) of ``opts``; unknown names are usage errors."""
    from ..limits import PlanTooLarge, check_plan
    from ..plan import PlanError, plan
    from ..timing import QUICK

    paths = [str(find_suite(p)) for p in (opts.suites or ["default"])]
    suites = load(paths)
    methods = _names(opts.methods)
    known = {m.name for m in registry.METHODS.values()}
    for m in methods:
        if m not in known:
            close = difflib.get_close_matches(m, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"--methods: unknown method {m!r}{hint}; known: {', '.join(sorted(known))}")
    kinds = _names(opts.kinds)
    for k in kinds:
        if k not in registry.KINDS:
            raise UsageError(f"--kinds: unknown kind {k!r}; one of {', '.join(registry.KINDS)}")
    entries = _names(opts.entry)
    names = {e.name for s in suites for e in s.entries}
    for e in entries:
        if e not in names:
            close = difflib.get_close_matches(e, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"--entry: no benchmark {e!r} in these suites{hint}; known: {', '.join(sorted(names))}")
    limits = {k: v for k, v in (("max_cells", opts.max_cells), ("max_bytes", opts.max_bytes)) if v}
    try:
        check_plan(suites, **limits, entries=entries or None, methods=methods or None, devices=opts.device or None)
    except PlanTooLarge as exc:
        raise UsageError(f"{exc} (--max-cells and --max-bytes raise the limits)") from None
    overrides = {**(QUICK if opts.quick else {}), **({"rounds": opts.rounds} if opts.rounds else {})}
    try:
        cells = plan(suites, timing_overrides=overrides or None, devices=opts.device, backends=opts.backend,
                     methods=methods, patterns=opts.filter, threads=opts.threads, entries=entries, kinds=kinds, trials=opts.trials,
                     trace=bool(opts.trace))
    except PlanError as exc:
        raise UsageError(str(exc)) from None
    return suites, cells, paths


def _metrics_of(cells: list[Any]) -> dict[str, dict[str, dict[str, str]]]:
    """Each task's metrics with direction, unit and scale: readers of the run file need no registry."""
    tasks = {c.problem.task for c in cells}
    out = {t: {m.name: {"direction": m.direction, "unit": m.unit, "scale": m.scale} for m in registry.TASKS[t].metrics}
           for t in sorted(tasks)}
    for t in tasks:  # the backward mode's score (matrixbench.modes)
        if registry.TASKS[t].gradient is not None:
            out[t]["grad_rel_error"] = {"direction": "lower", "unit": "", "scale": "error"}
    return out


def parse_cores(text: str) -> list[int]:
    """``"0,2-3"`` as [0, 2, 3]; ValueError on anything else."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise ValueError(f"--cores takes core numbers and ranges such as 0,2-3, got {text!r}")
        out += list(range(int(lo), int(hi or lo) + 1))
    return sorted(set(out))


def pin(cores: str) -> list[int]:
    """Pin this process (and the worker it starts) to ``cores``; the cores it now has."""
    import os

    wanted = parse_cores(cores)
    allowed = sorted(os.sched_getaffinity(0))
    if not set(wanted) <= set(allowed):
        raise UsageError(f"--cores {cores}: this process may use cores {allowed} only")
    os.sched_setaffinity(0, wanted)
    return wanted


def select_shard(opts: RunOptions, cells: list[Any], results: Path, resumed: dict[str, Any] | None,
                 write: bool = True) -> tuple[list[Any], dict[str, Any]]:
    """The cells of shard ``opts.shard`` and the shard's record for the run file: the
    partition is the one the plan's first shard wrote (or, resuming, the run file's own)."""
    from ..environment import machine_name
    from ..shard import Partition, fingerprint, parse_shard, shared_partition

    try:
        k, n = parse_shard(opts.shard or "")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    plan = fingerprint([c.key for c in cells])
    if resumed and resumed.get("shard"):
        meta = resumed["shard"]
        if meta["plan"] != plan:
            raise UsageError(f"the suites now plan other cells than when shard {k}/{n} began (plan {meta['plan'][:12]}, "
                             f"now {plan[:12]}): a suite or a method changed; start the shards afresh")
        part, where = Partition(meta["plan"], meta["shards"], meta["seconds"]), meta.get("partition")
    else:
        try:
            from ..runner import default_threads

            threads = opts.threads or (min(len(parse_cores(opts.cores)), default_threads()) if opts.cores
                                       else default_threads())
            part, path = shared_partition(cells, n, results, machine_name(), write, threads=threads)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        where = str(path)
    keys = set(part.shards[k - 1])
    return [c for c in cells if c.key in keys], {
        "index": k, "count": n, "plan": plan, "planned_total": len(cells), "partition": where, "shards": part.shards,
        "seconds": part.seconds, "balance": part.balance, "from_history": part.from_history}


def _open(args: argparse.Namespace, opts: RunOptions, suites: list[Any], cells: list[Any], paths: list[str],
          err: Any, extra: dict[str, Any] | None = None) -> RunFile:
    from ..environment import collect, machine_name

    if args.resume:
        run_file = RunFile.open(args.resume)
        for s in suites:
            old = {x["path"]: x["sha256"] for x in run_file.data["run"]["suites"]}
            if old.get(s.file) not in (None, s.sha256):
                err.print(Text("warning: ", style="yellow") + Text(f"{s.file} changed since the run began"))
        run_file.data.setdefault("metrics", {}).update(_metrics_of(cells))
        return run_file
    stored = {k: v for k, v in asdict(opts).items() if k in STORED}
    stored["suites"] = paths
    meta = {"suites": [{"path": s.file, "name": s.name, "sha256": s.sha256} for s in suites],
            "command": ["matrixbench", *sys.argv[1:]], "options": stored, "planned": len(cells), **(extra or {})}
    return RunFile.create(Path(args.results), machine_name(), meta, collect(REPO_ROOT), _metrics_of(cells),
                          path=Path(args.run_file) if getattr(args, "run_file", None) else None)


def _warn_if_busy(err: Any) -> None:
    """Say so before a run when other processes already keep the CPU busy: every time
    measured now is slower than the code, and the cells will be marked contended."""
    from ..contention import busy_now

    busy = busy_now(0.1)
    if busy is not None and busy.contended:
        err.print(Text("warning: ", style="yellow") + Text(
            f"the machine is busy: {busy.describe('before the run')}; "
            "cells timed while it stays busy are marked contended and their times are unreliable"))


def _execute(run_file: RunFile, todo: list[Any], opts: RunOptions, err: Any) -> bool:
    """Run ``todo``; True when interrupted (Ctrl-C, SIGTERM). Finished cells are saved either way."""
    from ..runner import Runner

    # SIGTERM (a cancelled CI job, `kill`) ends the run like Ctrl-C: finished cells are kept.
    # SIGINT too: a shell may start us with it ignored (background jobs), and Ctrl-C must work.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    runner = Runner(run_file, cache_dir(), plugins=opts.plugin, threads=opts.threads, timeout=opts.timeout)
    with RunProgress(runner.steps(todo), err) as progress:
        runner.progress = progress
        try:
            runner.run(todo)
        except KeyboardInterrupt:
            return True
    return False


def _print_summary(args: argparse.Namespace, run_file: RunFile, out: Any) -> None:
    results = run_file.data["results"]
    if not args.no_table:
        for table in results_tables(results):
            out.print(table)
    bad = problems_table(results)
    if bad is not None:
        out.print(bad)
    counts = statuses(results)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    planned = run_file.data["run"].get("planned", len(results))
    out.print(f"\n{len(results)} of {planned} planned cells: {summary}", highlight=False)
    line = contention_line(results)
    if line:
        out.print(Text("warning: ", style="yellow") + Text(line))
    out.print(f"run file: {run_file.path}", highlight=False)
    if args.report and results:
        from ..report import write_report

        page = write_report([run_file.data], Path(args.report_dir) / run_file.data["run"]["id"], workers=2)
        out.print(f"report: {page}", highlight=False)


def _dry_run(args: argparse.Namespace, cells: list[Any], out: Any) -> int:
    """Print the planned cells and the estimated duration; run nothing, write nothing."""
    from ..environment import machine_name
    from ..estimate import estimate

    for cell in cells:
        out.print(cell.key, highlight=False, soft_wrap=True)
    est = estimate(cells, Path(args.results), machine_name())
    out.print(f"\n{len(cells)} cells, {est.describe()}", highlight=False)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from .calibrate import record_calibration

    if getattr(args, "run_file", None) and Path(args.run_file).exists() and not args.resume:
        args.resume = args.run_file  # a relaunched shard: finish its own file
    given = RunOptions.from_args(args)
    original, resumed = None, None
    if args.resume:
        try:
            from ..store import read_run

            resumed = read_run(args.resume)["run"]
            original = RunOptions.stored(resumed["options"])
        except RunFileError as exc:
            raise UsageError(str(exc)) from None
    opts = given.over(original) if original else given
    opts.plugin = plugins(opts.plugin, opts.tasks)
    extra: dict[str, Any] = {}
    if opts.cores:
        extra["placement"] = {"cores": pin(opts.cores)}
    suites, cells, paths = plan_cells(opts)
    if not cells:
        raise UsageError("no cell matches: check --entry, --device, --backend, --methods, --kinds and --filter")
    out, err = make_console(), make_console(stderr=True)
    if getattr(args, "launcher", None):
        from ..launch import launch

        return launch(args, opts, cells, out, err)
    whole = cells
    if opts.shard:
        cells, extra["shard"] = select_shard(opts, cells, Path(args.results), resumed, write=not args.dry_run)
    if args.dry_run:
        if opts.shard:
            err.print(f"shard {opts.shard}: {len(cells)} of {len(whole)} cells; shards' estimated seconds "
                      f"{', '.join(f'{x:.0f}' for x in extra['shard']['seconds'])} (largest/mean "
                      f"{extra['shard']['balance']:.2f}); partition {extra['shard']['partition']}", highlight=False)
        return _dry_run(args, cells, out)
    try:
        run_file = _open(args, opts, suites, cells, paths, err, extra)
    except RunFileError as exc:
        raise UsageError(str(exc)) from None
    with run_file:
        done = run_file.complete_keys
        todo = [c for c in cells if c.key not in done]
        if args.resume:
            err.print(f"resuming {run_file.path}: {len(cells) - len(todo)} of {len(cells)} cells complete, "
                      f"{sum(1 for c in todo if run_file.record(c.key))} partly done (rounds)", highlight=False)
        err.print(f"running {len(todo)} cells; results go to {run_file.path}", highlight=False)
        _warn_if_busy(err)
        record_calibration(run_file, todo, args.calibrate, opts.threads, err)
        interrupted = _execute(run_file, todo, opts, err)
        whole_plan = plan_cells(original)[1] if original else whole
        if opts.shard:  # a shard is complete when its own part is
            whole_plan = select_shard(opts, whole_plan, Path(args.results), run_file.data["run"])[0]
        complete = not interrupted and {c.key for c in whole_plan} <= run_file.complete_keys
        run_file.finish(complete=complete, interrupted=interrupted)
    _print_summary(args, run_file, out)
    if interrupted:
        out.print(f"interrupted: finish it with  matrixbench run --resume {run_file.path}", highlight=False)
        return 130
    results = run_file.data["results"]
    return EXIT_FAIL if any(r["status"] not in NOT_FAILURES for r in results) else EXIT_OK
