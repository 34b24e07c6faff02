"""What happens to one cell inside the worker process.

    generate the input (seeded, float64, read-only) -> check the task's preconditions
    -> the reference output (float64, cached on disk by the input's checksum)
    -> check(cell) with the inputs -> cast a private copy of the inputs to the cell's
    backend, dtype and device -> time the call -> measure its peak memory (one more
    call, whose output is scored) -> did the method write into its input?
    -> the output's structure, shape and dtype -> float64 -> the task's metrics
    -> verdict (:mod:`matrixbench.verdict`) -> a :class:`~matrixbench.record.CellResult`

Every method gets its own copy of the inputs, made before the clock starts, so a method
that writes into its input cannot corrupt the next cells; it is caught (a digest of its
inputs before and after) and its cell is an ``error``. The reference cache key is the
checksum of the generated inputs plus the version of the reference's code, so a change
anywhere in a generator, a helper it imports or a data file it reads gives a new
reference, never a stale one.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import registry
from .backends import (all_finite, as_float64, float_dtypes, has_sparse, nbytes, readonly, split_info, synchronizer,
                       to_backend, to_float64)
from .contention import Probe
from .memory import cpu_peak, cuda_peak
from .plan import Cell, Problem
from .record import CellResult
from .registry import WithInfo
from .timing import CpuTimer, CudaTimer, measure
from . import entries, modes, operators
from .gpumonitor import GpuMonitor
from .trace import trace_cell
from .trials import Trials, run_trials, seeds
from .verdict import TIMED, Verdict, check, failed, finite_or_none, judge, preconditions


@dataclass
class ProblemData:
    """One problem instance's float64 inputs (read-only), their checksum, and the task's
    precondition violation (None when the problem is valid)."""

    problem: Problem
    inputs: dict[str, Any]
    checksum: str
    invalid: str | None


_PROBLEM: dict[str, ProblemData] = {}
_REFERENCES: dict[str, Any] = {}


def checksum(value: Any) -> str:
    """sha256 (16 hex digits) of a structure of arrays, sparse matrices and scalars:
    two runs with equal checksums measured the same matrices."""
    digest = hashlib.sha256()

    def feed(v: Any) -> None:
        if isinstance(v, dict):
            for k in sorted(v):
                digest.update(repr(k).encode())
                feed(v[k])
        elif isinstance(v, (list, tuple)):
            for item in v:
                feed(item)
        elif hasattr(v, "tocsr") and hasattr(v, "nnz"):
            csr = v.tocsr()
            digest.update(repr(("csr", csr.shape, str(csr.dtype))).encode())
            for part in (csr.data, csr.indices, csr.indptr):
                digest.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(v, np.ndarray):
            digest.update(repr((v.shape, str(v.dtype))).encode())
            digest.update(np.ascontiguousarray(v).tobytes())
        elif type(v).__module__.startswith("torch") and hasattr(v, "layout"):
            import torch

            t = v.detach().cpu()
            if t.layout != torch.strided:  # sparse: its stored parts
                t = t.to_sparse_csr() if t.layout != torch.sparse_csr else t
                return feed([repr(tuple(t.shape)), t.values(), t.crow_indices(), t.col_indices()])
            digest.update(repr((tuple(t.shape), str(t.dtype))).encode())
            # raw bytes: numpy has no bfloat16, so view every dtype as uint8
            digest.update(t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
        else:
            digest.update(repr(v).encode())

    feed(value)
    return digest.hexdigest()[:16]


def problem_data(problem: Problem) -> ProblemData:
    """Generate ``problem``'s inputs once per worker (one problem is kept in memory: cells
    come grouped by problem) and check the task's preconditions on them."""
    if problem.key not in _PROBLEM:
        _PROBLEM.clear()
        gen = registry.GENERATORS[problem.generator]
        task = registry.TASKS[problem.task]
        matrix = gen.fn(np.random.default_rng(problem.seed), **dict(problem.params))
        inputs = readonly(task.make_inputs(as_float64(matrix), **dict(problem.task_params)))
        _PROBLEM[problem.key] = ProblemData(problem, inputs, checksum(inputs), preconditions(task, inputs))
    return _PROBLEM[problem.key]


def reference_version(task: registry.Task) -> str:
    ref = registry.METHODS[(task.name, task.reference)]
    return ref.version + registry.source_hash(task.score)


def reference_path(data: ProblemData, cache_dir: Path) -> Path:
    """Cache file of the reference output: keyed by the inputs' checksum and the code of
    the reference (and the task module that scores against it)."""
    task = registry.TASKS[data.problem.task]
    ident = f"{task.name}\0{data.checksum}\0{reference_version(task)}"
    return cache_dir / "references" / task.name / f"{hashlib.sha256(ident.encode()).hexdigest()[:24]}.pkl"


def ensure_reference(problem: Problem, cache_dir: Path) -> dict[str, Any]:
    """Generate the problem, check it, compute the reference once (float64, CPU) unless
    cached. Returns ``{"checksum", "invalid", "seconds"}``; raises if the reference fails."""
    data = problem_data(problem)
    info = {"checksum": data.checksum, "invalid": data.invalid, "seconds": 0.0}
    if data.invalid:
        return info
    path = reference_path(data, cache_dir)
    if path.exists():
        return info
    task = registry.TASKS[problem.task]
    ref = registry.METHODS[(problem.task, task.reference)]
    inputs = to_backend(data.inputs, ref.backends[0], "float64", "cpu")
    start = time.perf_counter()
    output, _ = split_info(ref.fn(**inputs))
    info["seconds"] = time.perf_counter() - start
    output = to_float64(output)
    if not all_finite(output):
        raise FloatingPointError("the reference output has NaN or Inf")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(output, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return info


def load_reference(data: ProblemData, cache_dir: Path) -> Any:
    path = reference_path(data, cache_dir)
    if str(path) not in _REFERENCES:
        _REFERENCES.clear()
        with open(path, "rb") as f:
            _REFERENCES[str(path)] = pickle.load(f)  # noqa: S301 - our own cache file
    return _REFERENCES[str(path)]


def error_reason(exc: BaseException) -> tuple[str, str]:
    """(one-line reason with the innermost file:line, the traceback's last 4000 characters)."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}", "".join(traceback.format_exception(exc))[-4000:]


def set_threads(threads: int) -> dict[str, Any]:
    """Set torch and BLAS thread counts; return what is in force."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(threads)
    info: dict[str, Any] = {"requested": threads, "blas": [
        {"api": p.get("internal_api"), "threads": p.get("num_threads")} for p in threadpool_info()]}
    if hasattr(os, "sched_getaffinity"):  # the cores this cell had (a pinned shard has a few)
        info["cpus"] = sorted(os.sched_getaffinity(0))
    if os.environ.get("CUDA_VISIBLE_DEVICES"):  # the GPU a launcher gave this worker
        info["cuda_visible_devices"] = os.environ["CUDA_VISIBLE_DEVICES"]
    try:
        import torch

        # Only when it changes: in torch 2.13's CPU build any set_num_threads call (even
        # to the current value) breaks batched LU in MKL ("Parameter 6 was incorrect on
        # entry to SLASWP") and makes it crawl.
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        info["torch"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def _shapes(value: Any, path: str = "output") -> dict[str, tuple[int, ...] | str]:
    """Each array's shape (or the kind of a non-array leaf) by its place in a structure."""
    if isinstance(value, dict):
        return {k2: v2 for k, v in value.items() for k2, v2 in _shapes(v, f"{path}[{k!r}]").items()}
    if isinstance(value, (list, tuple)):
        return {k2: v2 for i, v in enumerate(value) for k2, v2 in _shapes(v, f"{path}[{i}]").items()}
    if isinstance(value, (bool, str)) or value is None:
        return {path: type(value).__name__}
    if isinstance(value, (int, float, np.number)):  # a scalar answer is a 0-d array (a trace, a log-det)
        return {path: ()}
    if hasattr(value, "shape"):
        return {path: tuple(int(s) for s in value.shape)}
    return {path: type(value).__name__}


def output_problem(output: Any, reference: Any, inputs: dict[str, Any], task: registry.Task) -> str | None:
    """What is wrong with a float64 output's structure or shapes, or None."""
    if output is None:
        return "the method returned None"
    if task.check_output is not None:
        return task.check_output(output, reference, inputs) or None
    got, want = _shapes(output), _shapes(reference)
    if got != want:
        if set(got) != set(want):
            return f"the output's structure is {sorted(got)}, expected {sorted(want)} (the reference's)"
        diff = next(k for k in want if got[k] != want[k])
        return f"{diff} has shape {got[diff]}, expected {want[diff]} (the reference's)"
    return None


def dtype_problem(output: Any, dtype: str) -> str | None:
    """A floating array in the output that is not in the cell's dtype, or None."""
    found = sorted(set(float_dtypes(output)) - {dtype})
    if found:
        return f"the output is {', '.join(found)}, not the cell's {dtype}: it was not computed in {dtype}"
    return None


@dataclass
class PreparedCell:
    """A cell ready to call: a private copy of the inputs cast and on the device, the
    reference loaded.

    ``call()`` runs the method once and synchronizes the device, so that whoever times it
    (this harness, pytest-benchmark) measures completed work; ``evaluate(output)`` scores
    an output and gives the cell's verdict and metrics.
    """

    cell: Cell
    call: Callable[[], Any]
    data: ProblemData
    inputs: dict[str, Any]
    reference: Any
    input_bytes: int = 0  # of the inputs as the method gets them (its dtype; sparse as such)

    @property
    def inputs64(self) -> dict[str, Any]:
        return self.data.inputs

    def flops(self) -> float | None:
        """The method's FLOP model; None without one, or when the model says the count is
        not known in advance (an iterative solver whose work depends on convergence)."""
        meth = self.cell.method_obj
        count = None if meth.flops is None else meth.flops(self.inputs64, **dict(self.cell.method_params))
        return None if count is None else float(count)

    def evaluate(self, output: Any, *, wrote_input: str | None = None) -> tuple[Verdict, dict[str, float | None], str | None]:
        """(verdict, metrics, traceback of a scoring failure) of one output (in the
        backward mode: of the gradients, against the task's reference gradient)."""
        task = registry.TASKS[self.cell.problem.task]
        if self.cell.mode == "backward":
            C = modes.cotangent(np.shape(self.reference), task.symmetric_output)
            err = finite_or_none(modes.gradient_error(output, task.gradient(self.inputs64, self.reference, C)))
            verdict = judge(output_problem=wrote_input, finite=err is not None, metrics={modes.GRAD_METRIC: err},
                            scoring_error=None, own_failure=None, task=task,
                            gates=modes.mode_gates(dict(self.cell.gates), "backward"))
            return verdict, {modes.GRAD_METRIC: err}, None
        own_failure = output.failure if isinstance(output, WithInfo) else None
        value, info = split_info(output)
        problem = wrote_input or (dtype_problem(value, self.cell.dtype) if value is not None else None)
        value = to_float64(value)
        problem = problem or output_problem(value, self.reference, self.inputs64, task)
        finite = problem is not None or all_finite(value)
        metrics: dict[str, float | None] = {}
        scoring_error, tb = None, None
        if problem is None and finite:
            try:
                scores = task.score(value, self.reference, self.inputs64)
                metrics = {k: finite_or_none(v) for k, v in {**scores, **info}.items()}
            except Exception as exc:  # a scoring bug, or an output the task cannot read
                scoring_error, tb = error_reason(exc)
        verdict = judge(output_problem=problem, finite=finite, metrics=metrics, scoring_error=scoring_error,
                        own_failure=own_failure, gates=modes.mode_gates(dict(self.cell.gates), self.cell.mode), task=task)
        return verdict, metrics, tb


def prepare_cell(cell: Cell, cache_dir: Path) -> PreparedCell | Verdict:
    """Generate the inputs, make sure the reference exists, cast a copy of the inputs to
    the cell's dtype and device; or the verdict of a cell that does not run."""
    data = problem_data(cell.problem)
    verdict = check(cell, data.inputs, data.invalid)
    if verdict is not None:
        return verdict
    ensure_reference(cell.problem, cache_dir)
    inputs = to_backend(data.inputs, cell.backend, cell.dtype, cell.device)
    reference = load_reference(data, cache_dir)
    return PreparedCell(cell, bind(cell, inputs, reference), data, inputs, reference, nbytes(inputs))


def bind(cell: Cell, inputs: dict[str, Any], reference: Any = None) -> Callable[[], Any]:
    """``call()``: the cell's method on ``inputs`` with its parameters, the device
    synchronized, called as its mode says (:mod:`matrixbench.modes`; the backward mode
    shapes its cotangent like ``reference``)."""
    meth = cell.method_obj
    task = registry.TASKS[cell.problem.task]
    inputs = task.visible(inputs, meth.kind)  # the truth stays with the reference and the score
    params = dict(cell.method_params)
    sync = synchronizer(cell.backend, cell.device)
    fn = modes.compiled(meth.fn) if cell.mode == "compile" else meth.fn
    if cell.mode == "backward":
        C = to_backend({"C": modes.cotangent(np.shape(reference), task.symmetric_output)}, cell.backend, cell.dtype,
                       cell.device)["C"]
        return modes.backward_call(fn, inputs, params, task.grad_inputs, C, sync)

    if task.operators or task.entry_inputs:  # those inputs are seen through counted products or entries
        def counted() -> Any:
            given, ops = operators.wrap(inputs, task.operators)
            given, oracles = entries.wrap(given, task.entry_inputs)
            out = fn(**given, **params)
            sync()
            counts = {operators.MATVECS: sum(op.products for op in ops)} if task.operators else {}
            if task.entry_inputs:
                counts[entries.ENTRIES] = sum(o.entries for o in oracles)
            return with_counts(out, counts)

        return counted

    def call() -> Any:
        out = fn(**inputs, **params)
        sync()
        return out

    return modes.cuda_graph(call) if cell.mode == "cuda_graph" else call


def with_counts(output: Any, counts: dict[str, int]) -> WithInfo:
    """The output with what its operators and oracles counted (``matvecs``, ``entries``) as metrics."""
    if isinstance(output, WithInfo):
        return WithInfo(output.value, {**output.info, **counts}, output.failure)
    return WithInfo(output, dict(counts))


def fresh_copy(prepared: PreparedCell) -> PreparedCell:
    """The same cell on a new copy of its inputs (new memory): where the inputs happen to lie
    in memory can change a method's speed by tens of percent (cache-set and page aliasing),
    so a comparison that re-copies the inputs between rounds averages over placements
    instead of judging one."""
    cell = prepared.cell
    inputs = to_backend(prepared.data.inputs, cell.backend, cell.dtype, cell.device)
    return replace(prepared, call=bind(cell, inputs, prepared.reference), inputs=inputs)


def run_cell(cell: Cell, cache_dir: Path) -> CellResult:
    """Measure one cell; never raises for a method's failure (it becomes a verdict)."""
    result = CellResult.of(cell)
    prepared = prepare_cell(cell, cache_dir)
    if isinstance(prepared, Verdict):
        return result.set(prepared)
    result.input_checksum = prepared.data.checksum
    before_digest = checksum(prepared.inputs)
    on_cuda = cell.device == "cuda"
    if cell.mode == "compile":  # the first call compiles: timed apart, never a sample
        start = time.perf_counter()
        try:
            prepared.call()
        except Exception as exc:  # noqa: BLE001 - torch.compile cannot take this method
            reason, result.traceback = error_reason(exc)
            return result.set(Verdict("skipped", f"torch.compile cannot compile it: {reason}"))
        result.compile = {"seconds": time.perf_counter() - start, "backend": "inductor"}
    try:
        probe = Probe()
        gpu = GpuMonitor().start() if on_cuda else None
        stats = measure(prepared.call, cell.timing, CudaTimer(cell.timing.cold) if on_cuda else CpuTimer())
        result.time, result.contention = stats, probe.stop()
        if gpu is not None:
            result.gpu = gpu.stop("cuda_graph" if cell.mode == "cuda_graph" else "cuda_event", cell.timing.cold)
        output, peak, how = (cuda_peak if on_cuda else cpu_peak)(prepared.call)
        result.memory = {"peak_bytes": peak, "method": how}
        # the least traffic any implementation needs: read the inputs, write the output
        result.io = {"input_bytes": prepared.input_bytes, "output_bytes": nbytes(output),
                     "sparse": has_sparse(prepared.inputs64)}
    except Exception as exc:  # the method raised: one cell's error, not the run's
        reason, result.traceback = error_reason(exc)
        if cell.mode == "backward" and "differentiat" in str(exc):  # autograd cannot go through it
            return result.set(Verdict("skipped", f"not differentiable by autograd: {reason}"))
        return result.set(failed("raised", reason))
    wrote = None
    if checksum(prepared.inputs) != before_digest:
        wrote = "the method wrote into its input: its later calls (and the scored output) saw altered inputs"
    try:
        result.flops = prepared.flops()
        result.gflops = result.flops / stats.median / 1e9 if result.flops and stats.median > 0 else None
    except Exception as exc:
        result.notes.append(f"the FLOP model failed: {error_reason(exc)[0]}")
    verdict, result.metrics, result.traceback = prepared.evaluate(output, wrote_input=wrote)
    if len(seeds(cell)) > 1 and verdict.status in TIMED:
        trials, verdict = score_trials(prepared, verdict, result.metrics, stats.median)
        result.trials, result.metrics = trials.to_dict(), trials.medians()
    if cell.trace and cell.method_obj.trace and verdict.status in TIMED:
        try:  # once more, outside the timed calls
            result.trace = trace_cell(prepared, synchronizer(cell.backend, cell.device))
        except Exception as exc:  # noqa: BLE001 - a trace that fails is noted, the cell's verdict stands
            result.notes.append(f"the convergence trace failed: {error_reason(exc)[0]}")
    return result.set(verdict)


def score_trials(prepared: PreparedCell, verdict: Verdict, metrics: dict[str, float | None],
                 seconds: float | None) -> tuple[Trials, Verdict]:
    """The further seeds of a randomized cell, each called once on the prepared inputs and
    scored (see :mod:`matrixbench.trials`)."""
    cell = prepared.cell
    timer = CudaTimer() if cell.device == "cuda" else CpuTimer()
    return run_trials(cell, (verdict, metrics), seconds, lambda c: bind(c, prepared.inputs, prepared.reference),
                      lambda out: prepared.evaluate(out), timer)
