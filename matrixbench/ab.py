"""``matrixbench ab BASE HEAD``: two revisions measured side by side, in alternation.

Comparing two runs made minutes apart on a shared machine compares two moments of the
machine as much as two commits: the whole run drifts (frequency, a neighbour, the host).
``ab`` removes the drift by pairing:

1. Each revision is checked out in its own git worktree (``git worktree add --detach``)
   and runs in its own process (:mod:`matrixbench.abserve`) with that worktree first on
   ``PYTHONPATH``: the engine, the task folders and the suites are the revision's; the
   Python environment (numpy, torch, ...) is shared.
2. For each cell both sides plan, generate the problem, call the method once and score it
   (status and metrics: the accuracy half of the verdict). Both then time blocks of the
   same number of calls (at least ``block_time`` seconds a block).
3. **Several processes per revision** (``processes``, default 4). The same code in two
   processes of one machine is not equally fast: where a process's long-lived buffers
   land in memory (MKL's, the allocator's) made one up to 27% faster than another on the
   2-core VM this was built on, for as long as both lived. So each revision runs in ``k``
   processes (A0..A(k-1), B0..B(k-1)), every block times a fresh copy of the inputs
   (:func:`matrixbench.execute.fresh_copy`), and MKL allocates per call (:data:`SIDE_ENV`).
4. **ABBA rounds**: a round times every process once, in pairs, A0 B0 B1 A1 A2 B2 ...
   (the next round B0 A0 A1 B1 ...): each side's blocks sit at the same mean position in
   the round, so a drift that is linear over the round cancels, and no two processes run
   at the same time. A round in which any block was timed under contention
   (:mod:`matrixbench.contention`) is dropped and counted. A one-thread cell runs all
   blocks of a round on one CPU, the next round on the next CPU: vCPUs of a shared
   machine differ in speed, and the scheduler tends to keep a process where it ran.
5. After ``min_rounds`` clean rounds the interval is computed after every round: each
   process's median log time, then the two-sample t interval over the ``2k`` process
   medians (:func:`matrixbench.paired.process_interval`), so that a difference between
   processes of one revision is never taken for the code's. The cell stops when the
   interval is narrow (its half-width under a quarter of the threshold), when it clearly
   lies outside the threshold, when it is ``same`` with a half-width under half the
   threshold, at ``max_rounds`` rounds, or when its time budget is spent (1.5 times the
   budget while the verdict is ``inconclusive`` and the half-width under twice the threshold). Each round's paired
   log-ratio (mean log time of the head's blocks minus the base's) and its Wilcoxon
   interval are kept in the record.
6. The time finding is the interval's three-way verdict at the cell's threshold (its
   benchmark's ``regression.threshold``, else ``--threshold``): ``same``, ``slower``,
   ``faster`` or ``inconclusive``; ``unreliable`` when contention left fewer than
   ``min_rounds`` clean rounds. With the accuracy changes, it makes the cell's joint
   verdict (:mod:`matrixbench.tradeoff`).
7. **A change is seen twice.** A suite is many cells, and a 99% interval per cell is
   still a false alarm in one cell of a hundred with no change at all: seven whole-``ci``
   runs on the 2-core VM of issue 13 (707 cell verdicts) gave one, a cell whose four head
   processes all happened to be faster than its four base processes (0.940 [0.886, 0.998]).
   So a ``slower`` or ``faster`` cell is measured again in fresh processes (all ``2k``
   restarted: new process effects, new memory layout) and keeps its verdict only if the
   second interval, at ``confirm_confidence`` (90%: one-sided 5%), gives the same verdict
   at the threshold: beyond 1, and an estimate of at least 70% of the threshold, as the
   first stage needs (an interval merely beyond 1 confirmed a cell of an eighth run that
   no commit touched, 0.886 [0.847, 0.927] then 0.976 in fresh processes, at a 5%
   threshold); otherwise it is ``inconclusive``, with both intervals in the record. For a cell
   with no change the two stages are independent: a false alarm needs ``p < 0.005`` and
   then ``p < 0.05`` in the same direction, ``2.5e-4`` a cell, about one in 40 runs of
   ``ci``'s 101 cells. Only flagged cells pay for it (about 20 s of restarts each).

A head whose code does not start, whose tasks do not load or whose suites do not plan is
a broken head (exit 1, as ``compare`` treats a head without results); a base that cannot
be measured, a revision git does not know, or two revisions with no cell in common, is
exit 2 (nothing could be judged).
"""

from __future__ import annotations

import json
import math
import os
import random
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from .compare import UNCOMPARED, Change, Comparison, metric_changes, status_change
from .paired import RatioInterval, min_pairs, process_interval, ratio_interval
from .tradeoff import DEFAULT_FAIL_ON, judge
from .verdict import TIMED


#: The environment of both sides. MKL's memory manager keeps buffers for the life of a
#: process; where they land made one process up to 30% faster than another running the
#: same code (torch's batched LU, float64, measured on the 2-core VM of issue 13), a bias
#: that no number of rounds removes. Without it MKL allocates per call, so placement
#: varies per call and averages out.
SIDE_ENV = {"MKL_DISABLE_FAST_MM": "1"}
#: a random-length variable that moves the process's stack (see :meth:`SideProcess.spawn`)
LAYOUT_ENV = "MATRIXBENCH_AB_LAYOUT"


class ABError(Exception):
    """Nothing can be judged (exit 2)."""


class SideFailure(Exception):
    """A side crashed, hung or failed while its cell was timed: that side's cell status."""

    def __init__(self, side: str, status: str, reason: str):
        super().__init__(f"{side}: {reason}")
        self.side, self.status, self.reason = side, status, reason


@dataclass
class ABSettings:
    threshold: float = 0.05
    accuracy_threshold: float = 0.5
    confidence: float = 0.99
    min_rounds: int = 8
    max_rounds: int = 40
    #: processes per revision (even: a round pairs them ABBA); see the module docstring
    processes: int = 4
    #: seconds of calls per timed block (at least one call). Short blocks make short
    #: rounds, and a short round is what cancels the machine's drift: on the 2-core VM of
    #: issue 13 (A/A, ``ci-polar``) a round's log-ratio varied by 5% (robust sd) with
    #: 20 ms blocks and 30 rounds, 2-3% with 5 ms blocks and 60-80 rounds in the same
    #: time; 50 ms blocks were worse than 20 ms. (A round of four processes per side is
    #: eight blocks: 40 rounds time as many blocks as 80 rounds of two.)
    block_time: float = 0.005
    #: seconds of timing per cell (both sides) after which it stops at ``min_rounds``
    cell_time: float = 4.0
    #: two-sided confidence of the confirming interval measured in fresh processes (point 7
    #: of the module docstring); 0 turns the confirmation off
    confirm_confidence: float = 0.90
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON


@dataclass
class Revision:
    label: str  # as given: HEAD, main, a sha
    sha: str
    path: Path  # its worktree


def git(repo: Path, *args: str) -> str:
    res = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if res.returncode != 0:
        raise ABError(f"git {' '.join(args)}: {res.stderr.strip() or res.stdout.strip()}")
    return res.stdout.strip()


@contextmanager
def worktrees(repo: Path, revs: tuple[str, str]) -> Iterator[list[Revision]]:
    """A detached worktree of each revision in a scratch folder, removed afterwards."""
    root = Path(git(repo, "rev-parse", "--show-toplevel"))
    shas = []
    for rev in revs:
        try:
            shas.append(git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"))
        except ABError:
            raise ABError(f"git does not know the revision {rev!r} in {root}") from None
    scratch = Path(tempfile.mkdtemp(prefix="matrixbench-ab-"))
    made: list[Path] = []
    try:
        out = []
        for name, rev, sha in zip(("base", "head"), revs, shas):
            path = scratch / name
            git(root, "worktree", "add", "--detach", "--quiet", str(path), sha)
            made.append(path)
            out.append(Revision(rev, sha, path))
        yield out
    finally:
        for path in made:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=root, capture_output=True)
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


class SideProcess:
    """A revision's :mod:`matrixbench.abserve` process; :meth:`ask` never waits past its timeout."""

    def __init__(self, name: str, rev: Revision, log_dir: Path):
        self.name, self.rev = name, rev
        self.log = log_dir / f"{name}.stderr"
        self.proc: subprocess.Popen | None = None
        #: the plan request, sent again to a process started after a crash
        self.plan: dict[str, Any] | None = None

    def planned(self, request: dict[str, Any]) -> dict[str, Any]:
        """Plan ``request`` (and remember it for restarts)."""
        self.plan = request
        return self.ask(request, 600)

    def spawn(self) -> None:
        """Launch the process (it imports while others do); :meth:`start` waits for it."""
        # a random-size environment and heap block (abserve.main) give every process its own
        # memory layout, so that a layout the revision's code happens to produce is a
        # process effect, which the interval over processes sees, not a side effect
        env = {**os.environ, **SIDE_ENV, LAYOUT_ENV: "x" * random.randrange(1, 4097),
               "PYTHONPATH": os.pathsep.join([str(self.rev.path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        self.proc = subprocess.Popen([sys.executable, "-m", "matrixbench.abserve"], cwd=self.rev.path, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log.open("ab"),
                                     text=True, bufsize=1)

    def start(self) -> dict[str, Any]:
        """Spawn the process unless it runs, check where its code comes from, replay the plan."""
        if self.proc is None or self.proc.poll() is not None:
            self.spawn()
        hello = self.ask({"op": "hello"}, timeout=180)
        package = Path(hello.get("package", ""))
        if self.rev.path.resolve() not in package.parents:
            self.close()
            raise ABError(f"the {self.name} process imported matrixbench from {package}, not from its worktree "
                          f"{self.rev.path}: is matrixbench installed as a regular (not editable) package, or on "
                          "PYTHONPATH? `ab` needs each revision's own code")
        if self.plan is not None:
            self.ask(self.plan, 600)
        return hello

    def stderr_tail(self, n: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-n:].strip()
        except OSError:
            return ""

    def ask(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The answer to ``req``; raises TimeoutError (the process is killed) or EOFError
        (it died; the log's tail is in the message)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            raise EOFError(f"the {self.name} process is not running: {self.stderr_tail()}")
        try:
            proc.stdin.write(json.dumps(req) + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise EOFError(self._death()) from None
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            raise TimeoutError(f"no answer within {timeout:g} s; the {self.name} process was killed")
        line = proc.stdout.readline()
        if not line:
            raise EOFError(self._death())
        return json.loads(line)

    def _death(self) -> str:
        code = self.proc.wait(5) if self.proc else None
        tail = self.stderr_tail()
        return f"the {self.name} process exited with code {code}" + (f": {tail.splitlines()[-1]}" if tail else "")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "stop"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()


@dataclass
class CellTiming:
    """The paired timing of one cell."""

    interval: RatioInterval | None = None
    #: per clean round: mean log time of the head's blocks minus the base's
    log_ratios: list[float] = field(default_factory=list)
    rounds: int = 0
    contended: int = 0
    #: per side, per process: the seconds of its blocks in the clean rounds
    seconds: dict[str, list[list[float]]] = field(default_factory=dict)
    number: int = 1

    def medians(self, side: str) -> list[float]:
        """Each process's median log time of one block."""
        return [statistics.median(math.log(x) for x in xs) for xs in self.seconds[side] if xs]

    @property
    def spread(self) -> float:
        """How far processes of the same code disagree: the pooled standard deviation of
        the process medians within each side (log scale)."""
        groups = [self.medians(side) for side in ("base", "head")]
        dev = [(x - statistics.fmean(g)) ** 2 for g in groups if len(g) >= 2 for x in g]
        df = sum(len(g) - 1 for g in groups if len(g) >= 2)
        return math.sqrt(sum(dev) / df) if df else 0.0

    def judged(self, confidence: float) -> RatioInterval:
        """The interval over process medians (see :func:`matrixbench.paired.process_interval`)."""
        return process_interval(self.medians("base"), self.medians("head"), confidence)

    def flat(self, side: str) -> list[float]:
        return [x for xs in self.seconds[side] for x in xs]


def block_order(processes: int, round_index: int) -> list[tuple[str, int]]:
    """The blocks of a round as (side, process): pairs A0 B0, B1 A1, A2 B2, ... (from B0 A0
    in odd rounds). With an even number of processes both sides' blocks have the same
    mean position, so a drift that is linear over the round cancels."""
    out: list[tuple[str, int]] = []
    for j in range(processes):
        out += [("base", j), ("head", j)] if (j + round_index) % 2 == 0 else [("head", j), ("base", j)]
    return out


def time_cell(sides: dict[str, list[SideProcess]], estimate: float, settings: ABSettings, threshold: float,
              timeout: float, cpus: list[int] | None = None) -> CellTiming:
    """ABBA rounds of one prepared cell (see the module docstring). With ``cpus`` (a
    one-thread cell), every block of a round runs on the same CPU, the next round on the
    next one: the vCPUs of a shared machine are not equally fast, and a process the
    scheduler kept on the slower one would carry that into every round."""
    out = CellTiming(number=max(1, math.ceil(settings.block_time / max(estimate, 1e-9))))
    least = max(settings.min_rounds, min_pairs(settings.confidence))  # fewer give an unbounded interval
    req: dict[str, Any] = {"op": "time", "number": out.number}
    blocks = 0

    def ask(name: str, i: int) -> dict[str, Any]:
        nonlocal blocks
        blocks += 1
        side = sides[name][i]
        try:
            # every block times its own placement of the inputs in memory (see execute.fresh_copy)
            side.ask({"op": "refresh", "seed": blocks}, timeout)
            ans = side.ask(req, timeout)
        except TimeoutError as exc:
            raise SideFailure(name, "timeout", str(exc)) from None
        except EOFError as exc:
            raise SideFailure(name, "crashed", str(exc)) from None
        if "error" in ans:
            raise SideFailure(name, "error", ans["error"])
        return ans

    k = len(sides["base"])
    out.seconds = {name: [[] for _ in range(k)] for name in ("base", "head")}
    for name, i in block_order(k, 0):  # warm-up blocks, not counted
        ask(name, i)
    started = time.perf_counter()
    while out.rounds < max(settings.max_rounds, least):
        seconds: dict[tuple[str, int], float] = {}
        contended = False
        if cpus:
            req["cpus"] = [cpus[out.rounds % len(cpus)]]
        for name, i in block_order(k, out.rounds):
            ans = ask(name, i)
            seconds[(name, i)] = ans["seconds"]
            contended |= bool((ans.get("contention") or {}).get("contended"))
        out.rounds += 1
        if contended:
            out.contended += 1
            continue
        for (name, i), value in seconds.items():
            out.seconds[name][i].append(value)
        logs = {name: statistics.fmean(math.log(seconds[(name, i)]) for i in range(k)) for name in ("base", "head")}
        out.log_ratios.append(logs["head"] - logs["base"])
        if len(out.log_ratios) >= least:
            ci = out.judged(settings.confidence)
            clear = ci.low > 1 + threshold or ci.high < 1 / (1 + threshold)
            spent = time.perf_counter() - started
            state = ci.verdict(threshold)
            # "same" with half the threshold to spare will not turn: more rounds would only narrow it
            settled = state == "same" and ci.detectable <= threshold / 2
            # an undecided cell within reach (interval under twice the threshold) gets up to
            # 1.5 times its budget: a few more rounds often decide it; a far one would not
            undecided = state == "inconclusive" and ci.detectable < 2 * threshold
            if ci.detectable <= threshold / 4 or clear or settled or spent > settings.cell_time * (1.5 if undecided else 1):
                break
    if len(out.log_ratios) >= 2:
        out.interval = out.judged(settings.confidence)
    return out


Progress = Callable[[int, int, Any], None]


def run_ab(repo: Path, base: str, head: str, suites: list[str], settings: ABSettings, *, cache: Path,
           selection: dict[str, Any] | None = None, progress: Progress | None = None) -> tuple[Comparison, dict[str, Any]]:
    """Measure ``base`` against ``head``: the comparison and a JSON-able record of every cell."""
    with worktrees(repo, (base, head)) as (b_rev, h_rev), tempfile.TemporaryDirectory(prefix="matrixbench-ab-log-") as logs:
        # several processes per revision: the verdict's interval is taken over processes
        sides = {name: [SideProcess(f"{name}{i}", rev, Path(logs)) for i in range(settings.processes)]
                 for name, rev in (("base", b_rev), ("head", h_rev))}
        try:
            return _measure(sides, b_rev, h_rev, suites, settings, cache.resolve(), selection or {}, progress)
        finally:
            for team in sides.values():
                for side in team:
                    side.close()


def _start(side: SideProcess) -> str | None:
    """Start a side; the reason it cannot start, or None."""
    try:
        side.start()
    except (EOFError, TimeoutError) as exc:
        return f"{exc}"
    return None


def _measure(sides: dict[str, list[SideProcess]], b_rev: Revision, h_rev: Revision, suites: list[str],
             settings: ABSettings, cache: Path, selection: dict[str, Any],
             progress: Progress | None) -> tuple[Comparison, dict[str, Any]]:
    cmp = Comparison(f"{b_rev.label} ({b_rev.sha[:10]})", f"{h_rev.label} ({h_rev.sha[:10]})", settings.threshold,
                     1 - settings.confidence, settings.accuracy_threshold, "paired", fail_on=settings.fail_on,
                     title="ab")
    cmp.method = (f"Time: ABBA rounds of the two revisions in alternation, {settings.processes} processes a side; "
                  f"ratio head/base of the process medians with a {settings.confidence:.0%} two-sample t interval over "
                  f"processes; slower/faster when the interval excludes 1 and is not within ±{settings.threshold:.0%} (or "
                  f"the benchmark's own threshold); accuracy: relative change past {settings.accuracy_threshold:g}.")
    record: dict[str, Any] = {"base": {"rev": b_rev.label, "sha": b_rev.sha}, "head": {"rev": h_rev.label, "sha": h_rev.sha},
                              "settings": settings.__dict__ | {"fail_on": list(settings.fail_on)}, "cells": []}
    request = {"op": "plan", "suites": suites, **selection}
    plans = {}
    for side in sides["base"] + sides["head"]:  # all import at once
        side.spawn()
    for name in ("base", "head"):
        for side in sides[name]:
            why = _start(side)
            plans[side.name] = {"error": why} if why else side.planned(request)
    b_plan = next((plans[s.name] for s in sides["base"] if "error" in plans[s.name]), plans["base0"])
    h_plan = next((plans[s.name] for s in sides["head"] if "error" in plans[s.name]), plans["head0"])
    if "error" in b_plan:
        raise ABError(f"the base revision {b_rev.label} cannot be measured: {b_plan['error']}")
    if "error" in h_plan:
        message = f"head revision {h_rev.label} is broken: {h_plan['error']}"
        cmp.problems.append(message)
        cmp.changes.append(Change(f"run {cmp.head_id}", "run", "broken head", "", "", regression=True, note=message))
        return cmp, record
    base_cells = {c["key"]: c for c in b_plan["cells"]}
    head_cells = {c["key"]: c for c in h_plan["cells"]}
    keys = [k for k in head_cells if k in base_cells]
    cmp.only_base = sorted(set(base_cells) - set(head_cells))
    cmp.only_head = sorted(set(head_cells) - set(base_cells))
    if not keys:
        raise ABError(f"base and head plan no cell in common for {', '.join(suites)}: nothing to compare")
    directions = {**b_plan.get("metrics", {}), **h_plan.get("metrics", {})}
    for i, key in enumerate(keys):
        cell = head_cells[key]
        verdict, detail = _cell(sides, key, cell, base_cells[key], settings, cache, directions.get(cell["task"], {}), cmp)
        record["cells"].append(detail)
        if progress:
            progress(i + 1, len(keys), verdict)
    for key in cmp.only_base:  # planned by the base only: the head dropped the cell
        cmp.cells.append(judge(key, "n/a", [], status="missing", note="the head's suites no longer plan this cell"))
        cmp.changes.append(Change(key, "missing", "status", "planned", "missing", regression=True,
                                  note="the head's suites no longer plan this cell"))
    cmp.time_ratios = [c.time_ratio for c in cmp.cells if c.time_ratio and c.time in ("same", "slower", "faster")]
    if any(c.time == "unreliable" for c in cmp.cells):
        cmp.notes.append(f"{sum(c.time == 'unreliable' for c in cmp.cells)} cell(s) could not be timed cleanly: other "
                         "processes used the CPU during most of their rounds (unreliable, not judged)")
    cmp.changes.sort(key=lambda c: (not c.regression, c.kind != "run", c.kind, c.key))
    return cmp, record


def _prepare_team(team: list[SideProcess], key: str, cache: Path, timeout: float) -> dict[str, Any]:
    """The first process's answer; the first failure when another process failed where it did not."""
    # the estimate sizes the blocks: one warm call in the first process is enough
    answers = [_prepare(side, key, cache, timeout, estimate=i == 0) for i, side in enumerate(team)]
    bad = [a for a in answers if a["status"] not in TIMED]
    if bad and answers[0]["status"] in TIMED:
        return bad[0]
    return {**answers[0], "estimate": answers[0].get("estimate", math.inf),
            "metrics": _median_metrics([a.get("metrics") or {} for a in answers]),
            "metrics_by_process": [a.get("metrics") or {} for a in answers]}


def _median_metrics(per_process: list[dict[str, Any]]) -> dict[str, Any]:
    """Each metric's median over the processes of one side; null if any process gave null
    (a NaN that only some processes produce is still a NaN)."""
    names = set().union(*per_process) if per_process else set()
    out: dict[str, Any] = {}
    for name in sorted(names):
        values = [m.get(name) for m in per_process]
        out[name] = None if any(v is None for v in values) else statistics.median(values)
    return out


def overlapping(change: Change, base: list[dict[str, Any]], head: list[dict[str, Any]]) -> bool:
    """Whether an accuracy change lies within what the processes of one revision already
    disagree on: some head process is no worse than some base process. The same code in
    two processes need not compute the same bits (threaded BLAS reduces in an order that
    depends on memory alignment), and a metric at rounding level, such as the max-norm
    error of a least-squares solution at 3e-13, then doubles from one process to the
    next. A change counts only when every head process is past every base process."""
    b = [m.get(change.what) for m in base if m.get(change.what) is not None]
    h = [m.get(change.what) for m in head if m.get(change.what) is not None]
    if not b or not h:
        return False
    apart = min(h) > max(b) if change.head > change.base else max(h) < min(b)
    return not apart


def _prepare(side: SideProcess, key: str, cache: Path, timeout: float, estimate: bool = True) -> dict[str, Any]:
    """A side's status, metrics and (with ``estimate``) call estimate for ``key``; a crash
    or hang is the cell's status."""
    try:
        ans = side.ask({"op": "prepare", "key": key, "cache": str(cache), "estimate": estimate}, timeout)
    except TimeoutError as exc:
        ans = {"status": "timeout", "reason": str(exc), "metrics": {}}
    except EOFError as exc:
        ans = {"status": "crashed", "reason": str(exc), "metrics": {}}
    if "error" in ans:
        ans = {"status": "error", "reason": ans["error"], "metrics": {}}
    if side.proc is None or side.proc.poll() is not None:  # a fresh process for the next cell
        why = _start(side)
        if why:
            ans["reason"] = f"{ans.get('reason', '')}; the process could not restart: {why}"
    return ans


def restart(sides: dict[str, list[SideProcess]]) -> str | None:
    """Every process of both sides stopped and started afresh (imports run side by side);
    the reason one could not start, or None."""
    team = sides["base"] + sides["head"]
    for side in team:
        side.close()
    for side in team:
        side.spawn()
    reasons = [why for side in team if (why := _start(side))]
    return reasons[0] if reasons else None


def _confirm(sides: dict[str, list[SideProcess]], key: str, cache: Path, settings: ABSettings, threshold: float,
             timeout: float, direction: str) -> dict[str, Any]:
    """The cell timed again in fresh processes (point 7 of the module docstring): whether the
    second interval, at ``settings.confirm_confidence``, gives the same verdict at the
    threshold (beyond 1, with an estimate of at least 70% of the threshold)."""
    level = settings.confirm_confidence
    out: dict[str, Any] = {"confidence": level, "confirmed": False}
    why = restart(sides)
    answers = {} if why else {name: _prepare_team(sides[name], key, cache, timeout) for name in ("base", "head")}
    if why or any(a["status"] not in TIMED for a in answers.values()):
        why = why or "; ".join(f"{n}: {a['status']} {a.get('reason', '')}" for n, a in answers.items())
        out["summary"] = f"not confirmed: the fresh processes could not time the cell ({why})"
        return out
    one_thread = answers["base"].get("threads") == 1 and answers["head"].get("threads") == 1
    try:
        timing = time_cell(sides, min(a["estimate"] for a in answers.values()), replace(settings, confidence=level),
                           threshold, timeout, answers["head"].get("cpus") if one_thread else None)
    except SideFailure as exc:
        restart(sides)
        out["summary"] = f"not confirmed: {exc.side} failed in the fresh processes ({exc.reason})"
        return out
    ci = timing.interval
    if ci is None:
        out["summary"] = "not confirmed: the fresh processes gave no interval"
        return out
    out.update(ratio=ci.estimate, interval=_bounds(ci), rounds=timing.rounds, contended_rounds=timing.contended,
               base_seconds=timing.seconds["base"], head_seconds=timing.seconds["head"],
               confirmed=ci.verdict(threshold) == direction)
    out["summary"] = (f"{'confirmed' if out['confirmed'] else 'not confirmed'} in fresh processes: "
                      f"x{ci.estimate:.3f} [{ci.low:.3f}, {ci.high:.3f}] ({level:.0%})")
    return out


def _bounds(ci: RatioInterval) -> list[float]:
    return [ci.low, ci.high]


def _cell(sides: dict[str, list[SideProcess]], key: str, cell: dict[str, Any], base_cell: dict[str, Any],
          settings: ABSettings, cache: Path, directions: dict[str, str], cmp: Comparison) -> tuple[Any, dict[str, Any]]:
    started = time.perf_counter()
    timeout = float(cell["timing"].get("timeout", 300.0))
    threshold = cell["regression"].get("threshold", settings.threshold)
    acc_threshold = cell["regression"].get("accuracy_threshold", settings.accuracy_threshold)
    answers = {name: _prepare_team(sides[name], key, cache, timeout) for name in ("base", "head")}
    prepared = time.perf_counter() - started
    rec = {name: {"status": a["status"], "reason": a.get("reason", ""), "metrics": a.get("metrics") or {},
                  "dtype": cell["dtype"], "trials": a.get("trials")} for name, a in answers.items()}
    cmp.matched += 1
    detail: dict[str, Any] = {"key": key, "threshold": threshold}
    time_state, timing = "n/a", None
    if rec["base"]["status"] in TIMED and rec["head"]["status"] in TIMED:
        try:
            one_thread = answers["base"].get("threads") == 1 and answers["head"].get("threads") == 1
            timing = time_cell(sides, min(answers["base"]["estimate"], answers["head"]["estimate"]), settings,
                               threshold, timeout, answers["head"].get("cpus") if one_thread else None)
        except SideFailure as exc:  # the method crashed or hung on a later call: that side's status
            rec[exc.side].update(status=exc.status, reason=f"while timed: {exc.reason}")
            for side in sides["base"] + sides["head"]:
                if side.proc is None or side.proc.poll() is not None:
                    _start(side)
    detail.update(base=rec["base"], head=rec["head"])
    found: list[Change] = []
    status = status_change(key, rec["base"], rec["head"])
    if status is not None:
        found.append(status)
    if rec["base"]["status"] not in UNCOMPARED and rec["head"]["status"] not in UNCOMPARED:
        cmp.compared += 1
    if timing is not None and rec["base"]["status"] in TIMED and rec["head"]["status"] in TIMED:
        detail.update(rounds=timing.rounds, contended_rounds=timing.contended, number=timing.number,
                      log_ratios=timing.log_ratios, base_seconds=timing.seconds["base"],
                      head_seconds=timing.seconds["head"], process_spread=math.exp(timing.spread) - 1,
                      round_interval=_bounds(ratio_interval(timing.log_ratios, settings.confidence)))
        if len(timing.log_ratios) < max(settings.min_rounds, min_pairs(settings.confidence)) and timing.contended:
            time_state = "unreliable"
        elif timing.interval is None:
            time_state = "inconclusive"
        else:
            time_state = timing.interval.verdict(threshold)
        if time_state in ("slower", "faster") and settings.confirm_confidence:
            second = _confirm(sides, key, cache, settings, threshold, timeout, time_state)
            detail["confirmation"] = second
            if not second["confirmed"]:
                time_state = "inconclusive"
        changes = metric_changes(key, rec["base"], rec["head"], directions, acc_threshold)
        spread = {name: answers[name].get("metrics_by_process") or [rec[name]["metrics"]] for name in ("base", "head")}
        noise = [c for c in changes if c.head != "null" and overlapping(c, spread["base"], spread["head"])]
        found += [c for c in changes if c not in noise]
        if noise:
            detail["accuracy_within_process_spread"] = [c.what for c in noise]
    else:
        timing = None
    ci = timing.interval if timing else None
    if ci is not None:
        test = (f"ABBA x{len(timing.log_ratios)} rounds of {len(timing.seconds['base'])} processes a side "
                f"({timing.contended} contended dropped), {ci.confidence:.0%} interval over processes "
                f"[{ci.low:.3f}, {ci.high:.3f}]; processes of one revision differ by {math.exp(timing.spread) - 1:.1%} (sd)")
        if "confirmation" in detail:
            test += f"; {detail['confirmation']['summary']}"
        found.append(Change(key, "time", "time (paired)", statistics.median(timing.flat("base")),
                            statistics.median(timing.flat("head")),
                            ratio=ci.estimate, test=test, regression=time_state == "slower",
                            improvement=time_state == "faster"))
        detail.update(ratio=ci.estimate, interval=[ci.low, ci.high], detectable=ci.detectable, time=time_state)
    changed = base_cell.get("version") != cell.get("version")
    for c in found:
        c.method_changed = changed
        if c.regression or c.improvement:
            cmp.changes.append(c)
    moved = "dropped" if status is not None and status.regression else "rose" if status is not None else "same"
    notes = []
    if timing is not None and timing.contended:
        notes.append(f"{timing.contended} of {timing.rounds} rounds contended")
    if "confirmation" in detail and not detail["confirmation"]["confirmed"]:
        notes.append(detail["confirmation"]["summary"])
    if changed:
        notes.append("method source changed")
    verdict = judge(key, time_state, found, time_ratio=ci.estimate if ci else None, status=moved, note="; ".join(notes))
    if ci is not None:
        verdict.interval = (ci.low, ci.high)
        verdict.detectable = ci.detectable
    detail.update(verdict=verdict.verdict, seconds=time.perf_counter() - started, prepare_seconds=prepared)
    cmp.cells.append(verdict)
    return verdict, detail
