"""The ``matrixbench`` command line.

Exit codes: 0 all good; 1 a regression (compare) or a cell that is not ok (run; cells
skipped with a reason do not count); 2 bad input or usage, with a message saying what
and where.
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import sys
from pathlib import Path
from typing import Any, Sequence

from rich.table import Table
from rich.text import Text

from . import registry
from .console import RunProgress, fmt_time, make_console, problems_table, results_tables
from .discovery import load_plugins
from .store import RunFile, RunFileError, read_run, statuses
from .suite import SuiteErrors, load_suite, load_suites
from .yamlsrc import SuiteError

REPO_ROOT = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input or usage: printed, exit 2."""


def suites_dir() -> Path:
    local = Path("suites")
    return local if local.is_dir() else REPO_ROOT / "suites"


def find_suite(name: str) -> Path:
    """A suite path as given, or a name under ``suites/`` (with or without ``.yaml``)."""
    path = Path(name)
    if path.exists():
        return path
    for candidate in (suites_dir() / name, suites_dir() / f"{name}.yaml"):
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in suites_dir().glob("*.yaml"))
    raise UsageError(f"no suite file {name!r} (known suites in {suites_dir()}: {', '.join(known)})")


def _plugins(args: argparse.Namespace) -> list[str]:
    report = load_plugins(args.plugin)
    err = make_console(stderr=True)
    for name, why in report.failed.items():
        err.print(Text("warning: ", style="yellow") + Text(f"could not import {name}: {why}; its tasks and methods are missing"))
    return args.plugin or []


# ---------------------------------------------------------------- list / validate

def cmd_list(args: argparse.Namespace) -> int:
    _plugins(args)
    out = make_console()
    what = args.what
    if what == "tasks":
        table = Table("task", "metrics", "params", "methods", "description")
        for t in sorted(registry.TASKS.values(), key=lambda t: t.name):
            table.add_row(t.name, ", ".join(f"{m.name} ({m.direction})" for m in t.metrics),
                          ", ".join(f"{k}={v.default!r}" for k, v in t.params.items()),
                          str(len(registry.methods_of(t.name))), t.description)
    elif what == "methods":
        table = Table("task", "method", "kind", "backend", "devices", "dtypes", "params", "requires")
        for m in sorted(registry.METHODS.values(), key=lambda m: (m.task, m.kind, m.name)):
            table.add_row(m.task, m.name, m.kind, m.backend, ",".join(m.devices), ",".join(m.dtypes),
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
    out.print(table)
    return EXIT_OK


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _load(paths: Sequence[str]) -> list[Any]:
    try:
        return load_suites([find_suite(p) for p in paths])
    except SuiteErrors as exc:
        raise UsageError("\n".join(str(e) for e in exc.errors)) from None


def cmd_validate(args: argparse.Namespace) -> int:
    _plugins(args)
    from .plan import plan

    suites = _load(args.suites)
    out = make_console()
    for s in suites:
        cells = plan([s])
        out.print(f"{s.file}: ok ({len(s.entries)} benchmark(s), {len(cells)} cells)", highlight=False)
    return EXIT_OK


# ---------------------------------------------------------------- run

def cmd_run(args: argparse.Namespace) -> int:
    from .environment import collect, machine_name
    from .plan import plan
    from .runner import Runner
    from .timing import QUICK

    if args.resume:
        try:
            run_file = RunFile.open(args.resume)
        except RunFileError as exc:
            raise UsageError(str(exc)) from None
        opts = run_file.data["run"]["options"]
        args.suites = args.suites or opts.get("suites", [])
        for name in ("quick", "device", "methods", "filter", "entry", "timeout", "threads", "plugin", "rounds"):
            if getattr(args, name) in (None, False, []):
                setattr(args, name, opts.get(name))
    plugins = _plugins(args)
    suite_paths = [str(find_suite(p)) for p in (args.suites or ["default"])]
    suites = _load(suite_paths)
    methods = [m for part in (args.methods or []) for m in part.split(",") if m]
    known = {m.name for m in registry.METHODS.values()}
    for m in methods:
        if m not in known:
            raise UsageError(f"--methods: unknown method {m!r}; known: {', '.join(sorted(known))}")
    entries = [e for part in (args.entry or []) for e in part.split(",") if e]
    names = {e.name for s in suites for e in s.entries}
    for e in entries:
        if e not in names:
            close = difflib.get_close_matches(e, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(f"--entry: no benchmark {e!r} in these suites{hint}; known: {', '.join(sorted(names))}")
    overrides = {**(QUICK if args.quick else {}), **({"rounds": args.rounds} if args.rounds else {})}
    cells = plan(suites, timing_overrides=overrides or None, devices=args.device, methods=methods,
                 patterns=args.filter, threads=args.threads, entries=entries)
    if not cells:
        raise UsageError("no cell matches: check --entry, --device, --methods and --filter")

    out, err = make_console(), make_console(stderr=True)
    options = {"suites": suite_paths, "quick": args.quick, "device": args.device, "methods": args.methods,
               "filter": args.filter, "entry": args.entry, "timeout": args.timeout, "threads": args.threads, "plugin": plugins,
               "rounds": args.rounds}
    if args.resume:
        for s in suites:
            old = {x["path"]: x["sha256"] for x in run_file.data["run"]["suites"]}
            if old.get(s.file) not in (None, s.sha256):
                err.print(Text("warning: ", style="yellow") + Text(f"{s.file} changed since the run began"))
        done = run_file.complete_keys
        todo = [c for c in cells if c.key not in done]
        err.print(f"resuming {run_file.path}: {len(cells) - len(todo)} of {len(cells)} cells already done", highlight=False)
    else:
        meta = {"suites": [{"path": s.file, "name": s.name, "sha256": s.sha256} for s in suites],
                "command": ["matrixbench", *sys.argv[1:]], "options": options, "planned": len(cells)}
        run_file = RunFile.create(Path(args.results), machine_name(), meta, collect(REPO_ROOT))
        todo = cells
    err.print(f"running {len(todo)} cells; results go to {run_file.path}", highlight=False)

    cache = cache_dir()
    _record_calibration(run_file, todo, args, cache, err)
    # SIGTERM (a cancelled CI job, `kill`) ends the run like Ctrl-C: finished cells are kept.
    # SIGINT too: a shell may start us with it ignored (background jobs), and Ctrl-C must work.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupted = False
    runner = Runner(run_file, cache, plugins=plugins, threads=args.threads, timeout=args.timeout)
    with RunProgress(runner.steps(todo), err) as progress:
        runner.progress = progress
        try:
            runner.run(todo)
        except KeyboardInterrupt:
            interrupted = True
    run_file.finish(complete=not interrupted, interrupted=interrupted)

    results = run_file.data["results"]
    if not args.no_table:
        for table in results_tables(results):
            out.print(table)
    bad = problems_table(results)
    if bad is not None:
        out.print(bad)
    counts = statuses(results)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    out.print(f"\n{len(results)} cells: {summary}", highlight=False)
    out.print(f"run file: {run_file.path}", highlight=False)
    if args.report and results:
        from .report import write_report

        page = write_report([run_file.data], Path(args.report_dir) / run_file.data["run"]["id"], workers=2)
        out.print(f"report: {page}", highlight=False)
    if interrupted:
        out.print(f"interrupted: finish it with  matrixbench run --resume {run_file.path}", highlight=False)
        return 130
    return EXIT_FAIL if any(r["status"] not in ("ok", "skipped") for r in results) else EXIT_OK


def cache_dir() -> Path:
    return Path(os.environ.get("MATRIXBENCH_CACHE", ".cache/matrixbench"))


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("0", "false", "no", "")


def _record_calibration(run_file: RunFile, cells: list[Any], args: argparse.Namespace, cache: Path, err: Any) -> None:
    """Put the machine's calibration for the run's CPU dtypes in the run file, measuring
    what is missing first (once per machine; ``--no-calibrate`` or
    ``MATRIXBENCH_CALIBRATE=0`` only records what is cached)."""
    from . import calibrate
    from .environment import machine_name
    from .runner import default_threads

    threads = args.threads or default_threads()
    dtypes = sorted({c.dtype for c in cells if c.device == "cpu" and c.dtype in ("float32", "float64", "bfloat16")})
    if args.calibrate and dtypes:
        missing = [d for d in dtypes if calibrate.entry_key("cpu", d, threads) not in calibrate.load(cache, machine_name())]
        if missing:
            err.print(f"calibrating this machine once ({', '.join(missing)} matmul rate and bandwidth; cached)", highlight=False)
            calibrate.calibrate(cache, machine_name(), ["cpu"], missing, threads)
    cached = calibrate.load(cache, machine_name())
    used = {k: v for k, v in cached.items() if v["threads"] == threads or v["device"] != "cpu"}
    if used:
        run_file.data["calibration"] = used
        run_file.save()


def cmd_calibrate(args: argparse.Namespace) -> int:
    from . import calibrate
    from .backends import device_available
    from .environment import machine_name
    from .runner import default_threads

    out = make_console()
    threads = args.threads or default_threads()
    devices = args.device or ["cpu"]
    for device in devices:
        reason = device_available("torch", device)
        if reason:
            raise UsageError(f"cannot calibrate {device}: {reason}")
    cached = calibrate.calibrate(cache_dir(), machine_name(), devices, args.dtype or ["float32", "float64"], threads,
                                 force=args.force)
    table = Table("device", "dtype", "threads", "matmul GFLOP/s", "bandwidth GB/s", "measured")
    for entry in cached.values():
        table.add_row(entry["device"], entry["dtype"], str(entry["threads"]), f"{entry['matmul_gflops']:.1f}",
                      f"{entry['bandwidth_gbs']:.1f}", entry["measured"])
    out.print(table)
    out.print(f"cached in {calibrate.cache_path(cache_dir(), machine_name())}", highlight=False)
    return EXIT_OK


# ---------------------------------------------------------------- report

def _newest_run(results_dir: Path) -> Path:
    files = sorted(results_dir.glob("*/*.json"), key=lambda p: p.stat().st_mtime)
    if not files:
        raise UsageError(f"no run files under {results_dir}/: run `matrixbench run` first, or name run files")
    return files[-1]


def cmd_report(args: argparse.Namespace) -> int:
    import time

    from .report import write_report

    _plugins(args)
    paths = [Path(p) for p in args.runs] or [_newest_run(Path(args.results))]
    runs = []
    for path in paths:
        try:
            runs.append(read_run(path))
        except RunFileError as exc:
            raise UsageError(str(exc)) from None
    newest = max(runs, key=lambda r: r["run"]["started"])["run"]["id"]
    out = Path(args.output) if args.output else Path("reports") / (newest if len(runs) == 1 else f"{newest}+{len(runs) - 1}")
    started = time.perf_counter()
    path = write_report(runs, out, fmt=args.format, workers=args.jobs)
    make_console().print(f"report of {len(runs)} run(s), {sum(len(r['results']) for r in runs)} results, "
                         f"written in {time.perf_counter() - started:.1f} s: {path}", highlight=False)
    return EXIT_OK


# ---------------------------------------------------------------- compare

def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import compare_runs

    _plugins(args)
    try:
        base, head = read_run(args.base), read_run(args.head)
    except RunFileError as exc:
        raise UsageError(str(exc)) from None
    directions = {t.name: {m.name: m.direction for m in t.metrics} for t in registry.TASKS.values()}
    cmp = compare_runs(base, head, threshold=args.threshold, alpha=args.alpha,
                       accuracy_threshold=args.accuracy_threshold, directions=directions, min_time=args.min_time,
                       statistic=args.statistic)
    out = make_console()
    out.print(f"base {cmp.base_id}  head {cmp.head_id}: {cmp.matched} cells matched, "
              f"{len(cmp.only_base)} only in base, {len(cmp.only_head)} only in head; "
              f"geometric-mean time ratio head/base {cmp.geomean_ratio:.3f}", highlight=False)
    if cmp.changes:
        table = Table("", "kind", "what", "cell", "base", "head", "ratio", "p", "test / note")
        for c in cmp.changes:
            mark = "[red]REGRESSION[/]" if c.regression else "[green]improved[/]"
            fmt = fmt_time if c.kind == "time" else (lambda v: str(v) if isinstance(v, str) else f"{v:.3g}")
            note = c.test + ("; method source changed" if c.method_changed else "") + (f"; {c.note}" if c.note else "")
            table.add_row(mark, c.kind, c.what, Text(c.key), fmt(c.base), fmt(c.head),
                          f"{c.ratio:.3f}" if c.ratio is not None else "-",
                          f"{c.p_value:.2g}" if c.p_value is not None else "-", Text(note))
        out.print(table)
    regressions = cmp.regressions
    out.print(f"{len(regressions)} regression(s), {len(cmp.improvements)} improvement(s) "
              f"(time threshold {args.threshold:.0%} on the {args.statistic}, alpha {args.alpha:g})", highlight=False)
    for c in regressions:
        print(f"regression: {c.kind} {c.what}: {c.key}", file=sys.stderr)
    if args.report:
        from .report import write_comparison

        page, md = write_comparison(cmp, Path(args.report))
        out.print(f"comparison page: {page}\nMarkdown summary: {md}", highlight=False)
    return EXIT_FAIL if regressions else EXIT_OK


# ---------------------------------------------------------------- main

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matrixbench", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import MODULE too (extra tasks or methods); also MATRIXBENCH_PLUGINS")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list tasks, methods, generators or suites")
    p.add_argument("what", nargs="?", default="methods", choices=["tasks", "methods", "generators", "suites"])
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("validate", help="check suites without running anything")
    p.add_argument("suites", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run suites (default: suites/default.yaml)")
    p.add_argument("suites", nargs="*")
    p.add_argument("--quick", action="store_true", help="a few samples per cell: a fast, rough run")
    p.add_argument("--device", action="append", choices=list(registry.DEVICES), help="only these devices")
    p.add_argument("--methods", action="append", help="only these methods (comma-separated)")
    p.add_argument("--filter", action="append", help="only cells whose key matches (glob, or substring)")
    p.add_argument("--entry", action="append", help="only these benchmarks of the suites, by name (comma-separated)")
    p.add_argument("--results", default="results", help="folder for run files (default: results/)")
    p.add_argument("--resume", metavar="RUN", help="finish an interrupted run file")
    p.add_argument("--timeout", type=float, help="seconds per cell before the worker is killed")
    p.add_argument("--threads", type=int, help="torch and BLAS threads (default: physical cores)")
    p.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                   default=_env_flag("MATRIXBENCH_CALIBRATE", True),
                   help="do not measure the machine's matmul rate and bandwidth when none is cached")
    p.add_argument("--no-report", dest="report", action="store_false", default=_env_flag("MATRIXBENCH_REPORT", True),
                   help="do not write the HTML report at the end")
    p.add_argument("--report-dir", default="reports", help="folder for the report (default: reports/)")
    p.add_argument("--rounds", type=_positive_int, help="passes over all cells, samples pooled (overrides the suites' timing.rounds)")
    p.add_argument("--no-table", action="store_true", help="do not print the per-problem tables")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write an HTML report (or Markdown) of run files")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run files (default: the newest under --results)")
    p.add_argument("-o", "--output", help="folder (html) or .md file; default reports/<newest run id>")
    p.add_argument("--format", choices=["html", "md"], default="html")
    p.add_argument("--results", default="results", help="where to look for the newest run (default: results/)")
    p.add_argument("--jobs", type=_positive_int, default=2, help="processes drawing plots (default 2)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("calibrate", help="measure and cache the matmul rate and memory bandwidth")
    p.add_argument("--device", action="append", choices=list(registry.DEVICES))
    p.add_argument("--dtype", action="append", choices=["float32", "float64", "bfloat16", "float16"])
    p.add_argument("--threads", type=int, help="threads (default: physical cores, as runs use)")
    p.add_argument("--force", action="store_true", help="measure again even if cached")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("compare", help="compare two run files; exit 1 on a regression")
    p.add_argument("base")
    p.add_argument("head")
    p.add_argument("--threshold", type=float, default=0.10, help="time ratio past 1+threshold is a regression (default 0.10)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the test on raw samples")
    p.add_argument("--accuracy-threshold", type=float, default=0.5,
                   help="relative worsening of a metric that is a regression (default 0.5)")
    p.add_argument("--min-time", type=float, default=0.0,
                   help="judge time only for cells whose base median is at least this many seconds "
                        "(below a few ms, run-to-run noise on a shared machine exceeds 10%%)")
    p.add_argument("--report", metavar="DIR", help="also write compare.html and compare.md into DIR")
    p.add_argument("--statistic", choices=["min", "median"], default="min",
                   help="time statistic whose ratio is judged (default min: interference only adds time)")
    p.set_defaults(func=cmd_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        make_console(stderr=True).print(Text("error: ", style="red") + Text(str(exc)))
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
