"""The result of one cell: a typed record, the same in the worker, the runner and the run file.

:class:`CellResult` is what :func:`matrixbench.execute.run_cell` returns and what a run
file stores (``to_dict``); a cell timed in several rounds merges each round into its
earlier ones (:meth:`CellResult.merge`, which pools the time samples with
:meth:`~matrixbench.timing.TimeStats.merge`). Non-finite numbers never reach the file:
a metric that is NaN or Inf is stored as None (JSON null) and its cell's status is
``nan`` (decided in :mod:`matrixbench.verdict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Mapping

from .contention import Contention
from .timing import TimeStats
from .verdict import TIMED, Verdict


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class CellResult:
    """One cell's verdict, measurements and provenance."""

    key: str
    task: str
    suite: str
    entry: str
    problem: dict[str, Any]
    method: dict[str, Any]
    dtype: str
    device: str
    status: str = "ok"
    reason: str = ""
    metrics: dict[str, float | None] = field(default_factory=dict)
    gates: dict[str, float] = field(default_factory=dict)
    time: TimeStats | None = None
    #: other processes' CPU while the cell was timed (None: not measured, or not timed)
    contention: Contention | None = None
    memory: dict[str, Any] | None = None
    io: dict[str, Any] | None = None
    flops: float | None = None
    gflops: float | None = None
    threads: dict[str, Any] | None = None
    timing_settings: dict[str, Any] = field(default_factory=dict)
    #: the benchmark's regression thresholds from its suite (``compare`` uses them)
    regression: dict[str, float] = field(default_factory=dict)
    #: every seed's metrics and seconds of a randomized cell run with ``trials`` (then
    #: ``metrics`` are the medians over seeds); see :mod:`matrixbench.trials`
    trials: dict[str, Any] | None = None
    #: the convergence trace: seconds and metrics per iteration (:mod:`matrixbench.trace`)
    trace: dict[str, Any] | None = None
    #: the compile mode's first call, compilation included: ``{"seconds", "backend"}``
    compile: dict[str, Any] | None = None
    #: a CUDA cell's timer, L2 flush, clocks, power and throttling (:mod:`matrixbench.gpumonitor`)
    gpu: dict[str, Any] | None = None
    input_checksum: str | None = None
    notes: list[str] = field(default_factory=list)
    traceback: str | None = None
    wall: float = 0.0
    finished: str = ""

    @classmethod
    def of(cls, cell: Any) -> CellResult:
        """An empty result for ``cell`` (a :class:`matrixbench.plan.Cell`)."""
        meth = cell.method_obj
        return cls(key=cell.key, task=cell.problem.task, suite=cell.suite, entry=cell.entry,
                   problem=cell.problem.to_dict(),
                   method={"name": meth.name, "kind": meth.kind, "backend": cell.backend,
                           "params": dict(cell.method_params), "version": meth.version,
                           "mode": getattr(cell, "mode", "forward")},
                   dtype=cell.dtype, device=cell.device, gates=dict(cell.gates),
                   timing_settings=cell.timing.to_dict(), regression=dict(cell.regression))

    def set(self, verdict: Verdict) -> CellResult:
        self.status, self.reason = verdict.status, verdict.reason
        if verdict.status not in TIMED:  # a cell that was not scored shows no time and no rate
            self.time, self.gflops, self.contention = None, None, None
        return self

    @property
    def rounds_done(self) -> int:
        return len(self.time.rounds) if self.time else 1

    @property
    def complete(self) -> bool:
        """True unless the cell is timed and has fewer rounds than its settings ask for."""
        if self.status not in TIMED or self.time is None:
            return True
        return self.rounds_done >= int(self.timing_settings.get("rounds", 1))

    def merge(self, earlier: CellResult | None) -> CellResult:
        """This round's result pooled with the cell's earlier rounds (``rounds: R``)."""
        if earlier is None:
            return self
        self.wall += earlier.wall
        self.notes = list(dict.fromkeys(earlier.notes + self.notes))
        if self.status in TIMED and self.time is not None and earlier.time is not None:
            self.time = earlier.time.merge(self.time)
            if earlier.contention is not None:
                self.contention = earlier.contention.merge(self.contention)
            if self.flops and self.time.median > 0:
                self.gflops = self.flops / self.time.median / 1e9
            if self.memory and earlier.memory and self.memory.get("peak_bytes") is not None \
                    and earlier.memory.get("peak_bytes") is not None:
                self.memory["peak_bytes"] = max(self.memory["peak_bytes"], earlier.memory["peak_bytes"])
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["time"] = self.time.to_dict() if self.time else None
        d["contention"] = self.contention.to_dict() if self.contention else None
        for name in ("traceback", "input_checksum", "trials", "trace", "compile", "gpu"):
            if d[name] is None:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CellResult:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values["time"] = TimeStats.from_dict(d["time"]) if d.get("time") else None
        values["contention"] = Contention.from_dict(d.get("contention"))
        return cls(**values)
