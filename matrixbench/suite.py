"""Suites: YAML files of problem grids x methods x dtypes x devices, validated before use.

Validation runs in two passes and collects every error, not just the first:

1. structure, against a JSON Schema (``jsonschema``): keys, types, ranges;
2. names and values, against the registry: the task, generator and method names exist
   (an unknown one lists the known ones and the closest match), and every parameter value
   passes its :class:`~matrixbench.params.Param` spec (a negative size is caught here).

Nothing from a suite is executed: it is parsed with a safe loader and checked as data.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import jsonschema

from . import registry
from .modes import GRAD_METRIC, MODES
from .params import Param
from .yamlsrc import KeyPath, Source, SuiteError, load_yaml

_SCALAR = {"type": ["string", "number", "boolean"]}
_GRID = {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR, "minItems": 1}]}
_PARAMS = {"type": "object", "additionalProperties": _GRID}
_PROBLEMS = {
    "type": "object",
    "properties": {
        "generator": {"type": "string"},
        "params": _PARAMS,
        "task_params": _PARAMS,
        "exclude": {"type": "array", "items": {"type": "object", "additionalProperties": _SCALAR}},
        "seed": {"type": "integer", "minimum": 0},
    },
    "required": ["generator"],
    "additionalProperties": False,
}
_METHOD = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": {"anyOf": [_PARAMS, {"type": "null"}]},
        },
    ]
}
TIMING_SCHEMA = {
    "type": "object",
    "properties": {
        "warmup": {"type": "integer", "minimum": 0},
        "warmup_max": {"type": "integer", "minimum": 1},
        "settle": {"type": "number", "minimum": 0, "maximum": 1},
        "min_time": {"type": "number", "minimum": 0},
        "max_time": {"type": "number", "exclusiveMinimum": 0},
        "min_repeats": {"type": "integer", "minimum": 1},
        "sample_time": {"type": "number", "exclusiveMinimum": 0},
        "iqr_stop": {"type": "number", "minimum": 0},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
        "cold": {"type": "boolean"},
        "rounds": {"type": "integer", "minimum": 1},
    },
    "additionalProperties": False,
}
#: Per-benchmark regression thresholds (``compare`` and ``ab`` use them for its cells).
REGRESSION_SCHEMA = {
    "type": "object",
    "properties": {
        "threshold": {"type": "number", "minimum": 0},
        "accuracy_threshold": {"type": "number", "minimum": 0},
    },
    "additionalProperties": False,
}
_ENTRY_PROPERTIES = {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "task": {"type": "string"},
    "problems": {"anyOf": [_PROBLEMS, {"type": "array", "items": _PROBLEMS, "minItems": 1}]},
    "methods": {"type": "array", "items": _METHOD, "minItems": 1},
    "dtypes": {"type": "array", "items": {"enum": list(registry.DTYPES)}, "minItems": 1},
    "devices": {"type": "array", "items": {"enum": list(registry.DEVICES)}, "minItems": 1},
    "backends": {"type": "array", "items": {"enum": list(registry.BACKENDS)}, "minItems": 1},
    "gates": {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "propertyNames": {"enum": list(registry.DTYPES)},
            "additionalProperties": {"type": "number"},
        },
    },
    "timing": TIMING_SCHEMA,
    "threads": {"type": "integer", "minimum": 1},
    "regression": REGRESSION_SCHEMA,
    #: seeds per randomized cell (see :mod:`matrixbench.trials`)
    "trials": {"type": "integer", "minimum": 1, "maximum": 10000},
    #: record the convergence trace of every method that traces (see :mod:`matrixbench.trace`)
    "trace": {"type": "boolean"},
    #: how the methods are called: forward, backward, compile, cuda_graph (:mod:`matrixbench.modes`)
    "modes": {"type": "array", "items": {"enum": list(MODES)}, "minItems": 1, "uniqueItems": True},
}
ENTRY_SCHEMA = {
    "type": "object",
    "properties": _ENTRY_PROPERTIES,
    "required": ["task", "problems", "methods"],
    "additionalProperties": False,
}
MULTI_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "benchmarks": {"type": "array", "items": {"type": "object"}, "minItems": 1},
    },
    "required": ["benchmarks"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class MethodSpec:
    """A method of an entry with its parameter grid (lists expand to one cell each)."""

    name: str
    grid: Mapping[str, list[Any]]
    path: KeyPath = ()
    line: int | None = field(default=None, compare=False)
    #: the backends to run (``backend: numpy`` or a list in the method's mapping); None:
    #: every backend the method has that the entry's ``backends`` allows
    backends: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ProblemSpec:
    """A problem grid: a generator, its parameter grid, the task's parameters, exclusions."""

    generator: str
    grid: Mapping[str, list[Any]]
    task_grid: Mapping[str, list[Any]]
    exclude: tuple[Mapping[str, Any], ...]
    seed: int
    path: KeyPath = ()
    line: int | None = field(default=None, compare=False)


@dataclass
class Entry:
    """One benchmark of a suite: a task, its problems and methods, dtypes, devices, gates."""

    name: str
    description: str
    task: str
    problems: list[ProblemSpec]
    methods: list[MethodSpec]
    dtypes: list[str]
    devices: list[str]
    backends: list[str] | None
    gates: dict[str, dict[str, float]]
    timing: dict[str, Any]
    threads: int | None
    #: thresholds of ``compare``/``ab`` for this benchmark's cells (``threshold``, ``accuracy_threshold``)
    regression: dict[str, float] = field(default_factory=dict)
    #: seeds per randomized cell (``trials: N``)
    trials: int = 1
    #: convergence traces of the iterative methods (``trace: true``)
    trace: bool = False
    #: how the methods are called (``modes: [forward, backward, compile]``)
    modes: list[str] = field(default_factory=lambda: ["forward"])
    line: int | None = field(default=None, compare=False)


@dataclass
class Suite:
    name: str
    description: str
    file: str
    sha256: str
    entries: list[Entry] = field(default_factory=list)


class SuiteErrors(Exception):
    """All the errors found in one or more suites."""

    def __init__(self, errors: list[SuiteError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _closest(name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"known: {', '.join(known) or '(none)'}{hint}"


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})" if value is not None else "nothing (null)"


def _schema_errors(src: Source, data: Any, schema: dict, base: KeyPath) -> list[SuiteError]:
    out = []
    validator = jsonschema.Draft202012Validator(schema)
    for err in validator.iter_errors(data):
        if err.context:  # anyOf: report the branch that got furthest
            err = jsonschema.exceptions.best_match(err.context)
        path = base + tuple(err.absolute_path)
        schema_part = err.schema if isinstance(err.schema, dict) else {}
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(schema_part.get("properties", {})))
            for key in extra:
                known = schema_part.get("properties", {})
                out.append(src.error(path + (key,), f"unknown key {key!r}; {_closest(key, known)}"))
            continue
        if err.validator == "required":
            message = f"missing key: {err.message.split(' is a required')[0]}"
        elif err.validator == "type":
            message = f"found {_describe(err.instance)}, expected {err.validator_value}"
        elif err.validator == "enum":
            message = f"found {err.instance!r}, expected one of {', '.join(map(str, err.validator_value))}"
        elif err.validator in ("minimum", "exclusiveMinimum"):
            op = ">=" if err.validator == "minimum" else ">"
            message = f"found {err.instance!r}, expected a value {op} {err.validator_value}"
        elif err.validator in ("minItems", "minProperties", "maxProperties"):
            message = f"found {err.instance!r}: {err.message}"
        else:
            message = err.message
        out.append(src.error(path, message))
    return out


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _check_grid(
    src: Source, path: KeyPath, specs: Mapping[str, Param], grid: Mapping[str, Any], what: str
) -> tuple[dict[str, list[Any]], list[SuiteError]]:
    errors: list[SuiteError] = []
    out: dict[str, list[Any]] = {}
    for key, value in grid.items():
        if key not in specs:
            errors.append(src.error(path + (key,), f"unknown parameter {key!r} of {what}; {_closest(key, specs)}"))
            continue
        values = []
        for i, v in enumerate(_as_list(value)):
            item_path = path + (key, i) if isinstance(value, list) else path + (key,)
            try:
                values.append(specs[key].coerce(v))
            except (ValueError, OverflowError) as exc:  # OverflowError: a 400-digit integer for a float
                errors.append(src.error(item_path, f"bad value for parameter {key!r} of {what}: {exc}"))
        out[key] = values
    for key, spec in specs.items():
        if spec.required and key not in grid:
            errors.append(src.error(path, f"{what} needs parameter {key!r} ({spec.expected()})"))
    return out, errors


def _renamed(name: str, methods: Mapping[str, registry.Method]) -> str:
    """The hint for an unknown method name: its new name and backend if it was renamed."""
    for meth in methods.values():
        if name in meth.renamed_from:
            return f"it is now method {meth.name!r} with backend {meth.renamed_from[name]!r} " \
                   f"(write `- {meth.name}: {{backend: {meth.renamed_from[name]}}}`)"
    return _closest(name, methods)


def _check_backends(src: Source, path: KeyPath, meth: registry.Method, chosen: Any,
                    entry_backends: list[str] | None) -> tuple[tuple[str, ...] | None, list[SuiteError]]:
    """The backends a method entry asks for (``backend: numpy`` or a list), checked
    against the method's own and the entry's ``backends``."""
    allowed = [b for b in meth.backends if entry_backends is None or b in entry_backends]
    if chosen is None:
        if not allowed:
            return None, [src.error(path, f"method {meth.name!r} runs on {', '.join(meth.backends)}, none of the "
                                          f"entry's backends ({', '.join(entry_backends or [])})")]
        return None, []
    values = _as_list(chosen)
    bad = [b for b in values if b not in meth.backends]
    if bad:
        return None, [src.error(path + ("backend",), f"method {meth.name!r} has no backend {bad[0]!r}; "
                                                     f"it runs on {', '.join(meth.backends)}")]
    return tuple(dict.fromkeys(values)), []


def _parse_entry(src: Source, data: dict, base: KeyPath, index: int) -> tuple[Entry | None, list[SuiteError]]:
    errors = _schema_errors(src, data, ENTRY_SCHEMA, base)
    if errors:
        return None, errors
    task_name = data["task"]
    task = registry.TASKS.get(task_name)
    if task is None:
        return None, [src.error(base + ("task",), f"unknown task {task_name!r}; {_closest(task_name, registry.TASKS)}")]

    problems: list[ProblemSpec] = []
    raw_problems = data["problems"]
    problem_list = raw_problems if isinstance(raw_problems, list) else [raw_problems]
    for i, prob in enumerate(problem_list):
        ppath = base + (("problems", i) if isinstance(raw_problems, list) else ("problems",))
        gen = registry.GENERATORS.get(prob["generator"])
        if gen is None:
            errors.append(src.error(ppath + ("generator",), f"unknown generator {prob['generator']!r}; {_closest(prob['generator'], registry.GENERATORS)}"))
            continue
        if gen.task is not None and gen.task != task.name:
            errors.append(src.error(ppath + ("generator",), f"generator {gen.name!r} makes inputs of task {gen.task!r}, "
                                                            f"not of task {task.name!r}"))
            continue
        grid, errs = _check_grid(src, ppath + ("params",), gen.params, prob.get("params", {}), f"generator {gen.name!r}")
        errors += errs
        task_grid, errs = _check_grid(src, ppath + ("task_params",), task.params, prob.get("task_params", {}), f"task {task.name!r}")
        errors += errs
        known = set(gen.params) | set(task.params)
        for j, ex in enumerate(prob.get("exclude", [])):
            for key in ex:
                if key not in known:
                    errors.append(src.error(ppath + ("exclude", j, key), f"exclude names unknown parameter {key!r}; {_closest(key, known)}"))
        problems.append(ProblemSpec(gen.name, grid, task_grid, tuple(prob.get("exclude", [])), prob.get("seed", 0), ppath,
                                    src.line(ppath)))

    methods: list[MethodSpec] = []
    known_methods = registry.methods_of(task.name)
    entry_backends = data.get("backends")
    for i, item in enumerate(data["methods"]):
        mpath = base + ("methods", i)
        name, grid_in = (item, {}) if isinstance(item, str) else next(iter(item.items()))
        grid_in = dict(grid_in or {})
        meth = known_methods.get(name)
        if meth is None:
            errors.append(src.error(mpath, f"unknown method {name!r} of task {task.name!r}; {_renamed(name, known_methods)}"))
            continue
        ppath = mpath if isinstance(item, str) else mpath + (name,)
        backends, errs = _check_backends(src, ppath, meth, grid_in.pop("backend", None), entry_backends)
        errors += errs
        grid, errs = _check_grid(src, ppath, meth.params, grid_in, f"method {name!r}")
        errors += errs
        methods.append(MethodSpec(name, grid, mpath, src.line(mpath), backends))

    gates: dict[str, dict[str, float]] = {}
    for metric, per_dtype in data.get("gates", {}).items():
        backward_metric = metric == GRAD_METRIC and task.gradient is not None  # the backward mode's score
        if task.metric(metric) is None and not backward_metric:
            names = [m.name for m in task.metrics] + ([GRAD_METRIC] if task.gradient is not None else [])
            errors.append(src.error(base + ("gates", metric), f"unknown metric {metric!r} of task {task.name!r}; {_closest(metric, names)}"))
            continue
        gates[metric] = {k: float(v) for k, v in per_dtype.items()}

    entry = Entry(
        name=data.get("name", task.name if index == 0 else f"{task.name}-{index}"),
        description=data.get("description", ""),
        task=task.name,
        problems=problems,
        methods=methods,
        dtypes=list(data.get("dtypes", ["float64"])),
        devices=list(data.get("devices", ["cpu"])),
        backends=entry_backends,
        gates=gates,
        timing=dict(data.get("timing", {})),
        threads=data.get("threads"),
        regression={k: float(v) for k, v in data.get("regression", {}).items()},
        trials=int(data.get("trials", 1)),
        trace=bool(data.get("trace", False)),
        modes=list(data.get("modes", ["forward"])),
        line=src.line(base),
    )
    return (entry if not errors else None), errors


def load_suite(path: str | Path) -> Suite:
    """Load and validate one suite; raise :class:`SuiteErrors` listing every problem found."""
    src = load_yaml(path)
    data = src.data
    if not isinstance(data, dict):
        raise SuiteErrors([src.error((), f"found {_describe(data)}, expected a mapping with 'task' or 'benchmarks'")])
    errors: list[SuiteError] = []
    entries: list[Entry] = []
    if "benchmarks" in data:
        errors = _schema_errors(src, data, MULTI_SCHEMA, ())
        raw = [(e, ("benchmarks", i)) for i, e in enumerate(data.get("benchmarks") or []) if isinstance(e, dict)]
    else:
        raw = [(data, ())]
    if not errors:
        for i, (item, base) in enumerate(raw):
            entry, errs = _parse_entry(src, item, base, i)
            errors += errs
            if entry is not None:
                entries.append(entry)
        names = [e.name for e in entries]
        for name in {n for n in names if names.count(n) > 1}:
            errors.append(src.error(("benchmarks",), f"two benchmarks are named {name!r}; give them distinct 'name's"))
    if errors:
        raise SuiteErrors(errors)
    stem = Path(path).stem
    return Suite(data.get("name", stem), data.get("description", ""), str(path), src.sha256, entries)


def load_suites(paths: Iterable[str | Path]) -> list[Suite]:
    """Load several suites, collecting the errors of all of them."""
    suites, errors = [], []
    for p in paths:
        try:
            suites.append(load_suite(p))
        except SuiteErrors as exc:
            errors += exc.errors
        except SuiteError as exc:
            errors.append(exc)
    if errors:
        raise SuiteErrors(errors)
    return suites
