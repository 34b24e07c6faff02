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
  in ``svd_topk``, after the last update ``T`` (the ratio ``||M_T - U S V^T||_F /
  ||M_T - (M_T)_k||_F`` is 1 at best);
- ``ratio_after_1``: the optimality ratio after the first update;
- ``drift = optimality_ratio / ratio_after_1``: how much the error grew over the stream
  relative to one update (1 for ``T = 1``; above 1 when truncation errors accumulate).
  Both come from the same explicit factors a user would read, scored against per-step
  references, so a method cannot claim a drift it did not produce; recording only the
  two ends keeps the product-form methods from paying ``2 (m + n) k^2`` at every step;
- ``ratio_max``: the worst ratio over the recorded steps (``record = all`` makes it the
  worst over the stream);
- ``updates``: T, so that the time per update is the cell's time divided by it (the
  engine's time is per call, and a call applies the whole stream).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from implementations.svd_topk.reference import reference_svd
from implementations.svd_topk.task import factors, largest_angle, residual_norm

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
    if not 1 <= k <= min(A.shape):
        raise ValueError(f"k = {k} must be in 1..min(m, n) = {min(A.shape)} of A")
    U, s, V = reference_svd(A, k)
    T = len(blocks)
    steps = tuple(range(1, T + 1)) if record == "all" else tuple(sorted({1, T}))
    return {"A": A, "U": U, "s": s, "V": V, "updates": blocks, "side": side, "record": steps}


def updated(inputs: Mapping[str, Any], t: int) -> Any:
    """``M_t``: ``A`` with the first ``t`` blocks appended (float64; sparse stays sparse)."""
    parts = [inputs["A"], *inputs["updates"][:t]]
    if scipy.sparse.issparse(parts[0]):
        stack = scipy.sparse.vstack if inputs["side"] == "rows" else scipy.sparse.hstack
        return stack(parts, format="csr")
    return np.concatenate(parts, axis=0 if inputs["side"] == "rows" else 1)


def step_scores(M: Any, out: Any, ref: Mapping[str, Any]) -> dict[str, float]:
    """The svd_topk metrics of one step's factors against that step's reference."""
    U, s, V = factors(out)
    U_ref, s_ref, V_ref = factors(ref)
    k = s_ref.shape[0]
    if U.shape != (M.shape[0], k) or s.shape != (k,) or V.shape != (M.shape[1], k):
        raise ValueError(f"svd_update step output shapes U {U.shape}, s {s.shape}, V {V.shape}; "
                         f"expected ({M.shape[0]}, {k}), ({k},), ({M.shape[1]}, {k})")
    floor = 1e-300 + 1e-15 * float(np.linalg.norm(s_ref))  # an exactly rank-k M has tail 0
    angle_u, orth_u = largest_angle(U, U_ref)
    angle_v, orth_v = largest_angle(V, V_ref)
    return {
        "optimality_ratio": residual_norm(M, U, s, V) / max(float(ref["tail"]), floor),
        "sv_error": float(np.max(np.abs(s - s_ref) / s_ref)),
        "angle_u": angle_u,
        "angle_v": angle_v,
        "orthogonality": max(orth_u, orth_v),
    }


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
        "drift": last["optimality_ratio"] / first["optimality_ratio"],
        "ratio_max": max(p["optimality_ratio"] for p in per_step),
        "updates": float(len(inputs["updates"])),
        "reference_arpack": 1.0 if reference[-1].get("solver") == "arpack" else 0.0,
    }


TASK = register_task(
    Task(
        name="svd_update",
        description="Rank-k SVD of [A; E] (or [A, E]) from a rank-k SVD of A and new rows (columns) E, "
                    "one update or a stream.",
        metrics=(
            Metric("optimality_ratio", "lower", doc="||M_T - U S V^T||_F / ||M_T - (M_T)_k||_F after the last update"),
            Metric("sv_error", "lower", doc="max_i |s_i - s_i*| / s_i* after the last update"),
            Metric("angle_u", "lower", "rad", doc="largest principal angle to the reference's span(U), last update"),
            Metric("angle_v", "lower", "rad", doc="largest principal angle to the reference's span(V), last update"),
            Metric("orthogonality", "lower", doc="max(||U^T U - I||_2, ||V^T V - I||_2) after the last update"),
            Metric("ratio_after_1", "lower", doc="optimality ratio after the first update"),
            Metric("drift", "lower", doc="optimality_ratio / ratio_after_1: error growth over the stream"),
            Metric("ratio_max", "lower", doc="worst optimality ratio over the recorded steps"),
            Metric("updates", "lower", doc="T, the updates in one call: time per update = time / T"),
            Metric("reference_arpack", "lower", doc="1 when the last reference is ARPACK's top-k, 0 for the full SVD"),
        ),
        make_inputs=make_inputs,
        score=score,
        reference="reference",
        params={
            "k": Param(int, 10, min=1, doc="rank of the truncated SVD"),
            "side": Param(str, "rows", choices=SIDES, doc="append rows [A; E] or columns [A, E]"),
            "split": Param(int, 1, min=1, doc="T blocks split off a plain matrix (ignored for a stream generator's dict)"),
            "split_size": Param(int, 100, min=1, doc="rows (columns) per block split off a plain matrix"),
            "record": Param(str, "ends", choices=RECORDS, doc="steps with explicit factors: first and last, or all"),
        },
    )
)
