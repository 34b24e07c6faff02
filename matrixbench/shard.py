"""Shards: a deterministic part of a plan, balanced by estimated cost (``run --shard K/N``).

A suite of a thousand cells is run as ``N`` shards, each its own ``matrixbench run`` with
its own run file, on as many workers (cores, GPUs, cluster jobs); ``matrixbench merge``
puts the files back together (:mod:`matrixbench.merge`).

**The partition.** Cells of one problem stay together (the runner makes a problem's
inputs and float64 reference once, :mod:`matrixbench.runner`), so the unit is the
problem. Each problem costs the sum of its cells' estimated seconds
(:func:`matrixbench.estimate.cell_seconds`: the newest ``wall`` of an earlier run of the
cell on this machine, else a guess from its timing settings), and the problems are dealt
largest first to the shard with the least cost so far (Graham's LPT rule: the largest
shard is within 4/3 of the best possible). Ties go by problem key and shard number, so
the same costs give the same partition on any machine.

**One partition per plan.** Shards started at different times, or on different nodes,
would see different earlier runs, hence different costs and a different partition: two
shards could run the same cell and none another. So the first shard of a plan writes the
partition to ``<results>/.partitions/<plan>-<N>.partition`` (JSON, but not named
``.json``: globs of run files such as ``results/*/*.json`` must not find it; created
atomically, the first writer wins) and every later shard of that plan reads it; a
launcher writes it before submitting anything. Each shard's run file records the whole
partition, so ``merge`` can name the cells of a shard that never came back.

The **plan fingerprint** is the SHA-256 of the sorted cell keys: two runs with the same
fingerprint planned exactly the same cells.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .estimate import cell_seconds, history


def fingerprint(keys: Sequence[str]) -> str:
    """The plan's fingerprint: SHA-256 of its sorted cell keys, one per line."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` as (K, N) with 1 <= K <= N; ValueError otherwise."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N (for example 2/4), got {text!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass
class Partition:
    """``shards[i]``: the cell keys of shard ``i + 1``, in plan order; ``seconds[i]`` their estimate."""

    plan: str
    shards: list[list[str]]
    seconds: list[float]
    #: how many cells' costs came from earlier runs (the rest from their timing settings)
    from_history: int = 0

    @property
    def balance(self) -> float:
        """Largest shard's estimated seconds over the mean (1 is perfect)."""
        mean = sum(self.seconds) / len(self.seconds) if self.seconds else 0.0
        return max(self.seconds) / mean if mean > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan, "count": len(self.shards), "shards": self.shards, "seconds": self.seconds,
                "from_history": self.from_history}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Partition:
        return cls(data["plan"], [list(s) for s in data["shards"]], [float(x) for x in data["seconds"]],
                   int(data.get("from_history", 0)))


def partition(cells: Sequence[Any], count: int, walls: dict[str, float] | None = None) -> Partition:
    """Deal the problems of ``cells`` to ``count`` shards, largest estimated cost first (LPT)."""
    walls = walls or {}
    order = {c.key: i for i, c in enumerate(cells)}
    groups: dict[str, list[Any]] = {}
    for cell in cells:
        groups.setdefault(cell.problem.key + "\0" + cell.problem.task, []).append(cell)
    cost = {g: sum(cell_seconds(c, walls) for c in members) for g, members in groups.items()}
    shards: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for g in sorted(groups, key=lambda g: (-cost[g], g)):
        i = min(range(count), key=lambda j: (loads[j], j))
        shards[i] += [c.key for c in groups[g]]
        loads[i] += cost[g]
    for part in shards:
        part.sort(key=order.__getitem__)
    return Partition(fingerprint(list(order)), shards, loads, sum(c.key in walls for c in cells))


def partition_path(results_dir: Path, plan: str, count: int) -> Path:
    return Path(results_dir) / ".partitions" / f"{plan[:16]}-{count}.partition"


def shared_partition(cells: Sequence[Any], count: int, results_dir: Path, machine: str,
                     write: bool = True, threads: int | None = None) -> tuple[Partition, Path]:
    """The partition of this plan into ``count`` shards: read from the results folder if a
    shard (or a launcher) of the same plan wrote it, else computed and (``write``) written
    there, from the history of runs made with the shards' ``threads`` (any, if None)."""
    plan = fingerprint([c.key for c in cells])
    path = partition_path(results_dir, plan, count)
    if not path.exists():
        made = partition(cells, count, history(Path(results_dir), machine, threads)[0])
        if not write:  # a dry run writes nothing
            return made, path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partition.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(made.to_dict(), f, indent=1)
        try:
            os.link(tmp, path)  # atomic, and fails if another shard wrote it first: then read theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    found = Partition.from_dict(json.loads(path.read_text(encoding="utf-8")))
    if found.plan != plan or len(found.shards) != count:
        raise ValueError(f"{path} holds a partition of another plan or shard count; remove it to plan afresh")
    return found, path
