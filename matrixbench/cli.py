"""The ``matrixbench`` command line: the parser; each command lives in :mod:`matrixbench.commands`.

Exit codes: 0 all good; 1 a regression or a broken head (compare) or a cell that is not
ok (run; cells skipped with a reason do not count); 2 bad input or usage, with a message
saying what and where.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from rich.text import Text

from . import registry
from .fastexit import exit_now
from .commands import ab, calibrate, catalog, compare, export, report, run
from .commands import merge as merge_cmd
from .commands.common import (EXIT_FAIL, EXIT_OK, EXIT_USAGE, UsageError, cache_dir, env_flag, even_int, nonnegative_float,
                              positive_float, positive_int, probability, probability_or_zero)
from .console import make_console

__all__ = ["EXIT_FAIL", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "cache_dir", "main"]


def _discovery_options(parser: argparse.ArgumentParser, suffix: str = "") -> None:
    """``--plugin`` and ``--tasks``, accepted before and after the command (each place
    keeps its own list; :func:`main` joins them)."""
    parser.add_argument("--plugin", dest=f"plugin{suffix}", action="append", default=[], metavar="MODULE",
                        help="import MODULE too (extra methods or tasks; it must be importable: "
                             "on PYTHONPATH); also MATRIXBENCH_PLUGINS")
    parser.add_argument("--tasks", dest=f"tasks{suffix}", action="append", default=[], metavar="DIR",
                        help="also discover the task folders inside DIR, as implementations/ is; "
                             "also MATRIXBENCH_TASKS")


def _fail_on(parser: argparse.ArgumentParser) -> None:
    from .tradeoff import DEFAULT_FAIL_ON, VERDICTS, parse_fail_on

    def verdicts(text: str) -> tuple[str, ...]:
        try:
            return parse_fail_on(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser.add_argument("--fail-on", type=verdicts, default=DEFAULT_FAIL_ON, metavar="VERDICTS",
                        help=f"cell verdicts that exit 1, comma-separated, of {', '.join(VERDICTS)} "
                             f"(default {','.join(DEFAULT_FAIL_ON)}; e.g. regressed,traded)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matrixbench", description=__doc__.splitlines()[0] if __doc__ else "")
    _discovery_options(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    after = argparse.ArgumentParser(add_help=False)  # the same options after the command
    _discovery_options(after, "_after")

    p = sub.add_parser("list", parents=[after], help="list tasks, methods, generators or suites")
    p.add_argument("what", nargs="?", default="methods", choices=["tasks", "methods", "generators", "suites"])
    p.set_defaults(func=catalog.cmd_list)

    p = sub.add_parser("validate", parents=[after], help="check suites without running anything")
    p.add_argument("suites", nargs="+")
    p.set_defaults(func=catalog.cmd_validate)

    p = sub.add_parser("run", parents=[after], help="run suites (default: suites/default.yaml)")
    p.add_argument("suites", nargs="*")
    p.add_argument("--quick", action="store_true", help="a few samples per cell: a fast, rough run")
    p.add_argument("--device", action="append", choices=list(registry.DEVICES), help="only these devices")
    p.add_argument("--backend", action="append", choices=list(registry.BACKENDS), help="only these backends")
    p.add_argument("--methods", action="append", help="only these methods (comma-separated)")
    p.add_argument("--kinds", action="append", help="only methods of these kinds (comma-separated: "
                                                     f"{', '.join(registry.KINDS)})")
    p.add_argument("--filter", action="append", help="only cells whose key matches (glob, or substring)")
    p.add_argument("--entry", action="append", help="only these benchmarks of the suites, by name (comma-separated)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the planned cells and the estimated duration (from earlier runs here); run nothing")
    p.add_argument("--results", default="results", help="folder for run files (default: results/)")
    p.add_argument("--resume", metavar="RUN", help="finish an interrupted run file")
    p.add_argument("--timeout", type=positive_float, help="seconds per cell before the worker is killed")
    p.add_argument("--threads", type=positive_int, help="torch and BLAS threads (default: physical cores)")
    p.add_argument("--max-cells", type=positive_int, help="refuse a plan of more cells than this (default 100000)")
    p.add_argument("--max-bytes", type=positive_float,
                   help="refuse a problem whose input is estimated above this many bytes (default 64 GiB)")
    p.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                   default=env_flag("MATRIXBENCH_CALIBRATE", True),
                   help="do not measure the machine's matmul rate and bandwidth when none is cached")
    p.add_argument("--no-report", dest="report", action="store_false", default=env_flag("MATRIXBENCH_REPORT", True),
                   help="do not write the HTML report at the end")
    p.add_argument("--report-dir", default="reports", help="folder for the report (default: reports/)")
    p.add_argument("--rounds", type=positive_int, help="passes over all cells, samples pooled (overrides the suites' timing.rounds)")
    p.add_argument("--trials", type=positive_int,
                   help="seeds per randomized cell (a method with a seed parameter; overrides the suites' trials)")
    p.add_argument("--trace", action="store_true",
                   help="record the convergence trace of every iterative method (as the suites' trace: true)")
    p.add_argument("--no-table", action="store_true", help="do not print the per-problem tables")
    p.add_argument("--shard", metavar="K/N", help="run only shard K of N of the plan (balanced by estimated cost; "
                                                  "one problem's cells stay together); merge the files with `merge`")
    p.add_argument("--cores", metavar="LIST", help="pin the run to these cores (e.g. 0,2-3); threads default to their count")
    p.add_argument("--run-file", metavar="FILE", help="write the run file here (resumed if it exists): a launcher's shard")
    p.add_argument("--launcher", choices=["local", "slurm", "dask"],
                   help="run the plan as --shards shards on this machine (pinned cores or one GPU each), as a SLURM "
                        "job array (submitit) or as tasks on a dask cluster; wait, merge, report")
    p.add_argument("--shards", type=positive_int, help="number of shards for --launcher")
    p.add_argument("--devices", metavar="LIST", help="local launcher: one shard per device (cuda:0,cuda:1,...)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask launcher: the scheduler's address")
    p.add_argument("--slurm-partition", help="slurm launcher: the partition")
    p.add_argument("--slurm-time", type=positive_int, metavar="MINUTES", help="slurm launcher: time limit per shard")
    p.add_argument("--slurm-gpus", type=int, metavar="N", help="slurm launcher: GPUs per shard (default 1 for a CUDA plan)")
    p.add_argument("--slurm-option", action="append", metavar="KEY=VALUE", help="slurm launcher: an extra sbatch option")
    p.add_argument("--submitit-cluster", choices=["slurm", "local", "debug"],
                   help="slurm launcher: submitit's executor (default: SLURM where sbatch is found, else local)")
    p.add_argument("--no-wait", action="store_true", help="slurm launcher: return once submitted (merge later)")
    p.set_defaults(func=run.cmd_run)

    p = sub.add_parser("merge", parents=[after], help="one run from the shard files of one plan")
    p.add_argument("runs", nargs="+", metavar="RUN", help="shard run files")
    p.add_argument("-o", "--output", help="the merged run file (default: beside the first shard, a new run id)")
    p.add_argument("--allow-different-plans", action="store_true",
                   help="merge shards of different plans, or run files that are not shards")
    p.add_argument("--allow-different-commits", action="store_true", help="merge shards measured on different commits")
    p.set_defaults(func=merge_cmd.cmd_merge)

    p = sub.add_parser("report", parents=[after], help="write an HTML report (or Markdown) of run files")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run files (default: the newest under --results)")
    p.add_argument("-o", "--output", help="folder (html), .md or .tex file; default reports/<newest run id>")
    p.add_argument("--format", choices=["html", "md", "latex"], default="html",
                   help="html pages, a Markdown summary, or a LaTeX document of booktabs tables")
    p.add_argument("--figures", metavar="DIR", help="write every figure as SVG and PDF into DIR, a folder per task "
                                                     "(default: figures/ in the report's folder)")
    p.add_argument("--results", default="results", help="where to look for the newest run (default: results/)")
    p.add_argument("--jobs", type=positive_int, default=2, help="processes drawing plots (default 2)")
    p.set_defaults(func=report.cmd_report)

    p = sub.add_parser("export", parents=[after], help="write the cells of run files as CSV, JSON lines or Parquet")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run files")
    p.add_argument("-o", "--output", required=True, help="the file to write (.csv, .jsonl or .parquet)")
    p.add_argument("--format", choices=["csv", "jsonl", "parquet"], help="default: from the output's suffix")
    p.set_defaults(func=export.cmd_export)

    p = sub.add_parser("calibrate", parents=[after], help="measure and cache the matmul rate and memory bandwidth")
    p.add_argument("--device", action="append", choices=list(registry.DEVICES))
    p.add_argument("--dtype", action="append", choices=["float32", "float64", "bfloat16", "float16"])
    p.add_argument("--threads", type=positive_int, help="threads (default: physical cores, as runs use)")
    p.add_argument("--force", action="store_true", help="measure again even if cached")
    p.set_defaults(func=calibrate.cmd_calibrate)

    p = sub.add_parser("compare", parents=[after], help="compare two run files; exit 1 on a regression")
    p.add_argument("base", help="base run file, or shard files of one plan separated by commas (merged as merge does)")
    p.add_argument("head", help="head run file, or comma-separated shard files")
    p.add_argument("--threshold", type=nonnegative_float, default=0.10, help="time ratio past 1+threshold is a regression (default 0.10)")
    p.add_argument("--alpha", type=probability, default=0.05, help="significance level of the test on raw samples")
    p.add_argument("--accuracy-threshold", type=nonnegative_float, default=0.5,
                   help="relative worsening of a metric that is a regression (default 0.5)")
    p.add_argument("--min-time", type=nonnegative_float, default=0.0,
                   help="judge time only for cells whose base median is at least this many seconds "
                        "(below a few ms, run-to-run noise on a shared machine exceeds 10%%)")
    p.add_argument("--report", metavar="DIR", help="also write compare.html and compare.md into DIR")
    p.add_argument("--allow-different-machines", action="store_true",
                   help="compare runs made on different machines (otherwise exit 2: their times are not comparable)")
    p.add_argument("--statistic", choices=["min", "median"], default="min",
                   help="time statistic whose ratio is judged (default min: interference only adds time)")
    _fail_on(p)
    p.set_defaults(func=compare.cmd_compare)

    p = sub.add_parser("ab", parents=[after], help="measure two git revisions in alternation; exit 1 on a regression")
    p.add_argument("base", help="base revision (a commit, branch or tag)")
    p.add_argument("head", help="head revision")
    p.add_argument("suites", nargs="*", help="suites (default: ci), planned by each revision from its own tree")
    p.add_argument("--threshold", type=nonnegative_float, default=0.05,
                   help="a time change smaller than this is 'same'; its benchmark's regression.threshold wins (default 0.05)")
    p.add_argument("--accuracy-threshold", type=nonnegative_float, default=0.5,
                   help="relative worsening of a metric that counts (default 0.5)")
    p.add_argument("--confidence", type=probability, default=0.99, help="of the interval on each ratio (default 0.99)")
    p.add_argument("--min-rounds", type=positive_int, default=8, help="clean ABBA rounds before a cell may stop (default 8)")
    p.add_argument("--max-rounds", type=positive_int, default=40, help="rounds at most per cell (default 40)")
    p.add_argument("--processes", type=even_int, default=4,
                   help="processes per revision, an even number (default 4); the interval is taken over them")
    p.add_argument("--cell-time", type=positive_float, default=4.0,
                   help="seconds of timing per cell after which it stops once it has --min-rounds (default 4)")
    p.add_argument("--confirm-confidence", type=probability_or_zero, default=0.9,
                   help="a slower or faster cell is timed again in fresh processes and keeps its verdict only if "
                        "that interval, at this confidence, lies on the same side of 1 (default 0.9; 0: no second look)")
    p.add_argument("--filter", action="append", help="only cells whose key matches (glob, or substring)")
    p.add_argument("--methods", action="append", help="only these methods (comma-separated)")
    p.add_argument("--entry", action="append", help="only these benchmarks of the suites (comma-separated)")
    p.add_argument("--backend", action="append", choices=list(registry.BACKENDS), help="only these backends")
    p.add_argument("--repo", default=".", help="the git repository (default: the current folder)")
    p.add_argument("--report", metavar="DIR", help="also write compare.html, compare.md and ab.json into DIR")
    p.add_argument("--every-cell", action="store_true", help="list unchanged cells too")
    _fail_on(p)
    p.set_defaults(func=ab.cmd_ab)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.plugin = args.plugin + args.plugin_after
    args.tasks = [str(Path(p).resolve()) for p in args.tasks + args.tasks_after]
    try:
        return args.func(args)
    except UsageError as exc:
        make_console(stderr=True).print(Text("error: ", style="red") + Text(str(exc)))
        return EXIT_USAGE


def entry() -> None:
    """The ``matrixbench`` command: :func:`main`, then an immediate exit with its code
    (:mod:`matrixbench.fastexit` says why that is safe)."""
    code = main()
    exit_now(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    entry()
