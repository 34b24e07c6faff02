"""The ``svd_update`` contract: inputs, metrics and scoring.

Given a rank-k SVD ``A ~ U diag(s) V^T`` of an m x n matrix and new rows ``E_1, ...,
E_T`` (r_t x n each; or new columns, ``side = columns``), dense or sparse, compute the
rank-k SVD of the updated matrix ``M_t = [A; E_1; ...; E_t]`` (``[A, E_1, ..., E_t]``)
after each update, without recomputing it from scratch. ``T = 1`` is a single update;
``T > 1`` a stream, where each update starts from the previous (approximate) answer and
errors can accumulate.

Inputs (``make_inputs``): ``A`` itself (the recompute baseline and the reference need
it; an update method ignores it), its rank-k SVD ``U, s, V`` (float64 reference SVD,
computed once per problem: the state a stream starts from), ``updates`` (the list of
blocks, kept sparse when sparse), ``side`` and ``record``: the steps (1-based) after
which a method hands back explicit factors. ``record = ends`` asks for steps 1 and T,
``all`` for every step. A method returns a list of ``(U, s, V)``, one per recorded step.
Where the matrix comes from:

- the ``sparse_stream`` generator (a dict ``{"A", "updates"}``) gives the blocks as row
  blocks; ``side = columns`` transposes everything (``[A^T, E_1^T, ...]``);
- any other generator gives one matrix (dense or sparse, a batch of one is squeezed);
  its last ``split * split_size`` rows (or columns) are split off into the blocks.

Metrics, against the float64 rank-k SVD of ``M_t`` recomputed from scratch (the
``svd_topk`` reference: full SVD or ARPACK at tolerance 0):

- ``optimality_ratio``, ``sv_error``, ``angle_u``, ``angle_v``, ``orthogonality``: as
  in ``svd_topk`` (:func:`implementations.svd_topk.task.svd_metrics`, floors included:
  the tail of ``M_t`` is floored at the rounding level ``eps ||M_t||_F``, each
  ``s_i^*`` at ``eps s_1^*``, ``eps = 10 sqrt(min(m_t, n_t)) u``, and the angles compare
  the columns above that level; see that module for why), after the last update ``T``
  (the ratio ``||M_T - U S V^T||_F / ||M_T - (M_T)_k||_F`` is 1 at best);
- ``ratio_after_1``: the optimality ratio after the first update;
- ``drift = max(optimality_ratio, 1) / max(ratio_after_1, 1)``: how much the error grew
  over the stream relative to one update (1 for ``T = 1``; above 1 when truncation
  errors accumulate). A ratio is at least 1 in exact arithmetic (Eckart-Young); below 1
  it only says "optimal up to rounding" (``k >= rank(M_t)``, where the floor decides),
  so both are clipped at 1 first: otherwise two rounding-level ratios (even a 0 from
  the cancelling identity) would make a meaningless or infinite drift. Both come from
  the same explicit factors a user would read, scored against per-step references, so a
  method cannot claim a drift it did not produce; recording only the two ends keeps the
  product-form methods from paying ``2 (m + n) k^2`` at every step;
- ``ratio_max``: the worst ratio over the recorded steps (``record = all`` makes it the
  worst over the stream);
- ``updates``: T, so that the time per update is the cell's time divided by it (the
  engine's time is per call, and a call applies the whole stream).

Preconditions (:func:`check_inputs`; the problem is ``invalid`` otherwise): ``A`` and
the blocks finite, blocks that fit ``A`` (``r_t x n`` for rows, ``m x r_t`` for
columns), ``1 <= k <= min(m, n)`` of ``A``. Output (:func:`check_output`): a list with
one ``(U, s, V)`` per recorded step, each of the shapes of that step's ``M_t``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.svd_topk.reference import reference_svd
from implementations.svd_topk.task import check_factors, check_rank, svd_metrics

SIDES = ("rows", "columns")
RECORDS = ("ends", "all")


def _matrix(x: Any) -> Any:
    if scipy.sparse.issparse(x):
        return scipy.sparse.csr_matrix(x, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2:
        raise ValueError(f"svd_update needs m x n matrices; got shape {x.shape}")
    return np.ascontiguousarray(x)


def _transpose(x: Any) -> Any:
    return x.T.tocsr() if scipy.sparse.issparse(x) else np.ascontiguousarray(x.T)


def _split(M: Any, side: str, updates: int, block: int) -> tuple[Any, list[Any]]:
    """The last ``updates * block`` rows (columns) of ``M`` as ``updates`` blocks; the rest is ``A``."""
    size = M.shape[0] if side == "rows" else M.shape[1]
    first = size - updates * block
    if first < 1:
        raise ValueError(f"{updates} blocks of {block} {side} leave nothing of a {M.shape} matrix")
    cuts = [first + i * block for i in range(updates + 1)]
    if side == "rows":
        return M[:first], [M[a:b] for a, b in zip(cuts, cuts[1:])]
    M = M.tocsc() if scipy.sparse.issparse(M) else M
    part = (lambda a, b: M[:, a:b].tocsr()) if scipy.sparse.issparse(M) else (lambda a, b: np.ascontiguousarray(M[:, a:b]))
    return part(0, first), [part(a, b) for a, b in zip(cuts, cuts[1:])]


def make_inputs(matrix: Any, k: int = 10, side: str = "rows", split: int = 1, split_size: int = 100,
                record: str = "ends") -> dict[str, Any]:
    """``{"A", "U", "s", "V", "updates", "side", "record"}``: see the module docstring."""
    if isinstance(matrix, dict):
        A = _matrix(matrix["A"])
        blocks = [_matrix(E) for E in (matrix["updates"] if "updates" in matrix else [matrix["E"]])]
        if side == "columns":
            A, blocks = _transpose(A), [_transpose(E) for E in blocks]
    else:
        A, blocks = _split(_matrix(matrix), side, split, split_size)
    if not blocks:
        raise ValueError("svd_update needs at least one update")
    T = len(blocks)
    steps = tuple(range(1, T + 1)) if record == "all" else tuple(sorted({1, T}))
    inputs = {"A": A, "updates": blocks, "side": side, "record": steps}
    if check_rank(int(k), A.shape) is None:  # the starting SVD, computed once per problem
        U, s, V = reference_svd(A, k)
    else:
        # k outside 1..min(m, n): check_inputs reports it and the problem never runs. No
        # SVD to start from: k NaN values (so that check_inputs reads the k asked for,
        # and anything that ran anyway would give NaN, never a plausible number) and
        # factors without columns.
        U, s, V = np.zeros((A.shape[0], 0)), np.full(max(int(k), 0), np.nan), np.zeros((A.shape[1], 0))
    inputs.update({"U": U, "s": s, "V": V})
    return inputs


def _rank(inputs: Mapping[str, Any]) -> int:
    """k, the length of the starting ``s``."""
    return int(np.shape(inputs["s"])[0])


def _finite(x: Any) -> bool:
    return bool(np.all(np.isfinite(x.data if scipy.sparse.issparse(x) else x)))


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """Finite ``A`` and blocks, blocks that fit ``A``, and ``1 <= k <= min(m, n)`` of ``A``.

    ``k`` (the length of the starting ``s``) is checked on ``A``, the matrix the starting
    SVD is of; every ``M_t`` is larger. The starting factors themselves are not checked:
    :func:`make_inputs` computes them (or, for an invalid ``k``, leaves placeholders).
    """
    A, side = inputs["A"], inputs["side"]
    if side not in SIDES:
        return f"side must be one of {SIDES}; got {side!r}"
    if not _finite(A):
        return "A has NaN or Inf entries"
    m, n = A.shape
    for t, E in enumerate(inputs["updates"], start=1):
        fits = E.shape[1] == n if side == "rows" else E.shape[0] == m
        if E.ndim != 2 or not fits:
            want = f"(r, {n})" if side == "rows" else f"({m}, r)"
            return f"update {t} has shape {E.shape}; appending {side} to a {m} x {n} A needs {want}"
        if not _finite(E):
            return f"update {t} has NaN or Inf entries"
    return check_rank(_rank(inputs), A.shape)


def step_shape(inputs: Mapping[str, Any], t: int) -> tuple[int, int]:
    """The shape of ``M_t`` without forming it."""
    m, n = inputs["A"].shape
    extra = sum(E.shape[0] if inputs["side"] == "rows" else E.shape[1] for E in inputs["updates"][:t])
    return (m + extra, n) if inputs["side"] == "rows" else (m, n + extra)


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    """One ``(U, s, V)`` per recorded step (a list or tuple of them), each of the shapes of
    that step's ``M_t``: ``U`` ``(m_t, k)``, ``s`` ``(k,)`` descending, ``V`` ``(n_t, k)``."""
    steps = inputs["record"]
    if not isinstance(output, (list, tuple)):
        return (f"svd_update output must be a list of (U, s, V), one per recorded step {tuple(steps)}; "
                f"got {type(output).__name__}")
    if len(output) != len(steps):
        return f"svd_update output has {len(output)} (U, s, V); expected one per recorded step {tuple(steps)}"
    k = _rank(inputs)
    for t, out in zip(steps, output):
        problem = check_factors(out, *step_shape(inputs, t), k, what=f"step {t}")
        if problem:
            return problem
    return None


def updated(inputs: Mapping[str, Any], t: int) -> Any:
    """``M_t``: ``A`` with the first ``t`` blocks appended (float64; sparse stays sparse)."""
    parts = [inputs["A"], *inputs["updates"][:t]]
    if scipy.sparse.issparse(parts[0]):
        stack = scipy.sparse.vstack if inputs["side"] == "rows" else scipy.sparse.hstack
        return stack(parts, format="csr")
    return np.concatenate(parts, axis=0 if inputs["side"] == "rows" else 1)


def step_scores(M: Any, out: Any, ref: Mapping[str, Any]) -> dict[str, float]:
    """The svd_topk metrics of one step's factors against that step's reference."""
    return svd_metrics(M, out, ref)


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    steps = inputs["record"]
    if len(output) != len(steps) or len(reference) != len(steps):
        raise ValueError(f"svd_update expects one (U, s, V) per recorded step {steps}; "
                         f"got {len(output)} outputs and {len(reference)} references")
    per_step = [step_scores(updated(inputs, t), out, ref) for t, out, ref in zip(steps, output, reference)]
    last, first = per_step[-1], per_step[0]
    return {
        **last,
        "ratio_after_1": first["optimality_ratio"],
        "drift": max(last["optimality_ratio"], 1.0) / max(first["optimality_ratio"], 1.0),
        "ratio_max": max(p["optimality_ratio"] for p in per_step),
        "updates": float(len(inputs["updates"])),
        "reference_arpack": 1.0 if reference[-1].get("solver") == "arpack" else 0.0,
    }


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"optimality_ratio": {"float64": 1.1, "float32": 1.1}}

TASK = register_task(
    Task(
        name="svd_update",
        description="Rank-k SVD of [A; E] (or [A, E]) from a rank-k SVD of A and new rows (columns) E, "
                    "one update or a stream.",
        metrics=(
            Metric("optimality_ratio", "lower", doc="||M_T - U S V^T||_F / ||M_T - (M_T)_k||_F after the last update", scale="ratio"),
            Metric("sv_error", "lower", doc="max_i |s_i - s_i*| / s_i* after the last update"),
            Metric("angle_u", "lower", "rad", doc="largest principal angle to the reference's span(U), last update"),
            Metric("angle_v", "lower", "rad", doc="largest principal angle to the reference's span(V), last update"),
            Metric("orthogonality", "lower", doc="max(||U^T U - I||_2, ||V^T V - I||_2) after the last update"),
            Metric("ratio_after_1", "lower", doc="optimality ratio after the first update", scale="ratio"),
            Metric("drift", "lower", doc="max(optimality_ratio, 1) / max(ratio_after_1, 1): error growth over the stream", scale="ratio"),
            Metric("ratio_max", "lower", doc="worst optimality ratio over the recorded steps"),
            Metric("updates", "lower", doc="T, the updates in one call: time per update = time / T", scale="count"),
            Metric("reference_arpack", "lower", doc="1 when the last reference is ARPACK's top-k, 0 for the full SVD", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "sparse_stream", "params": {"m": 300, "n": 80, "nnz": 3000, "rank": 5, "updates": 2, "block": 20}, "task_params": {"k": 5}},
        example_gates=EXAMPLE_GATES,
        reference="reference",
        check_inputs=check_inputs,
        check_output=check_output,
        params={
            "k": Param(int, 10, min=1, doc="rank of the truncated SVD"),
            "side": Param(str, "rows", choices=SIDES, doc="append rows [A; E] or columns [A, E]"),
            "split": Param(int, 1, min=1, doc="T blocks split off a plain matrix (ignored for a stream generator's dict)"),
            "split_size": Param(int, 100, min=1, doc="rows (columns) per block split off a plain matrix"),
            "record": Param(str, "ends", choices=RECORDS, doc="steps with explicit factors: first and last, or all"),
        },
    )
)
