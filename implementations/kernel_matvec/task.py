"""The ``kernel_matvec`` contract: inputs, metrics and scoring.

Given points ``X`` (``n x d``), a kernel ``k`` with bandwidth ``s`` (Gaussian
``exp(-||x - y||^2 / (2 s^2))`` or Laplace ``exp(-||x - y||_1 / s)``,
:data:`matrixbench.entries.KERNELS`) and vectors ``V`` (``n x c``), compute ``Y = K V``
with ``K_ij = k(x_i, x_j)``: the ``n x n`` kernel matrix is never stored (``n = 10^6``
would take 8 TB). Methods get ``X``, ``V``, ``kernel`` and ``bandwidth``.

The reference (:mod:`.reference`) is exact in float64, on every output row when
``n <= rows`` and otherwise on ``rows`` output rows drawn once (seed 0, not shown to the
methods): an exact row costs ``n d`` kernel work, so all ``n`` rows of a million points
would take hours, while 2000 rows estimate the relative error to a few percent of
itself. ``V`` is standard Gaussian (seed 1), scaled to unit column norms.

Output: ``Y`` (``n x c``). Metrics, lower is better, in float64 over the checked rows:

- ``rel_error``: ``||Y[R] - Y*[R]||_F / ||Y*[R]||_F``;
- ``features``: the feature dimension of an approximate method (``2 m`` for ``m`` random
  frequencies, ``m`` Nyström landmarks; 0 for exact products), reported by the method.

The engine records each cell's peak memory (``memory``), which the tiled products bound
by their tile size.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from matrixbench.entries import KERNELS, is_kernel
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task


def make_inputs(matrix: Any, vectors: int = 1, rows: int = 2000) -> dict[str, Any]:
    """Points, kernel, bandwidth, the vectors ``V`` and how many output rows are checked."""
    if not is_kernel(matrix):
        raise ValueError("kernel_matvec needs a kernel given by its points (a kernel_* generator)")
    X = np.ascontiguousarray(np.asarray(matrix["points"], dtype=np.float64))
    V = np.random.default_rng(1).standard_normal((X.shape[0], int(vectors)))
    V /= np.linalg.norm(V, axis=0)
    return {"X": X, "V": V, "kernel": str(matrix["kernel"]), "bandwidth": float(matrix["bandwidth"]),
            "rows": int(rows)}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    X, V = inputs["X"], inputs["V"]
    if X.ndim != 2 or X.shape[0] < 2:
        return f"X must be n x d with n >= 2, got shape {X.shape}"
    if not np.all(np.isfinite(X)):
        return f"X holds {int((~np.isfinite(X)).sum())} non-finite values"
    if inputs["kernel"] not in KERNELS:
        return f"unknown kernel {inputs['kernel']!r}; known: {', '.join(KERNELS)}"
    if not inputs["bandwidth"] > 0 or not np.isfinite(inputs["bandwidth"]):
        return f"the bandwidth must be positive and finite, got {inputs['bandwidth']}"
    if V.shape[0] != X.shape[0]:
        return f"V must have n = {X.shape[0]} rows, got {V.shape}"
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    if isinstance(output, Mapping) and "rows" in output:  # the reference's own record
        return None
    want = inputs["V"].shape
    got = np.shape(output["Y"] if isinstance(output, Mapping) else output)
    return None if got == want else f"expected Y of shape {want}, got {got}"


def checked(output: Any, rows: np.ndarray) -> np.ndarray:
    """The output's values on the checked rows (the reference keeps only those)."""
    if isinstance(output, Mapping) and "rows" in output:
        return np.asarray(output["Y"], dtype=np.float64)
    Y = np.asarray(output["Y"] if isinstance(output, Mapping) else output, dtype=np.float64)
    return Y[rows]


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    rows = np.asarray(reference["rows"]).astype(np.int64)  # float64 after the engine's conversion
    want = np.asarray(reference["Y"], dtype=np.float64)
    got = checked(output, rows)
    return {"rel_error": float(np.linalg.norm(got - want) / np.linalg.norm(want))}


TASK = register_task(
    Task(
        name="kernel_matvec",
        description="K V for a kernel matrix never stored: tiled exact products, random (Fourier, orthogonal, simplex) and Nyström features.",
        metrics=(
            Metric("rel_error", "lower", doc="||Y - K V||_F / ||K V||_F on the checked rows, in float64"),
            Metric("features", "lower", unit="features", doc="feature dimension of an approximate method (0: exact)", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        example={"generator": "kernel_mixture", "params": {"n": 300, "d": 3}, "task_params": {"vectors": 2}},
        example_gates={"rel_error": {"float64": 0.5, "float32": 0.5}},
        params={
            "vectors": Param(int, 1, min=1, doc="columns of V"),
            "rows": Param(int, 2000, min=1, doc="output rows the reference computes and the error is taken over "
                                                "(all when n is at most this)"),
        },
    )
)
