"""The registry: tasks, methods and generators register themselves here.

The engine never imports a task by name. :func:`matrixbench.discovery.load_plugins`
imports every module of every task folder under ``implementations/`` (and of the
folders named by ``--tasks``, and any plugin module), their import-time decorators fill
the three tables below, and discovery then checks the tables against each other.

A task folder typically looks like::

    # implementations/sqrtm/task.py
    TASK = register_task(Task(name="sqrtm", metrics=(...), make_inputs=..., score=...))

    # implementations/sqrtm/newton_schulz.py
    @method("sqrtm", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
            params={"iters": Param(int, 10, min=1)}, flops=ns_flops)
    def newton_schulz(A, inverse=False, iters=10): ...

Method functions are called as ``fn(**inputs, **params)``: ``inputs`` come from the
task's ``make_inputs`` (arrays already cast to the cell's backend, dtype and device),
``params`` from the suite. A method registered with several ``backends`` (say
``("torch", "numpy")``) is one method: the backend is an axis of the plan, like dtype and
device, and the function is called with inputs of the cell's backend. Sparse inputs (SciPy sparse matrices from a generator) reach
only methods registered with ``sparse=True``, as SciPy CSR (numpy backend) or torch CSR
(torch backend); other methods' cells on such problems are ``skipped`` with the reason,
never densified behind the user's back. A method returns an array/tensor, or a tuple/dict of them, or
:class:`WithInfo` to attach extra numbers (iterations used) that become metrics.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping

import numpy as np

from .params import Param
from .sources import closure_hash

Direction = Literal["lower", "higher"]
#: What a metric's value means for accuracy: an ``error`` goes to 0, a ``ratio`` to 1 (an
#: optimality ratio, a singular value of an orthogonal factor), a ``score`` is bounded in
#: [0, 1] with 1 best (an F1 score); a ``count`` (iterations, products, bits) is a cost, not
#: an accuracy, and a ``value`` is a measured quantity with no exact value to approach (a
#: held-out log-likelihood, a phase time a method measured inside itself): neither gets
#: accuracy levels. Reports rank and plot :func:`distance`.
Scale = Literal["error", "ratio", "score", "count", "value"]
SCALES: tuple[str, ...] = ("error", "ratio", "score", "count", "value")
#: the scales that are not a distance from exact (no accuracy levels, no accuracy plot)
UNRANKED: tuple[str, ...] = ("count", "value")
Kind = Literal["reference", "optimized", "baseline"]
KINDS: tuple[str, ...] = ("reference", "optimized", "baseline")
BACKENDS: tuple[str, ...] = ("numpy", "torch")
DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")
DEVICES: tuple[str, ...] = ("cpu", "cuda")


@dataclass(frozen=True)
class Metric:
    """One accuracy metric of a task: its direction, unit and scale (see :data:`Scale`)."""

    name: str
    direction: Direction = "lower"
    unit: str = ""
    doc: str = ""
    scale: Scale = "error"

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ValueError(f"metric {self.name!r}: scale {self.scale!r} is not one of {', '.join(SCALES)}")


def distance(scale: str, value: float) -> float:
    """How far ``value`` is from exact on its scale: the error itself, ``|ratio - 1|``,
    ``1 - score``; a count or a value is returned as is (it has no exact value)."""
    if scale == "ratio":
        return abs(value - 1.0)
    if scale == "score":
        return 1.0 - value
    return abs(value) if scale == "error" else value


@dataclass
class Task:
    """The contract of one computational problem.

    ``make_inputs(matrix, **task_params)`` turns a generated float64 matrix into the
    method inputs (a dict of float64 numpy arrays and plain scalars).
    ``score(output, reference, inputs)`` returns ``{metric: value}`` where ``output``
    and ``reference`` are float64 numpy structures and ``inputs`` the float64 inputs.
    """

    name: str
    description: str
    metrics: tuple[Metric, ...]
    make_inputs: Callable[..., dict[str, Any]]
    score: Callable[[Any, Any, Mapping[str, Any]], dict[str, float]]
    reference: str = "reference"
    params: Mapping[str, Param] = field(default_factory=dict)
    #: ``check_inputs(inputs) -> None | str``: the task's preconditions on one generated
    #: problem (symmetric, positive definite, full rank, ``k < min(m, n)``...). A message
    #: says what is violated and by how much; the problem's cells are then ``invalid`` and
    #: do not run. Inputs are never repaired silently.
    check_inputs: Callable[[Mapping[str, Any]], str | None] | None = None
    #: ``check_output(output, reference, inputs) -> None | str``: the output's structure
    #: and shapes (float64 numpy, before scoring). Without one, the engine compares the
    #: output's array shapes with the reference's.
    check_output: Callable[[Any, Any, Mapping[str, Any]], str | None] | None = None
    #: the task's smallest problem, ``{"generator": name, "params": {...}, "task_params":
    #: {...}}``: every method, on each backend and dtype it declares, must pass
    #: ``example_gates`` on it with its default parameters (``tests/test_contract.py``)
    example: Mapping[str, Any] | None = None
    #: ``{metric: {dtype: bound}}``: the accuracy any method must reach on ``example``
    example_gates: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: ``gradient(inputs, reference, C) -> {input name: dL/dinput}``: the float64 gradient
    #: of ``L = <C, output>`` for the ``backward`` mode (:mod:`matrixbench.modes`); None:
    #: the task has no backward mode
    gradient: Callable[[Mapping[str, Any], Any, Any], dict[str, Any]] | None = None
    #: the inputs the backward mode differentiates
    grad_inputs: tuple[str, ...] = ("A",)
    #: the output is a symmetric matrix (the cotangent is made symmetric too)
    symmetric_output: bool = False
    #: inputs a method sees only as a :class:`matrixbench.operators.LinearOperator` (products
    #: ``A @ V``, counted): every call gets fresh operators and every record the metric
    #: ``matvecs``, which the task must declare
    operators: tuple[str, ...] = ()
    #: inputs a method sees only as a :class:`matrixbench.entries.EntryMatrix` (entries read,
    #: counted): every call gets fresh oracles and every record the metric ``entries``,
    #: which the task must declare
    entry_inputs: tuple[str, ...] = ()
    #: inputs only the reference and the scoring see (the truth a method must recover, such
    #: as a completion problem's full matrix): the engine leaves them out of every other
    #: method's call and ``applies``
    hidden: tuple[str, ...] = ()

    def visible(self, inputs: Mapping[str, Any], kind: str) -> dict[str, Any]:
        """``inputs`` as a method of ``kind`` may see them (all of them for the reference)."""
        if not self.hidden or kind == "reference":
            return dict(inputs)
        return {k: v for k, v in inputs.items() if k not in self.hidden}

    def metric(self, name: str) -> Metric | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass
class Method:
    """One implementation of a task."""

    name: str
    task: str
    kind: Kind
    backends: tuple[str, ...]
    fn: Callable[..., Any]
    devices: tuple[str, ...] = ("cpu",)
    dtypes: tuple[str, ...] = ("float32", "float64")
    params: Mapping[str, Param] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    flops: Callable[..., float] | None = None
    sparse: bool = False
    description: str = ""
    #: ``applies(inputs, **params) -> None | str``: why the method does not apply to this
    #: problem (square only, bounds on k...); the cell is then ``skipped`` with the reason.
    applies: Callable[..., str | None] | None = None
    #: names this method had before, each with the backend it stood for (a NumPy twin
    #: ``gaussian_numpy`` became backend ``numpy`` of ``gaussian``): run files written
    #: before the rename are read with the new keys (:mod:`matrixbench.migrate`)
    renamed_from: Mapping[str, str] = field(default_factory=dict)
    #: the method takes ``callback`` and calls it with each iterate (:mod:`matrixbench.trace`)
    trace: bool = False

    @property
    def version(self) -> str:
        """Hash of the source of the method's module and the project modules it imports."""
        return source_hash(self.fn)


@dataclass
class Generator:
    """A deterministic problem generator: ``fn(rng, **params) -> float64 ndarray``.

    It may also return a SciPy sparse matrix, or a dict of named parts (arrays or sparse
    matrices, e.g. ``{"A": ..., "b": ...}``) that the task's ``make_inputs`` takes apart.
    """

    name: str
    fn: Callable[..., np.ndarray]
    params: Mapping[str, Param] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    description: str = ""
    #: the one task whose inputs this generator makes (a dict shaped for that task, say);
    #: None for a generic generator that any task may use
    task: str | None = None
    #: parameters computed when a suite is planned (they enter the problem key), e.g. a
    #: file's content hash: ``derive(params) -> {name: value}``
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def version(self) -> str:
        """Hash of the source of the generator's module and the project modules it imports."""
        return source_hash(self.fn)


@dataclass
class WithInfo:
    """A method's output plus extra numbers (e.g. iterations) reported as metrics.

    ``failure``, when set, says why the output cannot be trusted although it is finite
    (an iteration that hit its cap without converging): the cell is then ``inaccurate``
    with that reason, its time and metrics still recorded, never a silent wrong answer.
    """

    value: Any
    info: Mapping[str, float]
    failure: str | None = None


TASKS: dict[str, Task] = {}
METHODS: dict[tuple[str, str], Method] = {}
GENERATORS: dict[str, Generator] = {}


class RegistryError(ValueError):
    """A registration that contradicts an earlier one or is malformed."""


def source_hash(obj: Any) -> str:
    """A version of ``obj``'s code: the hash of its module's source and of every project
    module that module imports (:mod:`matrixbench.sources`), computed when first asked,
    once all modules are imported."""
    return closure_hash(getattr(obj, "__module__", "") or repr(obj))


def _first_line(doc: str | None) -> str:
    return (inspect.cleandoc(doc).splitlines() or [""])[0] if doc else ""


def register_task(task: Task) -> Task:
    if task.name in TASKS and TASKS[task.name] is not task:
        raise RegistryError(f"task {task.name!r} is registered twice")
    TASKS[task.name] = task
    return task


def method(
    task: str,
    name: str | None = None,
    *,
    kind: Kind,
    backends: tuple[str, ...],
    devices: tuple[str, ...] = ("cpu",),
    dtypes: tuple[str, ...] = ("float32", "float64"),
    params: Mapping[str, Param] | None = None,
    requires: tuple[str, ...] = (),
    flops: Callable[..., float] | None = None,
    sparse: bool = False,
    applies: Callable[..., str | None] | None = None,
    renamed_from: Mapping[str, str] | None = None,
    trace: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``fn`` as a method of ``task``.

    ``flops(inputs, **params) -> float`` gives the method's FLOP count from its float64
    inputs and parameters; results then carry the achieved GFLOP/s. ``sparse=True``
    says the method takes sparse inputs as such (see the module docstring).
    ``applies(inputs, **params) -> None | str`` says why the method does not apply to a
    problem (float64 inputs, task parameters included): the cell is ``skipped``.
    ``backends`` are the array libraries ``fn`` accepts (one registration for all: the
    planner makes one cell per backend); ``renamed_from`` maps former method names to the
    backend they stood for, so that older run files keep comparing. ``trace=True`` says
    that ``fn`` takes a keyword ``callback`` and calls it with each iterate, in the form
    of its output (:mod:`matrixbench.trace`).
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        method_name = name or fn.__name__
        if kind not in KINDS:
            raise RegistryError(f"method {method_name!r}: kind {kind!r} is not one of {KINDS}")
        if isinstance(backends, str) or not backends:
            raise RegistryError(f"method {method_name!r}: backends must be a non-empty tuple such as ('torch',), "
                                f"got {backends!r}")
        for b in list(backends) + list((renamed_from or {}).values()):
            if b not in BACKENDS:
                raise RegistryError(f"method {method_name!r}: backend {b!r} is not one of {BACKENDS}")
        for d in dtypes:
            if d not in DTYPES:
                raise RegistryError(f"method {method_name!r}: dtype {d!r} is not one of {DTYPES}")
        for d in devices:
            if d not in DEVICES:
                raise RegistryError(f"method {method_name!r}: device {d!r} is not one of {DEVICES}")
        if trace and "callback" not in inspect.signature(fn).parameters:
            raise RegistryError(f"method {method_name!r}: trace=True, but {fn.__name__}() takes no 'callback'")
        key = (task, method_name)
        if key in METHODS and METHODS[key].fn is not fn:
            raise RegistryError(f"method {method_name!r} of task {task!r} is registered twice (first in "
                                f"{METHODS[key].fn.__module__}, again in {fn.__module__})")
        METHODS[key] = Method(
            name=method_name,
            task=task,
            kind=kind,
            backends=tuple(backends),
            fn=fn,
            devices=tuple(devices),
            dtypes=tuple(dtypes),
            params=dict(params or {}),
            requires=tuple(requires),
            flops=flops,
            sparse=sparse,
            applies=applies,
            description=_first_line(fn.__doc__),
            renamed_from=dict(renamed_from or {}),
            trace=trace,
        )
        return fn

    return register


def generator(
    name: str | None = None,
    *,
    params: Mapping[str, Param] | None = None,
    requires: tuple[str, ...] = (),
    task: str | None = None,
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Callable[[Callable[..., np.ndarray]], Callable[..., np.ndarray]]:
    """Decorator registering a problem generator ``fn(rng, **params)``; ``task`` names the
    one task it serves (it lives in that task's folder), None for a generic one;
    ``derive`` computes parameters when a suite is planned (see :class:`Generator`)."""

    def register(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
        gen_name = name or fn.__name__
        if gen_name in GENERATORS and GENERATORS[gen_name].fn is not fn:
            raise RegistryError(f"generator {gen_name!r} is registered twice (first in "
                                f"{GENERATORS[gen_name].fn.__module__}, again in {fn.__module__})")
        GENERATORS[gen_name] = Generator(
            name=gen_name,
            fn=fn,
            params=dict(params or {}),
            requires=tuple(requires),
            description=_first_line(fn.__doc__),
            task=task,
            derive=derive,
        )
        return fn

    return register


def methods_of(task: str) -> dict[str, Method]:
    return {m.name: m for (t, _), m in METHODS.items() if t == task}
