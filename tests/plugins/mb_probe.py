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


def _check_inputs(inputs) -> str | None:
    """The probe's precondition: a finite A."""
    A = inputs["A"]
    bad = int(np.size(A) - np.isfinite(A.data if hasattr(A, "nnz") else A).sum()) if not hasattr(A, "nnz") else 0
    return f"A has {bad} non-finite entries" if bad else None


register_task(Task(name="probe", description="test-only: 2A", metrics=(Metric("rel_error", "lower"),),
                   make_inputs=_make_inputs, score=_score, params={"offset": Param(float, 0.0)},
                   check_inputs=_check_inputs))


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


@method("probe", "reference", kind="reference", backends=("numpy",), flops=lambda inputs: inputs["A"].size, sparse=True)
def reference(A, offset=0.0):
    """Exact: 2 A + offset (dense output for sparse A too)."""
    return 2 * _dense(A) + offset


@method("probe", kind="optimized", backends=("numpy",), sparse=True)
def sparse_double(A, offset=0.0):
    """2 A from a SciPy CSR input, which it checks it got."""
    assert A.format == "csr", A.format
    return WithInfo(2 * _dense(A) + offset, {"nnz": A.nnz, "itemsize": A.dtype.itemsize})


@method("probe", kind="optimized", backends=("torch",), devices=("cpu", "cuda"), sparse=True)
def torch_sparse_double(A, offset=0.0):
    """2 A from a torch CSR input, which it checks it got."""
    import torch

    assert A.layout == torch.sparse_csr, A.layout
    return WithInfo(2 * A.to_dense() + offset, {"itemsize": A.values().element_size()})


@method("probe", kind="optimized", backends=("numpy",), params={"ms": Param(float, 10.0, min=0.0)})
def sleep(A, offset=0.0, ms=10.0):
    """Correct, after sleeping ``ms`` milliseconds."""
    time.sleep(ms / 1000)
    return 2 * A + offset


@method("probe", kind="optimized", backends=("numpy",), params={"ms": Param(float, 6.0, min=0.0)})
def spin(A, offset=0.0, ms=6.0):
    """Correct, after busy-waiting ``ms`` ms times ``$MB_PROBE_SLOWDOWN`` (a code change, same key)."""
    end = time.perf_counter() + float(os.environ.get("MB_PROBE_SLOWDOWN", "1")) * ms / 1000
    while time.perf_counter() < end:
        pass
    return 2 * A + offset


@method("probe", kind="optimized", backends=("numpy",), params={"ms": Param(float, 2.0, min=0.0)})
def stamp(A, offset=0.0, ms=2.0):
    """Correct, after sleeping ``ms`` ms; appends the input's size to ``$MB_PROBE_LOG``, so a
    test can see the order in which cells ran."""
    time.sleep(ms / 1000)
    with open(os.environ["MB_PROBE_LOG"], "a") as log:
        log.write(f"{A.shape[-1]}\n")
    return 2 * A + offset


@method("probe", kind="optimized", backends=("numpy",))
def stalls(A, offset=0.0):
    """A finite answer from an iteration that says it did not converge."""
    return WithInfo(2 * A + offset, {"iterations": 100}, failure="no convergence after 100 steps")


@method("probe", kind="optimized", backends=("numpy",))
def noisy(A, offset=0.0):
    """Off by a relative ``$MB_PROBE_ERROR`` (default 1e-9): an accuracy knob, same key."""
    return (2 * A + offset) * (1 + float(os.environ.get("MB_PROBE_ERROR", "1e-9")))


@method("probe", kind="optimized", backends=("numpy",))
def raises(A, offset=0.0):
    """Always raises."""
    raise RuntimeError("deliberate failure")


@method("probe", kind="optimized", backends=("numpy",))
def hangs(A, offset=0.0):
    """Never returns."""
    while True:
        time.sleep(1)


@method("probe", kind="optimized", backends=("numpy",))
def dies(A, offset=0.0):
    """Kills its own process."""
    os.kill(os.getpid(), signal.SIGKILL)


@method("probe", kind="optimized", backends=("numpy",))
def nan(A, offset=0.0):
    """Returns NaN."""
    return np.full_like(A, np.nan)


@method("probe", kind="optimized", backends=("numpy",), params={"mib": Param(int, 64, min=1)})
def alloc(A, offset=0.0, mib=64):
    """Touches ``mib`` MiB of scratch memory, then returns the right answer."""
    scratch = np.ones(mib * 1024 * 1024 // 8)
    return 2 * A + offset + 0 * scratch[0]


@method("probe", kind="optimized", backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64", "bfloat16"))
def torch_double(A, offset=0.0):
    """Correct in torch; reports an extra number through WithInfo."""
    return WithInfo(2 * A + offset, {"iterations": 1})


# ---- more misbehaviour: each must cost one cell, with a status and a reason


@method("probe", kind="optimized", backends=("numpy",))
def aborts(A, offset=0.0):
    """Calls abort(3): SIGABRT, as a failed C assertion would."""
    os.abort()


@method("probe", kind="optimized", backends=("numpy",))
def segfaults(A, offset=0.0):
    """Reads address 0: SIGSEGV, as a bad native extension would."""
    import ctypes

    return ctypes.string_at(0)


@method("probe", kind="optimized", backends=("numpy",))
def exits(A, offset=0.0):
    """Calls sys.exit, as a careless script would."""
    import sys

    sys.exit(3)


@method("probe", kind="optimized", backends=("numpy",))
def inf(A, offset=0.0):
    """Returns +Inf."""
    return np.full_like(A, np.inf)


@method("probe", kind="optimized", backends=("numpy",))
def overflows(A, offset=0.0):
    """A finite output whose error overflows: the metric is Inf."""
    return np.full_like(A, 1e308)


@method("probe", kind="optimized", backends=("numpy",))
def nan_info(A, offset=0.0):
    """The right answer, with NaN in its extra numbers."""
    return WithInfo(2 * A + offset, {"iterations": float("nan")})


@method("probe", kind="optimized", backends=("numpy",))
def wrong_shape(A, offset=0.0):
    """One row of the answer: (1, n), which would broadcast against (n, n)."""
    return (2 * A + offset)[:1]


@method("probe", kind="optimized", backends=("numpy",))
def scalar(A, offset=0.0):
    """A scalar, which would broadcast against anything."""
    return np.float64(2 * A[0, 0] + offset)


@method("probe", kind="optimized", backends=("numpy",))
def returns_none(A, offset=0.0):
    """Forgets to return."""
    2 * A + offset


@method("probe", kind="optimized", backends=("numpy",))
def upcasts(A, offset=0.0):
    """Computes in float64 whatever it is given."""
    return 2 * A.astype(np.float64) + offset


@method("probe", kind="optimized", backends=("numpy",))
def scribbles(A, offset=0.0):
    """The right answer, computed in place: it overwrites its input."""
    A *= 2
    A += offset
    return A


@method("probe", kind="optimized", backends=("torch",))
def torch_scribbles(A, offset=0.0):
    """The right answer, computed in place on a torch tensor (shares memory when float64 on CPU)."""
    return A.mul_(2).add_(offset)


@method("probe", kind="optimized", backends=("numpy",))
def leaks_thread(A, offset=0.0):
    """The right answer, leaving a busy thread behind that would slow every later cell."""
    import threading

    def burn() -> None:
        while True:
            pass

    threading.Thread(target=burn, daemon=True).start()
    return 2 * A + offset


def _square_only(inputs, **params):
    A = inputs["A"]
    return None if A.shape[0] == A.shape[1] else f"needs a square matrix; got {A.shape[0]} x {A.shape[1]}"


@method("probe", kind="optimized", backends=("numpy",), applies=_square_only)
def square_only(A, offset=0.0):
    """Declares that it needs a square matrix."""
    return 2 * A + offset


@generator("probe_rect", params={"m": Param(int, min=1), "n": Param(int, min=1)})
def probe_rect(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    """Gaussian m x n matrix."""
    return rng.standard_normal((m, n))


@generator("probe_zero", params={"n": Param(int, min=1)})
def probe_zero(rng: np.random.Generator, n: int) -> np.ndarray:
    """The zero matrix: relative errors are 0/0 unless floored."""
    return np.zeros((n, n))


@generator("probe_nonfinite", params={"n": Param(int, min=1)})
def probe_nonfinite(rng: np.random.Generator, n: int) -> np.ndarray:
    """A matrix with a NaN: breaks the probe task's precondition."""
    A = rng.standard_normal((n, n))
    A[0, 0] = np.nan
    return A


# ---- hostile matrices for the shipped tasks (as in peers' own test suites)


@generator("probe_nonsymmetric", params={"n": Param(int, min=2)})
def probe_nonsymmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    """An SPD matrix plus a skew part of 40% of its size: not symmetric."""
    G = rng.standard_normal((n, n))
    S = G @ G.T / n + np.eye(n)
    K = rng.standard_normal((n, n))
    K = K - K.T
    return S + 0.4 * np.linalg.norm(S) / np.linalg.norm(K) * K


@generator("probe_indefinite", params={"n": Param(int, min=2)})
def probe_indefinite(rng: np.random.Generator, n: int) -> np.ndarray:
    """Symmetric with eigenvalues of both signs: Q diag(-1, 1, 2, ...) Q^T."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.linspace(1.0, 2.0, n)
    lam[0] = -1.0
    return (Q * lam) @ Q.T


@generator("probe_lstsq", params={"m": Param(int, min=1), "n": Param(int, min=1),
                                  "consistent": Param(bool, False), "zero_solution": Param(bool, False)})
def probe_lstsq(rng: np.random.Generator, m: int, n: int, consistent: bool = False, zero_solution: bool = False):
    """``{"A", "b"}``: Gaussian A; b orthogonal to range(A) (x* = 0), in it (r* = 0), or generic."""
    A = rng.standard_normal((m, n))
    g = rng.standard_normal(m)
    Q, _ = np.linalg.qr(A)
    if zero_solution:
        b = g - Q @ (Q.T @ g)
    elif consistent:
        b = A @ rng.standard_normal(n)
    else:
        b = g
    return {"A": A, "b": b}


@method("probe", kind="optimized", backends=("numpy",),
        params={"seed": Param(int, 0, min=0), "bad_seed": Param(int, -1, doc="the seed that returns NaN (-1: none)")})
def seeded(A, offset=0.0, seed=0, bad_seed=-1):
    """2 A with a seeded relative perturbation of size (1 + seed) 1e-6; NaN for ``bad_seed``."""
    if seed == bad_seed:
        return np.full_like(A, np.nan)
    return 2 * A * (1 + (1 + seed) * 1e-6) + offset


@method("probe", kind="optimized", backends=("numpy",))
def kills_runner(A, offset=0.0):
    """Kills the ``matrixbench run`` process that ran it (the worker's parent), once: the
    first call creates ``$MB_PROBE_KILL_MARKER``; later calls (a resumed run) compute 2 A."""
    marker = os.environ.get("MB_PROBE_KILL_MARKER")
    if marker and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(5)
    return 2 * A + offset
