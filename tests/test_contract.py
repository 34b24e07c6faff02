"""The contract of every registered method, as benchopt's ``test_benchmarks.py`` checks every
solver: on its task's smallest problem (``Task.example``), each method, on each backend
and dtype it declares, with its default parameters, goes through the engine's own path
(``execute.run_cell``: inputs cast, output structure, shape and dtype checked, finite,
scored against the float64 reference) and comes out ``ok`` under the task's
``example_gates``, with a FLOP model that does not fail. A cell may only be ``skipped``
for a missing optional dependency or a problem the method says it does not apply to.

A new method is covered the day it is registered: the cells come from the registry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from matrixbench import registry
from matrixbench.execute import run_cell
from matrixbench.plan import plan
from matrixbench.suite import load_suite

SHIPPED = sorted(name for name, task in registry.TASKS.items()
                 if registry.METHODS[(name, task.reference)].fn.__module__.startswith("implementations."))
TIMING = {"warmup": 0, "min_time": 0.0, "max_time": 0.01, "min_repeats": 1, "sample_time": 0.001}
SKIP_OK = ("which is not installed", "does not apply")


def contract_suite(task: registry.Task, folder: Path) -> Path:
    """A suite of every method of ``task`` on its example, every declared dtype, the CPU."""
    methods = registry.methods_of(task.name)
    dtypes = sorted({d for m in methods.values() for d in m.dtypes}, key=registry.DTYPES.index)
    entry = {"task": task.name, "problems": dict(task.example), "methods": sorted(methods), "dtypes": dtypes,
             "devices": ["cpu"], "timing": TIMING, "threads": 1}
    if task.example_gates:
        entry["gates"] = {m: dict(g) for m, g in task.example_gates.items()}
    path = folder / f"contract-{task.name}.yaml"
    path.write_text(yaml.safe_dump(entry))
    return path


def contract_cells(tmp: Path) -> list:
    cells = []
    for name in SHIPPED:
        task = registry.TASKS[name]
        # undeclared dtypes are skipped by design, and so is the CPU for a CUDA-only method
        # (a vendor kernel such as torch._scaled_mm): its contract runs where a GPU is
        cells += [c for c in plan([load_suite(contract_suite(task, tmp))])
                  if c.dtype in c.method_obj.dtypes and c.device in c.method_obj.devices]
    return cells


def test_every_shipped_task_has_an_example():
    for name in SHIPPED:
        task = registry.TASKS[name]
        assert task.example and task.example_gates, name
        assert task.example["generator"] in registry.GENERATORS, name


@pytest.fixture(scope="module")
def cells(tmp_path_factory) -> tuple[dict[str, object], Path]:
    """Every contract cell by key, and a reference cache: each test runs its own cell, so
    that two xdist workers do not both run all of them (each worker builds this fixture)."""
    tmp = tmp_path_factory.mktemp("contract")
    return {c.key: c for c in contract_cells(tmp)}, tmp / "cache"


def _ids() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return [c.key for c in contract_cells(Path(tmp))]


# ids=str: the cell key itself, however long (pytest 9 shortens long string ids to
# key0, key1, ... by default, and ``-k TASK`` would select nothing)
@pytest.mark.parametrize("key", _ids(), ids=str)
def test_method_meets_its_contract(cells, key):
    by_key, cache = cells
    r = run_cell(by_key[key], cache)
    if r.status == "skipped":
        assert any(s in r.reason for s in SKIP_OK), (key, r.reason)
        return
    assert r.status == "ok", (key, r.status, r.reason, r.metrics)
    assert not [n for n in r.notes if "FLOP model failed" in n], (key, r.notes)
    assert r.method["backend"] in registry.METHODS[(r.task, r.method["name"])].backends
