"""The planner: suites -> problem instances -> cells, each with a stable key.

A cell is one (problem instance, method with its parameters, backend, dtype, device).
Its key is built from resolved values only (defaults filled, parameters sorted), so it
is the same in every run of the same suite and can match cells across runs and commits::

    sqrtm/spd(batch=1,cond=100,n=64,spectrum=geometric;seed=0)/inverse=false/newton_schulz(iters=10)/torch/float32/cpu

The backend is an axis like dtype and device: a method registered with
``backends=("torch", "numpy")`` gives one cell per backend (run files written before
the backend was part of the key are read through :mod:`matrixbench.migrate`).
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from . import registry
from .modes import DEFAULT as DEFAULT_MODE, key_suffix
from .params import keyed, resolve
from .suite import Entry, Suite
from .timing import TimingSettings


def fmt_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, ".12g")
    return str(value)


def fmt_params(params: Mapping[str, Any]) -> str:
    return ",".join(f"{k}={fmt_value(params[k])}" for k in sorted(params))


def expand(grid: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Cartesian product of a parameter grid (an empty grid gives one empty point)."""
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


@dataclass(frozen=True)
class Problem:
    """One problem instance: a generator with resolved parameters and seed, and task parameters."""

    task: str
    generator: str
    params: tuple[tuple[str, Any], ...]
    seed: int
    task_params: tuple[tuple[str, Any], ...]

    @property
    def key(self) -> str:
        tp = fmt_params(dict(self.task_params))
        gen = f"{self.generator}({fmt_params(dict(self.params))};seed={self.seed})"
        return f"{self.task}/{gen}" + (f"/{tp}" if tp else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "generator": self.generator,
            "params": dict(self.params),
            "seed": self.seed,
            "task_params": dict(self.task_params),
            "key": self.key,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Problem:
        return cls(d["task"], d["generator"], tuple(sorted(d["params"].items())), d["seed"], tuple(sorted(d["task_params"].items())))


@dataclass(frozen=True)
class Cell:
    """The unit of measurement: a problem, a method with parameters, a backend, a dtype, a device."""

    problem: Problem
    method: str
    method_params: tuple[tuple[str, Any], ...]
    backend: str
    dtype: str
    device: str
    suite: str
    entry: str
    gates: tuple[tuple[str, float], ...] = ()
    timing: TimingSettings = field(default_factory=TimingSettings)
    threads: int | None = None
    #: the benchmark's own regression thresholds (see :data:`matrixbench.suite.REGRESSION_SCHEMA`)
    regression: tuple[tuple[str, float], ...] = ()
    #: seeds of a randomized method (:mod:`matrixbench.trials`); not part of the key
    trials: int = 1
    #: record the convergence trace (:mod:`matrixbench.trace`); not part of the key
    trace: bool = False
    #: how the method is called (:mod:`matrixbench.modes`); in the key unless ``forward``
    mode: str = DEFAULT_MODE

    @property
    def key(self) -> str:
        return (f"{self.problem.key}/{self.method}({fmt_params(dict(self.method_params))})/{self.backend}/{self.dtype}"
                f"/{self.device}{key_suffix(self.mode)}")

    @property
    def method_obj(self) -> registry.Method:
        return registry.METHODS[(self.problem.task, self.method)]


def _excluded(point: Mapping[str, Any], exclude: Iterable[Mapping[str, Any]]) -> bool:
    return any(all(point.get(k) == v for k, v in ex.items()) for ex in exclude)


class PlanError(ValueError):
    """A problem that cannot be planned (a generator's plan-time parameters failed)."""


def problems_of(entry: Entry) -> list[Problem]:
    task = registry.TASKS[entry.task]
    out: list[Problem] = []
    for spec in entry.problems:
        gen = registry.GENERATORS[spec.generator]
        for gp in expand(spec.grid):
            for tp in expand(spec.task_grid):
                if _excluded({**gp, **tp}, spec.exclude):
                    continue
                params = resolve(gen.params, gp)
                if gen.derive is not None:
                    try:
                        params.update(gen.derive(dict(params)))
                    except Exception as exc:  # noqa: BLE001 - any failure is the suite's problem, said plainly
                        raise PlanError(f"benchmark {entry.name!r}, generator {gen.name!r} {params}: "
                                        f"{type(exc).__name__}: {exc}") from None
                tparams = keyed(task.params, resolve(task.params, tp))
                out.append(Problem(task.name, gen.name, tuple(sorted(params.items())), spec.seed, tuple(sorted(tparams.items()))))
    return list(dict.fromkeys(out))


def plan(
    suites: list[Suite],
    *,
    timing_overrides: Mapping[str, Any] | None = None,
    devices: Iterable[str] | None = None,
    backends: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    patterns: Iterable[str] | None = None,
    threads: int | None = None,
    entries: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    trials: int | None = None,
    trace: bool = False,
) -> list[Cell]:
    """Expand suites into cells, in suite order, filtered by entry, device, backend, method,
    method kind (``reference``, ``baseline``, ``optimized``) and key pattern; ``trials``
    overrides the benchmarks' ``trials``; ``trace`` asks every benchmark for traces.

    ``patterns`` are shell-style globs matched against the key; a pattern without a
    wildcard matches as a substring. ``entries`` names benchmarks of the suites: a cell
    key does not say which entry it came from (two entries may share a cell), so this
    is the way to run one entry alone.
    """
    entry_set = set(entries) if entries else None
    device_set = set(devices) if devices else None
    backend_set = set(backends) if backends else None
    method_set = set(methods) if methods else None
    kind_set = set(kinds) if kinds else None
    globs = [p if any(c in p for c in "*?[") else f"*{p}*" for p in (patterns or [])]
    cells: dict[str, Cell] = {}
    for suite in suites:
        for entry in suite.entries:
            if entry_set is not None and entry.name not in entry_set:
                continue
            timing = TimingSettings.from_mapping({**entry.timing, **(timing_overrides or {})})
            for problem in problems_of(entry):
                for mspec in entry.methods:
                    if method_set is not None and mspec.name not in method_set:
                        continue
                    meth = registry.METHODS[(entry.task, mspec.name)]
                    if kind_set is not None and meth.kind not in kind_set:
                        continue
                    backends = mspec.backends or [b for b in meth.backends if not entry.backends or b in entry.backends]
                    for mp, backend, dtype, device, mode in itertools.product(expand(mspec.grid), backends, entry.dtypes,
                                                                              entry.devices, entry.modes):
                        if device_set is not None and device not in device_set \
                                or backend_set is not None and backend not in backend_set:
                            continue
                        params = keyed(meth.params, resolve(meth.params, mp))
                        gates = tuple(sorted((m, g[dtype]) for m, g in entry.gates.items() if dtype in g))
                        cell = Cell(problem, meth.name, tuple(sorted(params.items())), backend, dtype, device,
                                    suite.name, entry.name, gates, timing, threads or entry.threads,
                                    tuple(sorted(entry.regression.items())), trials or entry.trials,
                                    trace or entry.trace, mode)
                        if globs and not any(fnmatch.fnmatchcase(cell.key, g) for g in globs):
                            continue
                        cells.setdefault(cell.key, cell)
    return list(cells.values())
