"""The layout tells the truth: one folder per task, discovered whole; one registration per
method, the backend an axis of the plan; old run files still compare.

- discovery refuses, with a message naming the module, a method under a task no folder
  defines, a reference of the wrong kind, a task without a reference, a duplicate name;
- no shipped method is named after its backend (``*_numpy``, ``*_scipy``, ``*_torch``), no
  task ``__init__.py`` lists its modules, no engine generator serves one task only;
- a run file written before the backend axis (schema 1, ``tests/data/run-v1-ci.json``,
  made by ``matrixbench run ci --entry ci-svd-update,ci-sketch,ci-svd-topk --quick`` on
  commit dedf5e7) reads with today's keys, matches today's plan cell for cell, and
  ``compare`` against a fresh run finds no cell missing.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from matrixbench import registry
from matrixbench.compare import compare_runs
from matrixbench.plan import plan
from matrixbench.store import read_run
from matrixbench.suite import SuiteErrors, load_suite

ROOT = Path(__file__).resolve().parents[1]
V1 = Path(__file__).parent / "data" / "run-v1-ci.json"
V1_ENTRIES = ["ci-svd-topk", "ci-svd-update", "ci-sketch"]


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "MATRIXBENCH_CALIBRATE": "0", "MATRIXBENCH_REPORT": "0",
           "MATRIXBENCH_CACHE": str(tmp_path / ".cache"), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "matrixbench", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


TASK = '''
import numpy as np
from matrixbench.registry import Metric, Task, register_task
register_task(Task(name="{name}", description="t", metrics=(Metric("err"),), make_inputs=lambda M: {{"A": M}},
                   score=lambda out, ref, inputs: {{"err": float(np.abs(out - ref).max())}}))
'''
REFERENCE = '''
from matrixbench.registry import method
@method("{task}", "reference", kind="{kind}", backends=("numpy",), dtypes=("float64",))
def reference(A):
    return 2 * A
'''


@pytest.mark.parametrize("case, files, message", [
    ("typo in the task name", {"twice/task.py": TASK.format(name="twice"), "twice/ref.py": REFERENCE.format(task="twice", kind="reference"),
                               "twice/fast.py": REFERENCE.replace('"reference", kind="{kind}"', '"fast", kind="optimized"')
                               .format(task="twcie")},
     "method 'fast' (mytasks.twice.fast) registers under task 'twcie', which no task folder defines: did you mean 'twice'?"),
    ("reference of the wrong kind", {"twice/task.py": TASK.format(name="twice"),
                                     "twice/ref.py": REFERENCE.format(task="twice", kind="optimized")},
     "is the task's reference but is registered with kind 'optimized': use kind='reference'"),
    ("no reference", {"twice/task.py": TASK.format(name="twice")},
     "task 'twice' has no method 'reference' (its reference)"),
    ("a second reference", {"twice/task.py": TASK.format(name="twice"), "twice/ref.py": REFERENCE.format(task="twice", kind="reference"),
                            "twice/other.py": REFERENCE.replace('"reference", kind', '"exact", kind').format(task="twice", kind="reference")},
     "method 'exact' of task 'twice' (mytasks.twice.other) has kind 'reference', but the task's reference is 'reference'"),
    ("a duplicate name", {"twice/task.py": TASK.format(name="twice"), "twice/ref.py": REFERENCE.format(task="twice", kind="reference"),
                          "twice/again.py": REFERENCE.format(task="twice", kind="reference")},
     "method 'reference' of task 'twice' is registered twice (first in mytasks.twice.again, again in mytasks.twice.ref)"),
    ("a FLOP model that cannot take the parameters", {
        "twice/task.py": TASK.format(name="twice"), "twice/ref.py": REFERENCE.format(task="twice", kind="reference"),
        "twice/fast.py": "from matrixbench.params import Param\nfrom matrixbench.registry import method\n"
                         "def fast_flops(inputs):\n    return 1.0\n"
                         "@method('twice', kind='optimized', backends=('numpy',), params={'iters': Param(int, 3)}, "
                         "flops=fast_flops)\ndef fast(A, iters=3):\n    return 2 * A\n"},
     "its flops function 'fast_flops' does not accept the method's parameters (iters) after the inputs"),
])
def test_discovery_refuses_contradictions(tmp_path, case, files, message):
    root = write(tmp_path / "mytasks", files)
    res = cli(tmp_path, "list", "tasks", "--tasks", str(root))
    assert message in res.stderr, (case, res.stderr)
    assert res.returncode == 2, (case, res.stdout, res.stderr)


def test_discovery_refuses_a_root_named_like_a_module(tmp_path):
    root = write(tmp_path / "json", {"twice/task.py": TASK.format(name="twice")})
    res = cli(tmp_path, "list", "tasks", "--tasks", str(root))
    assert res.returncode == 2 and "the name 'json' is already a Python module" in res.stderr, res.stderr


def test_every_module_of_a_task_folder_is_imported(tmp_path):
    """No import list: a method in a new file of the folder (and in a sub-package) is found."""
    root = write(tmp_path / "mytasks", {
        "twice/task.py": TASK.format(name="twice"),
        "twice/ref.py": REFERENCE.format(task="twice", kind="reference"),
        "twice/more/__init__.py": "",
        "twice/more/fast.py": REFERENCE.replace('"reference", kind="{kind}"', '"fast", kind="optimized"').format(task="twice"),
    })
    res = cli(tmp_path, "list", "methods", "--tasks", str(root))
    assert res.returncode == 0, res.stderr
    assert "fast" in res.stdout and "twice" in res.stdout


def test_no_backend_twins_no_import_lists():
    for (task, name), meth in registry.METHODS.items():
        if meth.fn.__module__.startswith("implementations."):
            assert not name.endswith(("_numpy", "_scipy", "_torch")), (task, name)
    for init in (ROOT / "implementations").glob("*/__init__.py"):
        tree = ast.parse(init.read_text())
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not imports, f"{init} imports modules: discovery imports every module of the folder"


def test_engine_generators_are_generic():
    """Every generator in matrixbench/ is used by the suites or the generators of two
    tasks or more; one that serves a single task belongs in that task's folder."""
    users: dict[str, set[str]] = {}
    for path in sorted((ROOT / "suites").glob("*.yaml")):
        for entry in load_suite(path).entries:
            for spec in entry.problems:
                users.setdefault(spec.generator, set()).add(entry.task)
    imported_by = {  # engine generators other tasks' generators build on
        "tall_gaussian": {"lstsq"}, "tall_coherent": {"lstsq"}, "tall_sparse": {"lstsq"}, "weights": {"lstsq"},
    }
    #: generators that make no matrix of their own: they read what a user brings, for any
    #: task; a shipped suite must still use them
    readers = {"file"}
    for name, gen in registry.GENERATORS.items():
        if not gen.fn.__module__.startswith("matrixbench.generators"):
            continue
        tasks = users.get(name, set()) | imported_by.get(name, set())
        assert len(tasks) >= (1 if name in readers else 2), (name, tasks)


def test_suite_names_the_new_spelling_of_a_renamed_method(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("task: sketch\nproblems: {generator: tall_gaussian, params: {n: 64, d: 4}, task_params: {k: 16}}\n"
                    "methods: [reference, gaussian_numpy]\n")
    with pytest.raises(SuiteErrors, match="it is now method 'gaussian' with backend 'numpy'"):
        load_suite(path)
    path.write_text("task: sketch\nproblems: {generator: tall_gaussian, params: {n: 64, d: 4}, task_params: {k: 16}}\n"
                    "methods: [reference, {gaussian: {backend: cupy}}]\n")
    with pytest.raises(SuiteErrors, match="method 'gaussian' has no backend 'cupy'; it runs on torch, numpy"):
        load_suite(path)


def test_backend_is_an_axis_of_the_plan(tmp_path):
    path = tmp_path / "s.yaml"
    base = "task: sketch\nproblems: {generator: tall_gaussian, params: {n: 64, d: 4}, task_params: {k: 16}}\n"
    path.write_text(base + "methods: [gaussian, sklearn_gaussian]\ndtypes: [float32, float64]\n")
    keys = [c.key for c in plan([load_suite(path)])]
    assert len(keys) == 6  # gaussian on two backends, sklearn on one; two dtypes each
    assert sum("/gaussian(hold=true,seed=0)/numpy/" in k for k in keys) == 2
    assert sum("/gaussian(hold=true,seed=0)/torch/" in k for k in keys) == 2
    path.write_text(base + "backends: [numpy]\nmethods: [gaussian, sklearn_gaussian]\n")
    assert [c.backend for c in plan([load_suite(path)])] == ["numpy", "numpy"]
    path.write_text(base + "backends: [torch]\nmethods: [sklearn_gaussian]\n")
    with pytest.raises(SuiteErrors, match="runs on numpy, none of the entry's backends"):
        load_suite(path)


def test_v1_run_file_reads_with_todays_keys():
    data = read_run(V1)
    assert data["schema_version"] == 2 and data["run"]["migrated_from"] == 1
    suite = load_suite(ROOT / "suites" / "ci.yaml")
    planned = {c.key for c in plan([suite], entries=V1_ENTRIES)}
    keys = {r["key"] for r in data["results"]}
    assert keys == planned
    names = {(r["method"]["name"], r["method"]["backend"]) for r in data["results"]}
    assert ("sparse_update", "torch") in names and ("sparse_update", "numpy") in names
    assert not any(r["method"]["name"].endswith("_torch") for r in data["results"])
    raw = json.loads(V1.read_text())  # the file itself is left as it was
    assert raw["schema_version"] == 1 and any(r["method"]["name"] == "sparse_update_torch" for r in raw["results"])


def test_v1_run_file_compares_with_a_fresh_run(tmp_path):
    res = cli(tmp_path, "run", str(ROOT / "suites" / "ci.yaml"), "--entry", ",".join(V1_ENTRIES), "--quick",
              "--rounds", "1", "--no-table", "--results", "new")
    assert res.returncode == 0, res.stderr[-3000:]
    head = read_run(next((tmp_path / "new").glob("*/*.json")))
    cmp = compare_runs(read_run(V1), head, threshold=100.0)
    assert cmp.matched == 13 and not cmp.only_base and not cmp.only_head
    assert not [c for c in cmp.changes if c.kind in ("missing", "status", "accuracy")], cmp.changes


def test_asv_classes_are_one_per_task_of_the_suite(monkeypatch):
    """What ``benchmarks/cells.py`` gives asv for ``suites/ci.yaml``: one class per task,
    its cells as the parameter, a ``track_`` function per metric plus time and memory."""
    monkeypatch.setenv("MATRIXBENCH_ASV_SUITE", str(ROOT / "suites" / "ci.yaml"))
    sys.path.insert(0, str(ROOT))
    import importlib

    cells_module = importlib.import_module("benchmarks.cells")
    classes = cells_module.benchmark_classes()
    cells = plan([load_suite(ROOT / "suites" / "ci.yaml")])
    tasks = list(dict.fromkeys(c.problem.task for c in cells))
    assert list(classes) == [cells_module.class_name(t) for t in tasks]
    assert list(classes)[:3] == ["Sqrtm", "Polar", "InvRoot"]
    for task in tasks:
        cls = classes[cells_module.class_name(task)]
        assert cls.params == [[c.key for c in cells if c.problem.task == task]]
        tracks = {m for m in vars(cls) if m.startswith("track_")}
        assert tracks == {"track_time", "track_peakmem"} | {f"track_{m.name}" for m in registry.TASKS[task].metrics}


def test_asv_skips_a_metric_a_cell_does_not_report(monkeypatch):
    """``track_iterations`` of a direct method (no such metric) and a skipped cell are
    asv skips (``SkipNotImplemented``), not failures; a cell that broke is a failure."""
    monkeypatch.setenv("MATRIXBENCH_ASV_SUITE", str(ROOT / "suites" / "ci.yaml"))
    sys.path.insert(0, str(ROOT))
    import importlib

    cells_module = importlib.import_module("benchmarks.cells")
    bench = cells_module.benchmark_classes()["InvRoot"]()
    ok = {"status": "ok", "reason": "", "metrics": {"rel_error": 1e-9}, "time": {"median": 1e-3}, "memory": None}
    records = {"a": ok, "b": {**ok, "status": "skipped", "reason": "no CUDA"}, "c": {**ok, "status": "error", "time": None}}
    assert bench.track_rel_error(records, "a") == 1e-9 and bench.track_time(records, "a") == 1e-3
    for call, key in ((bench.track_iterations, "a"), (bench.track_peakmem, "a"), (bench.track_time, "b")):
        with pytest.raises(cells_module.SkipNotImplemented):
            call(records, key)
    with pytest.raises(RuntimeError, match="error"):
        bench.track_time(records, "c")
