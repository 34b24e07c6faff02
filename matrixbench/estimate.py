"""How long a planned run will take, before it runs (``matrixbench run --dry-run``).

Two sources, in this order:

1. **Earlier runs of the same cells** (same key, same machine name) in the results
   folder: the newest record's ``wall``, the seconds its worker spent on the cell
   (problem, reference lookup, warm-up, samples, scoring). A run costs more than its
   cells (workers starting, problems generated once per problem, references, calibration,
   saving), so each earlier run also gives its **overhead factor**: its elapsed time over
   the sum of its cells' ``wall``; the estimate applies the median factor of the runs it
   used.
2. **The timing settings** for a cell never run here: its warm-up and samples take about
   ``min_time`` (a fast call stops there), at most ``max_time``; the estimate takes
   ``min_time`` plus a tenth of a second of setup per cell, per round, and says how many
   cells were estimated this way. A ``compile`` cell adds its compilation
   (:data:`COMPILE_GUESS`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from .store import RunFileError, read_run

#: seconds per cell beyond its samples when nothing better is known (problem, scoring, saving)
SETUP_GUESS = 0.1
#: seconds of ``torch.compile`` (inductor) for a cell never run here: the median compile
#: time of the CPU cells of ``sqrtm-modes`` and ``polar-compile`` on the 2-core VM of
#: issue 14 (median 5.7 s, 1.2 to 14 s, 34 cells)
COMPILE_GUESS = 6.0


@dataclass
class Estimate:
    seconds: float
    from_history: int
    from_settings: int
    runs_used: int
    overhead: float

    def describe(self) -> str:
        m, s = divmod(round(self.seconds), 60)
        parts = [f"{self.from_history} cells from earlier runs ({self.runs_used} run files, "
                 f"overhead x{self.overhead:.2f})" if self.from_history else "",
                 f"{self.from_settings} from their timing settings" if self.from_settings else ""]
        return f"estimated {m}m{s:02d}s: " + ", ".join(p for p in parts if p)


def _elapsed(run: dict[str, Any]) -> float | None:
    meta = run["run"]
    try:
        return (datetime.fromisoformat(meta["finished"]) - datetime.fromisoformat(meta["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def record_threads(run: dict[str, Any], record: dict[str, Any]) -> int | None:
    """The threads a record was measured with: the run's ``--threads``, else the cores its
    process was pinned to (a shard's placement, kept per record in a merged run), else the
    torch threads of the run's environment (None if none of these is recorded)."""
    meta = run["run"]
    if (meta.get("options") or {}).get("threads"):
        return int(meta["options"]["threads"])
    cores = ((record.get("shard") or {}).get("placement") or meta.get("placement") or {}).get("cores")
    if cores:
        return len(cores)
    torch_info = ((run.get("environment") or {}).get("software") or {}).get("torch")
    return torch_info.get("threads") if isinstance(torch_info, dict) else None


def history(results_dir: Path, machine: str, threads: int | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """(newest ``wall`` per cell key, overhead factor per run id) of this machine's run files;
    with ``threads``, only of records measured with that many threads: seconds at another
    thread count mislead (on the 2-core VM, 512 x 512 polar cells took 5 to 10 times longer
    with 2 threads than pinned to 1, a 4096 x 4096 one half as long; a partition from
    2-thread history put 645 s and 248 s into two 1-thread shards)."""
    walls: dict[str, tuple[str, float]] = {}
    overhead: dict[str, float] = {}
    for path in sorted((results_dir / machine).glob("*.json")) if (results_dir / machine).is_dir() else []:
        try:
            run = read_run(path)
        except RunFileError:
            continue
        run_id = run["run"]["id"]
        total = sum(r.get("wall") or 0.0 for r in run["results"])
        elapsed = _elapsed(run)
        if elapsed and total > 0:
            overhead[run_id] = max(1.0, elapsed / total)
        for r in run["results"]:
            if threads is not None and record_threads(run, r) != threads:
                continue
            finished = r.get("finished") or ""
            if r.get("wall") is not None and (r["key"] not in walls or walls[r["key"]][0] <= finished):
                walls[r["key"]] = (finished, float(r["wall"]))
    return {k: wall for k, (_, wall) in walls.items()}, overhead


def cell_seconds(cell: Any, walls: dict[str, float]) -> float:
    """A cell's estimated seconds: its newest ``wall`` in ``walls``, else from its timing settings."""
    if cell.key in walls:
        return walls[cell.key]
    guess = (cell.timing.min_time + SETUP_GUESS) * max(1, cell.timing.rounds)
    return guess + (COMPILE_GUESS if getattr(cell, "mode", "forward") == "compile" else 0.0)


def estimate(cells: Iterable[Any], results_dir: Path, machine: str) -> Estimate:
    """The estimated duration of running ``cells`` (:class:`matrixbench.plan.Cell`) here."""
    walls, overhead = history(results_dir, machine)
    cells = list(cells)
    known = sum(c.key in walls for c in cells)
    guessed = len(cells) - known
    seconds = sum(cell_seconds(c, walls) for c in cells)
    factor = statistics.median(overhead.values()) if overhead and known else 1.0
    return Estimate(seconds * factor, known, guessed, len(overhead), factor)
