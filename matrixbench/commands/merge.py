"""``matrixbench merge RUN... [-o RUN]``: one run from the shard files of one plan
(:mod:`matrixbench.merge`); exit 2 when the files cannot be merged, 1 when cells are
missing or failed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..console import make_console
from ..store import RunFileError, atomic_write_json, read_run
from ..verdict import NOT_FAILURES
from .common import EXIT_FAIL, EXIT_OK, UsageError


def cmd_merge(args: argparse.Namespace) -> int:
    from ..merge import MergeError, default_output, merge_runs

    try:
        runs = [(path, read_run(path)) for path in args.runs]
        merged = merge_runs(runs, allow_plans=args.allow_different_plans, allow_commits=args.allow_different_commits,
                            command=["matrixbench", *sys.argv[1:]])
    except (MergeError, RunFileError) as exc:
        raise UsageError(str(exc)) from None
    target = Path(args.output) if args.output else default_output(args.runs, merged["run"]["id"])
    if target.resolve() in {Path(p).resolve() for p in args.runs}:
        raise UsageError(f"-o {target}: that is one of the files being merged")
    atomic_write_json(target, merged)
    info, out = merged["run"]["merged"], make_console()
    out.print(f"merged {len(runs)} files ({', '.join(info['machines'])}): {len(merged['results'])} cells"
              + (f", {info['duplicates']} found twice (the complete or newer record kept)" if info["duplicates"] else ""),
              highlight=False)
    if info["absent_shards"]:
        absent = ", ".join(f"{k}/{info['count']}" for k in info["absent_shards"])
        out.print(f"shards with no file: {absent}", highlight=False)
    if info["missing"]:
        out.print(f"missing {len(info['missing'])} of {merged['run']['planned']} planned cells:", highlight=False)
        for key in info["missing"][:50]:
            out.print(f"  {key}", highlight=False, soft_wrap=True)
        if len(info["missing"]) > 50:
            out.print(f"  ... and {len(info['missing']) - 50} more (run.merged.missing in the file)", highlight=False)
    out.print(f"run file: {target}", highlight=False, soft_wrap=True)
    bad = info["missing"] or any(r["status"] not in NOT_FAILURES for r in merged["results"])
    return EXIT_FAIL if bad else EXIT_OK
