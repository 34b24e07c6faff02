"""airspeed velocity front end: the cells of a suite as asv benchmarks.

Which benchmarks exist is decided by one function, :func:`benchmark_classes`: one class
per task of the suite, named after the task (``sqrtm`` -> ``Sqrtm``, ``svd_topk`` ->
``SvdTopk``), parameterized by cell key, with ``track_time``, ``track_peakmem`` and one
``track_<metric>`` per metric of the task. ``python -m benchmarks.cells`` prints them
for the suite in use (``tests/test_layout.py`` checks the list for ``suites/ci.yaml``).
A new task needs nothing here: its cells appear once a suite names it.

``setup_cache`` runs every cell of the suite once with matrixbench's own runner (worker
process, warm-up, calibration, adaptive repeats, rounds, CUDA events after a
synchronize); asv keys its cache by the function's source, so all classes share that one
run. The figures asv records are the run file's figures, not a second timing method:

- ``track_time``: the cell's median seconds per call (``matrixbench run``'s ``median``);
- ``track_<metric>``: each accuracy metric of the task, with its unit;
- ``track_peakmem``: the cell's peak memory in bytes.

A cell that cannot run here (a missing dependency, no GPU), and a metric a cell does not
report (``iterations`` of a direct method), raise asv's ``SkipNotImplemented``: asv
records that parameter set as skipped, not failed. The suite is ``suites/ci.yaml`` unless
``$MATRIXBENCH_ASV_SUITE`` names another.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from matrixbench import registry
from matrixbench.discovery import load_plugins
from matrixbench.plan import plan
from matrixbench.results import group_by
from matrixbench.suite import load_suites

ROOT = Path(__file__).resolve().parent.parent
SUITE = os.environ.get("MATRIXBENCH_ASV_SUITE", str(ROOT / "suites" / "ci.yaml"))


def _cells() -> list[Any]:
    load_plugins()
    return plan(load_suites([SUITE]))


def _run_cells() -> dict[str, dict[str, Any]]:
    """Run every cell of the suite with the harness; records by key."""
    from matrixbench.environment import collect
    from matrixbench.runner import Runner
    from matrixbench.store import RunFile

    cells = _cells()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(os.environ.get("MATRIXBENCH_CACHE", Path(tmp) / "cache"))
        with RunFile.create(Path(tmp), "asv", {"suites": [], "command": ["asv"], "options": {}}, collect(ROOT)) as run_file:
            Runner(run_file, cache).run(cells)
        return {r["key"]: r for r in run_file.data["results"]}


try:  # asv >= 0.6: raised inside a benchmark, it skips that parameter set instead of failing it
    from asv_runner.benchmarks.mark import SkipNotImplemented
except ImportError:  # imported without asv (the layout test): the same meaning, by name
    class SkipNotImplemented(NotImplementedError):  # type: ignore[no-redef]
        """Stands in for asv's own when asv is not installed."""


def _record(records: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
    r = records[key]
    if r["status"] == "skipped":
        raise SkipNotImplemented(r["reason"])  # asv: skipped, not failed
    return r


def _metric(name: str, unit: str) -> Any:
    def track(self: Any, records: dict[str, dict[str, Any]], key: str) -> float:
        value = _record(records, key)["metrics"].get(name)
        if value is None:  # this method reports no such metric (iterations of a direct method)
            raise SkipNotImplemented(f"{key} has no metric {name}")
        return value

    track.unit = unit or "1"
    track.__name__ = f"track_{name}"
    return track


def _task_class(task: str, keys: list[str]) -> type:
    def setup_cache(self: Any) -> dict[str, dict[str, Any]]:
        return _run_cells()

    setup_cache.timeout = 3600

    def track_time(self: Any, records: dict[str, dict[str, Any]], key: str) -> float:
        r = _record(records, key)
        if not r["time"]:
            raise RuntimeError(f"{key}: {r['status']}: {r['reason']}")
        return r["time"]["median"]

    track_time.unit = "seconds"

    def track_peakmem(self: Any, records: dict[str, dict[str, Any]], key: str) -> float:
        memory = _record(records, key)["memory"]
        if not memory:
            raise SkipNotImplemented(f"{key}: no memory figure")
        return float(memory["peak_bytes"])

    track_peakmem.unit = "bytes"
    body: dict[str, Any] = {"params": [keys], "param_names": ["cell"], "timeout": 3600, "setup_cache": setup_cache,
                            "track_time": track_time, "track_peakmem": track_peakmem,
                            "__doc__": f"Cells of the {task} task in {Path(SUITE).name}."}
    for metric in registry.TASKS[task].metrics:
        body[f"track_{metric.name}"] = _metric(metric.name, metric.unit)
    return type(class_name(task), (), body)


def class_name(task: str) -> str:
    """The asv class of a task: ``svd_topk`` -> ``SvdTopk``."""
    return task.title().replace("_", "")


def benchmark_classes() -> dict[str, type]:
    """One asv benchmark class per task of the suite, by class name."""
    groups = group_by(_cells(), lambda c: c.problem.task)
    return {class_name(task): _task_class(task, [c.key for c in cells]) for task, cells in groups.items()}


# asv finds benchmarks as module attributes: the classes of benchmark_classes().
globals().update(benchmark_classes())


if __name__ == "__main__":
    for _name, _cls in benchmark_classes().items():
        _tracks = sorted(m for m in vars(_cls) if m.startswith("track_"))
        print(f"{_name}: {len(_cls.params[0])} cells; {', '.join(_tracks)}")
