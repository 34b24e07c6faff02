"""Launchers: the shards of a plan run by an existing engine, then merged (``run --launcher``).

matrixbench builds no scheduler. Each shard is one ordinary ``matrixbench run --shard K/N
--run-file FILE`` (:mod:`matrixbench.shard`), a process that writes its own run file cell
by cell; a launcher only decides where those processes run, waits for them, and merges
their files (:mod:`matrixbench.merge`):

- ``local``: one process per worker on this machine. CPU workers get disjoint cores
  (``--cores``, split evenly; each shard is pinned and sets its threads to match), GPU
  workers one device each (``--devices cuda:0,cuda:1``, through ``CUDA_VISIBLE_DEVICES``):
  two timed cells never share a core or a device. A shard that dies before its file is
  complete is started again on the same file and resumes (twice at most).
- ``slurm`` (submitit): one job-array element per shard, with ``--slurm-partition``,
  ``--slurm-time``, ``--slurm-gpus`` and extra ``--slurm-option KEY=VALUE`` (sbatch
  options). A preempted or timed-out element is requeued by submitit
  (:class:`ShardJob` is checkpointable) and resumes from its run file. ``--no-wait``
  returns after submitting; ``matrixbench merge`` the files later.
- ``dask``: each shard is a task on a ``dask.distributed`` cluster (``--scheduler
  ADDRESS``), with ``resources={"GPU": 1}`` for CUDA plans (declare GPU workers with
  ``--resources GPU=1``). A worker with one thread runs one shard at a time. The run file
  comes back as the task's result, so workers need no shared disk (they need the same
  checkout and environment); a task whose worker died is retried.

submitit and dask are optional (``pip install -e ".[cluster]"``); without them the launcher
is refused with that command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from .store import RunFileError, atomic_write_json, read_run

INSTALL = 'pip install -e ".[cluster]"'
#: how often a shard that died before finishing is started again on its own file
RELAUNCHES = 2


def shard_argv(opts: Any, args: argparse.Namespace, suites: Sequence[str]) -> list[str]:
    """The ``matrixbench run`` arguments every shard shares (without ``--shard``)."""
    argv = list(suites)
    if opts.quick:
        argv.append("--quick")
    for flag, values in (("--device", opts.device), ("--backend", opts.backend), ("--methods", opts.methods),
                         ("--kinds", opts.kinds), ("--filter", opts.filter), ("--entry", opts.entry),
                         ("--plugin", opts.plugin), ("--tasks", opts.tasks)):
        for value in values or []:
            argv += [flag, str(value)]
    for flag, value in (("--timeout", opts.timeout), ("--threads", opts.threads), ("--rounds", opts.rounds),
                        ("--trials", opts.trials), ("--max-cells", opts.max_cells), ("--max-bytes", opts.max_bytes)):
        if value:
            argv += [flag, str(value)]
    if opts.trace:
        argv.append("--trace")
    if not args.calibrate:
        argv.append("--no-calibrate")
    return argv + ["--results", str(Path(args.results).resolve()), "--no-report", "--no-table"]


def shard_file(folder: str | Path, k: int, count: int) -> Path:
    """Where every launcher keeps shard ``k`` of ``count``'s run file."""
    return Path(folder) / f"shard-{k}-of-{count}.json"


def settings_env() -> dict[str, str]:
    """The launcher's ``MATRIXBENCH_*`` settings (plugins, task folders, cache, calibration)
    and ``PYTHONPATH``, for shards that a scheduler starts elsewhere; not the machine name:
    each shard records the machine it ran on."""
    return {k: v for k, v in os.environ.items()
            if (k.startswith("MATRIXBENCH_") and k != "MATRIXBENCH_MACHINE") or k == "PYTHONPATH"}


def run_shard(argv: Sequence[str], shard: str, run_file: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """One shard as a ``matrixbench run`` process (it resumes ``run_file`` if it exists)."""
    cmd = [sys.executable, "-m", "matrixbench", "run", *argv, "--shard", shard, "--run-file", run_file]
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True)


class ShardJob:
    """A shard as a submitit job: callable with the shard number, checkpointable (submitit
    requeues it on preemption or timeout, and the rerun resumes its run file)."""

    def __init__(self, argv: Sequence[str], count: int, folder: str, env: dict[str, str] | None = None):
        self.argv, self.count, self.folder, self.env = list(argv), count, folder, dict(env or {})

    def path(self, k: int) -> str:
        return str(shard_file(self.folder, k, self.count))

    def __call__(self, k: int) -> str:
        done = run_shard(self.argv, f"{k}/{self.count}", self.path(k), self.env)
        if done.returncode not in (0, 1):  # 1: cells failed, the shard itself finished
            raise RuntimeError(f"shard {k}/{self.count} exited with {done.returncode}: {done.stderr[-2000:]}")
        return self.path(k)

    def checkpoint(self, k: int) -> Any:
        import submitit

        return submitit.helpers.DelayedSubmission(ShardJob(self.argv, self.count, self.folder, self.env), k)


def dask_shard(argv: Sequence[str], shard: str, env: dict[str, str] | None = None) -> str:
    """A shard run on a dask worker: its run file's text (workers need no shared disk)."""
    with tempfile.TemporaryDirectory(prefix="matrixbench-shard-") as tmp:
        path = str(Path(tmp) / "shard.json")
        done = run_shard(argv, shard, path, env)
        if not Path(path).exists():
            raise RuntimeError(f"shard {shard} wrote no run file (exit {done.returncode}): {done.stderr[-2000:]}")
        return Path(path).read_text(encoding="utf-8")


def _require(module: str, launcher: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        from .commands.common import UsageError

        raise UsageError(f"--launcher {launcher} needs {module.split('.')[0]}, which is not installed: {INSTALL}") from None


def _split(items: list[Any], n: int) -> list[list[Any]]:
    """``items`` in ``n`` contiguous, nearly equal groups."""
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def shard_threads(args: argparse.Namespace, count: int) -> int | None:
    """The threads every shard will run with, where the launcher decides them: ``--threads``,
    or local CPU shards on equal groups of cores (a shard's threads match its cores);
    None where shards differ or run elsewhere (their history then comes from any run)."""
    if getattr(args, "threads", None):
        return int(args.threads)
    if args.launcher != "local" or getattr(args, "devices", None):
        return None
    from .commands.run import parse_cores
    from .runner import default_threads

    try:
        cores = parse_cores(args.cores) if args.cores else sorted(os.sched_getaffinity(0))
    except ValueError:
        return None
    sizes = {len(group) for group in _split(cores, count)} if count <= len(cores) else set()
    return min(sizes.pop(), default_threads()) if len(sizes) == 1 else None


def _local(argv: list[str], planned: list[int], folder: Path, args: argparse.Namespace, err: Any) -> list[Path]:
    """One pinned process per shard; a shard that died is started again on its own file."""
    from .commands.common import UsageError

    count = len(planned)
    devices = [d.strip() for d in (args.devices or "").split(",") if d.strip()]
    if devices:
        if count > len(devices):
            raise UsageError(f"--shards {count} on {len(devices)} device(s): two shards would share a device")
        places = [{"env": {"CUDA_VISIBLE_DEVICES": d.split(":")[-1]}, "cores": None, "label": d} for d in devices[:count]]
    else:
        from .commands.run import parse_cores

        try:
            cores = parse_cores(args.cores) if args.cores else sorted(os.sched_getaffinity(0))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if count > len(cores):
            raise UsageError(f"--shards {count} on {len(cores)} core(s): CPU shards run on disjoint cores, "
                             "so at most one shard per core")
        places = [{"env": {}, "cores": ",".join(map(str, group)), "label": f"cores {','.join(map(str, group))}"}
                  for group in _split(cores, count)]
    paths = [shard_file(folder, k, count) for k in range(1, count + 1)]
    procs: dict[int, subprocess.Popen] = {}
    tries = {k: 0 for k in range(1, count + 1)}

    def start(k: int) -> None:
        place = places[k - 1]
        cmd = [sys.executable, "-m", "matrixbench", "run", *argv, "--shard", f"{k}/{count}", "--run-file", str(paths[k - 1])]
        if place["cores"]:
            cmd += ["--cores", place["cores"]]
        log = (folder / f"shard-{k}-of-{count}.log").open("a")
        procs[k] = subprocess.Popen(cmd, env={**os.environ, **place["env"]}, stdout=log, stderr=subprocess.STDOUT)
        err.print(f"shard {k}/{count} on {place['label']}: started (pid {procs[k].pid})", highlight=False)

    for k in range(1, count + 1):
        start(k)
    shown, last = "", 0.0
    while procs:
        time.sleep(1.0)
        line = "progress: " + ", ".join(f"shard {k} {_cells_in(p)}/{planned[k - 1]}" for k, p in enumerate(paths, 1))
        if line != shown and time.perf_counter() - last > 10:
            err.print(line, highlight=False)
            shown, last = line, time.perf_counter()
        for k, proc in list(procs.items()):
            done = _cells_in(paths[k - 1])
            code = proc.poll()
            if code is None:
                continue
            del procs[k]
            complete = _complete(paths[k - 1])
            if complete:
                err.print(f"shard {k}/{count}: done, {done} cells", highlight=False)
            elif tries[k] < RELAUNCHES:
                tries[k] += 1
                err.print(f"shard {k}/{count}: exited with {code} after {done} cells; started again on its run file "
                          f"(resumes; try {tries[k]} of {RELAUNCHES})", highlight=False)
                start(k)
            else:
                err.print(f"shard {k}/{count}: exited with {code}, {done} cells; not started again", highlight=False)
    return [p for p in paths if p.exists()]


def _cells_in(path: Path) -> int:
    try:
        return len(json.loads(path.read_text(encoding="utf-8"))["results"])
    except (OSError, ValueError, KeyError):
        return 0


def _complete(path: Path) -> bool:
    try:
        return bool(read_run(path)["run"]["complete"])
    except RunFileError:
        return False


def _slurm(argv: list[str], count: int, folder: Path, args: argparse.Namespace, cells: list[Any], err: Any) -> list[Path] | None:
    submitit = _require("submitit", "slurm")
    executor = submitit.AutoExecutor(folder=str(folder / "submitit"), cluster=args.submitit_cluster)
    params: dict[str, Any] = {"name": "matrixbench", "slurm_array_parallelism": count}
    if args.slurm_time:
        params["timeout_min"] = args.slurm_time
    if args.slurm_partition:
        params["slurm_partition"] = args.slurm_partition
    gpus = args.slurm_gpus if args.slurm_gpus is not None else (1 if any(c.device == "cuda" for c in cells) else 0)
    if gpus:
        params["gpus_per_node"] = gpus
    if args.slurm_option:
        params["slurm_additional_parameters"] = dict(o.split("=", 1) for o in args.slurm_option)
    executor.update_parameters(**params)
    job = ShardJob(argv, count, str(folder), settings_env())
    jobs = executor.map_array(job, list(range(1, count + 1)))
    err.print(f"submitted {count} shards: job {jobs[0].job_id.split('_')[0]} ({folder})", highlight=False)
    if args.no_wait:
        err.print(f"not waiting: when they finish, matrixbench merge {folder}/shard-*-of-{count}.json -o MERGED.json",
                  highlight=False)
        return None
    states: dict[int, str] = {}
    while True:
        for k, j in enumerate(jobs, 1):
            state = j.state
            if state != states.get(k):
                states[k] = state
                err.print(f"shard {k}/{count}: {state}, {_cells_in(Path(job.path(k)))} cells", highlight=False)
        if all(j.done() for j in jobs):
            break
        time.sleep(2.0)
    for k, j in enumerate(jobs, 1):
        try:
            j.result()
        except Exception as exc:  # noqa: BLE001 - a failed element is reported; its cells are listed missing
            err.print(f"shard {k}/{count} failed: {str(exc)[-500:]}", highlight=False)
    return [Path(job.path(k)) for k in range(1, count + 1) if Path(job.path(k)).exists()]


def _dask(argv: list[str], count: int, folder: Path, args: argparse.Namespace, cells: list[Any], err: Any) -> list[Path]:
    from .commands.common import UsageError

    distributed = _require("distributed", "dask")
    if not args.scheduler:
        raise UsageError("--launcher dask needs --scheduler ADDRESS (for example tcp://10.0.0.1:8786)")
    gpu = any(c.device == "cuda" for c in cells)
    with distributed.Client(args.scheduler, timeout=60) as client:
        futures = {client.submit(dask_shard, argv, f"{k}/{count}", settings_env(), key=f"matrixbench-shard-{k}-of-{count}-{folder.name}",
                                 pure=False, retries=2, resources={"GPU": 1} if gpu else None): k
                   for k in range(1, count + 1)}
        err.print(f"submitted {count} shards to {args.scheduler}", highlight=False)
        paths = []
        for fut in distributed.as_completed(list(futures)):
            k = futures[fut]
            try:
                text = fut.result()
            except Exception as exc:  # noqa: BLE001 - its cells are listed missing in the merge
                err.print(f"shard {k}/{count} failed: {str(exc)[-500:]}", highlight=False)
                continue
            path = shard_file(folder, k, count)
            atomic_write_json(path, json.loads(text))
            paths.append(path)
            err.print(f"shard {k}/{count}: done, {_cells_in(path)} cells", highlight=False)
    return sorted(paths)


def launch(args: argparse.Namespace, opts: Any, cells: list[Any], out: Any, err: Any) -> int:
    """Run the plan's shards with ``args.launcher``, wait, merge, report; the exit code."""
    from .commands.common import EXIT_FAIL, EXIT_OK, UsageError, find_suite
    from .environment import machine_name
    from .merge import MergeError, merge_runs
    from .shard import shared_partition
    from .store import new_run_id
    from .verdict import NOT_FAILURES

    if opts.shard or args.resume or getattr(args, "run_file", None):
        raise UsageError("--launcher starts the shards itself: leave out --shard, --resume and --run-file")
    devices = [d for d in (getattr(args, "devices", None) or "").split(",") if d]
    count = args.shards or (len(devices) if devices else None)
    if not count:
        raise UsageError("--launcher needs --shards N (or, local, --devices)")
    results = Path(args.results)
    part, where = shared_partition(cells, count, results, machine_name(), threads=shard_threads(args, count))
    err.print(f"{len(cells)} cells in {count} shards ({', '.join(str(len(s)) for s in part.shards)} cells; estimated "
              f"{', '.join(f'{x:.0f}' for x in part.seconds)} s, largest/mean {part.balance:.2f}); partition {where}",
              highlight=False)
    folder = (results / machine_name() / f"shards-{part.plan[:16]}-{count}-{new_run_id()}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    argv = shard_argv(opts, args, [str(find_suite(s)) for s in (opts.suites or ["default"])])
    started = time.perf_counter()
    if args.launcher == "local":
        paths = _local(argv, [len(x) for x in part.shards], folder, args, err)
    elif args.launcher == "slurm":
        paths = _slurm(argv, count, folder, args, cells, err)
        if paths is None:
            return EXIT_OK
    else:
        paths = _dask(argv, count, folder, args, cells, err)
    if not paths:
        err.print("no shard wrote a run file", highlight=False)
        return EXIT_FAIL
    try:
        merged = merge_runs([(str(p), read_run(p)) for p in paths], command=["matrixbench", *sys.argv[1:]])
    except (MergeError, RunFileError) as exc:
        raise UsageError(str(exc)) from None
    target = results / machine_name() / f"{merged['run']['id']}.json"
    atomic_write_json(target, merged)
    info = merged["run"]["merged"]
    out.print(f"merged {len(paths)} shard files: {len(merged['results'])} cells in {time.perf_counter() - started:.0f} s"
              + (f"; missing {len(info['missing'])} cells" if info["missing"] else "")
              + (f"; shards that never finished: {info['absent_shards']}" if info["absent_shards"] else ""),
              highlight=False)
    out.print(f"run file: {target}", highlight=False, soft_wrap=True)
    if args.report:
        from .report import write_report

        page = write_report([merged], Path(args.report_dir) / merged["run"]["id"], workers=2)
        out.print(f"report: {page}", highlight=False)
    bad = info["missing"] or any(r["status"] not in NOT_FAILURES for r in merged["results"])
    return EXIT_FAIL if bad else EXIT_OK
