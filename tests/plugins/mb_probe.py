"""A test-only task with well-behaved and misbehaving methods (not shipped in implementations/).

Task ``probe``: the output is ``2 A`` for a Gaussian ``A``; the reference computes it in
float64. Methods misbehave on purpose so that the engine's statuses can be checked.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, WithInfo, generator, method, register_task


def _make_inputs(matrix: np.ndarray, offset: float = 0.0) -> dict:
    return {"A": matrix, "offset": offset}


def _score(output, reference, inputs) -> dict:
    err = np.linalg.norm(output - reference) / np.linalg.norm(reference)
    return {"rel_error": float(err)}


register_task(Task(name="probe", description="test-only: 2A", metrics=(Metric("rel_error", "lower"),),
                   make_inputs=_make_inputs, score=_score, params={"offset": Param(float, 0.0)}))


@generator("probe_gaussian", params={"n": Param(int, min=1), "scale": Param(float, 1.0, min=0.0)})
def probe_gaussian(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    """Gaussian n x n matrix."""
    return scale * rng.standard_normal((n, n))


@generator("probe_sparse", params={"n": Param(int, min=1), "density": Param(float, 0.2, min=0.0, max=1.0)})
def probe_sparse(rng: np.random.Generator, n: int, density: float):
    """Sparse n x n (SciPy COO on purpose: the engine hands methods CSR)."""
    import scipy.sparse as sp

    return sp.random(n, n, density=density, random_state=rng, format="coo")


def _dense(M):
    return M.toarray() if hasattr(M, "toarray") else M


@method("probe", "reference", kind="reference", backend="numpy", flops=lambda inputs: inputs["A"].size, sparse=True)
def reference(A, offset=0.0):
    """Exact: 2 A + offset (dense output for sparse A too)."""
    return 2 * _dense(A) + offset


@method("probe", kind="optimized", backend="numpy", sparse=True)
def sparse_double(A, offset=0.0):
    """2 A from a SciPy CSR input, which it checks it got."""
    assert A.format == "csr", A.format
    return WithInfo(2 * _dense(A) + offset, {"nnz": A.nnz, "itemsize": A.dtype.itemsize})


@method("probe", kind="optimized", backend="torch", devices=("cpu", "cuda"), sparse=True)
def torch_sparse_double(A, offset=0.0):
    """2 A from a torch CSR input, which it checks it got."""
    import torch

    assert A.layout == torch.sparse_csr, A.layout
    return WithInfo(2 * A.to_dense() + offset, {"itemsize": A.values().element_size()})


@method("probe", kind="optimized", backend="numpy", params={"ms": Param(float, 10.0, min=0.0)})
def sleep(A, offset=0.0, ms=10.0):
    """Correct, after sleeping ``ms`` milliseconds."""
    time.sleep(ms / 1000)
    return 2 * A + offset


@method("probe", kind="optimized", backend="numpy", params={"ms": Param(float, 6.0, min=0.0)})
def spin(A, offset=0.0, ms=6.0):
    """Correct, after busy-waiting ``ms`` ms times ``$MB_PROBE_SLOWDOWN`` (a code change, same key)."""
    end = time.perf_counter() + float(os.environ.get("MB_PROBE_SLOWDOWN", "1")) * ms / 1000
    while time.perf_counter() < end:
        pass
    return 2 * A + offset


@method("probe", kind="optimized", backend="numpy", params={"ms": Param(float, 2.0, min=0.0)})
def stamp(A, offset=0.0, ms=2.0):
    """Correct, after sleeping ``ms`` ms; appends the input's size to ``$MB_PROBE_LOG``, so a
    test can see the order in which cells ran."""
    time.sleep(ms / 1000)
    with open(os.environ["MB_PROBE_LOG"], "a") as log:
        log.write(f"{A.shape[-1]}\n")
    return 2 * A + offset


@method("probe", kind="optimized", backend="numpy")
def stalls(A, offset=0.0):
    """A finite answer from an iteration that says it did not converge."""
    return WithInfo(2 * A + offset, {"iterations": 100}, failure="no convergence after 100 steps")


@method("probe", kind="optimized", backend="numpy")
def noisy(A, offset=0.0):
    """Off by a relative ``$MB_PROBE_ERROR`` (default 1e-9): an accuracy knob, same key."""
    return (2 * A + offset) * (1 + float(os.environ.get("MB_PROBE_ERROR", "1e-9")))


@method("probe", kind="optimized", backend="numpy")
def raises(A, offset=0.0):
    """Always raises."""
    raise RuntimeError("deliberate failure")


@method("probe", kind="optimized", backend="numpy")
def hangs(A, offset=0.0):
    """Never returns."""
    while True:
        time.sleep(1)


@method("probe", kind="optimized", backend="numpy")
def dies(A, offset=0.0):
    """Kills its own process."""
    os.kill(os.getpid(), signal.SIGKILL)


@method("probe", kind="optimized", backend="numpy")
def nan(A, offset=0.0):
    """Returns NaN."""
    return np.full_like(A, np.nan)


@method("probe", kind="optimized", backend="numpy", params={"mib": Param(int, 64, min=1)})
def alloc(A, offset=0.0, mib=64):
    """Touches ``mib`` MiB of scratch memory, then returns the right answer."""
    scratch = np.ones(mib * 1024 * 1024 // 8)
    return 2 * A + offset + 0 * scratch[0]


@method("probe", kind="optimized", backend="torch", devices=("cpu", "cuda"), dtypes=("float32", "float64", "bfloat16"))
def torch_double(A, offset=0.0):
    """Correct in torch; reports an extra number through WithInfo."""
    return WithInfo(2 * A + offset, {"iterations": 1})
