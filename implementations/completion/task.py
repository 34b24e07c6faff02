"""The ``completion`` contract: inputs, metrics and scoring.

Given the entries of ``M`` (``m x n``) on a set ``Omega`` and a target rank ``r``, return
an estimate ``X`` of all of ``M``: an ``m x n`` array or factors ``{"left": L, "right": R}``
with ``X = L R``. Methods get

- ``observed``: ``P_Omega(M)`` plus the problem's corruption (zeros off ``Omega``);
- ``mask``: the 0/1 indicator of ``Omega`` (``m x n``, in the cell's dtype);
- ``rank``: ``r``.

The full ``M`` is an input only the reference and the score see (``Task.hidden``): a
method cannot read the entries it is asked to recover. ``Omega`` is drawn by
:mod:`.masks` (``uniform`` or ``power_law``) with ``rate m n`` entries, or
``oversampling`` times the degrees of freedom ``r (m + n - r)`` (the information limit:
fewer samples cannot determine a rank-``r`` matrix); its seed mixes ``mask_seed`` with a
checksum of ``M``, so each planted matrix gets its own pattern. Corruption of the observed
entries: Gaussian ``noise`` (standard deviation ``noise`` times the root mean square of
``M``) and a fraction ``outliers`` of them replaced by ``+-10 max|M|`` (gross errors, the
case of the robust method).

Metrics, lower is better, in float64:

- ``rel_error``: ``||X - M||_F / ||M||_F`` over all entries (recovery: below ``1e-3`` is
  the success criterion of the phase-transition figures of Candès and Recht 2009);
- ``rmse_heldout``: the root mean square of ``X - M`` over the entries not in ``Omega``,
  in the units of ``M``;
- ``iterations``: iterations the method ran (reported by the method).
"""

from __future__ import annotations

import zlib
from typing import Any, Mapping

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

from .masks import PATTERNS, draw_mask, sample_count

#: size of a gross error: this many times the largest entry of M
OUTLIER_SCALE = 10.0


def as_matrix(matrix: Any) -> np.ndarray:
    """The generator's matrix as one ``m x n`` float64 array (a batch of one is unwrapped)."""
    M = np.asarray(matrix, dtype=np.float64)
    if M.ndim == 3 and M.shape[0] == 1:
        M = M[0]
    if M.ndim != 2:
        raise ValueError(f"completion needs one matrix, got shape {M.shape}")
    return np.ascontiguousarray(M)


def make_inputs(matrix: Any, rank: int = 5, rate: float = 0.3, oversampling: float = 0.0,
                pattern: str = "uniform", alpha: float = 1.0, noise: float = 0.0, outliers: float = 0.0,
                mask_seed: int = 0) -> dict[str, Any]:
    """Observed entries, mask, rank and the hidden full matrix (module docstring)."""
    M = as_matrix(matrix)
    m, n = M.shape
    seed = zlib.crc32(M.tobytes()) if np.all(np.isfinite(M)) else 0
    rng = np.random.default_rng([int(mask_seed), seed])
    count = sample_count(m, n, int(rank), float(rate), float(oversampling))
    mask = draw_mask(m, n, count, pattern, float(alpha), rng)
    seen = M.copy()
    if noise > 0:
        seen += noise * np.sqrt(np.mean(M**2)) * rng.standard_normal((m, n))
    if outliers > 0:
        where = np.flatnonzero(mask)
        bad = rng.choice(where, size=int(round(outliers * len(where))), replace=False)
        seen.flat[bad] = OUTLIER_SCALE * np.abs(M).max() * rng.choice([-1.0, 1.0], size=len(bad))
    return {"observed": np.where(mask, seen, 0.0), "mask": mask.astype(np.float64), "rank": int(rank), "M": M}


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    M, mask, r = inputs["M"], inputs["mask"], inputs["rank"]
    if not np.all(np.isfinite(M)):
        return f"M holds {int((~np.isfinite(M)).sum())} non-finite values"
    if not np.any(M):
        return "M is the zero matrix: every relative error is undefined"
    if not 1 <= r < min(M.shape):
        return f"rank = {r} must be at least 1 and below min(m, n) = {min(M.shape)}"
    seen = int(mask.sum())
    if seen == mask.size:
        return "every entry is observed: nothing is held out to recover"
    if seen == 0:
        return "no entry is observed"
    return None


def estimate(output: Any) -> np.ndarray:
    """``X`` from an array or from ``{"left": L, "right": R}``."""
    if isinstance(output, Mapping):
        return np.asarray(output["left"], dtype=np.float64) @ np.asarray(output["right"], dtype=np.float64)
    return np.asarray(output, dtype=np.float64)


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    want = inputs["M"].shape
    if isinstance(output, Mapping):
        if not {"left", "right"} <= set(output):
            return "expected an m x n array or {'left': L, 'right': R}"
        L, R = np.shape(output["left"]), np.shape(output["right"])
        if len(L) != 2 or len(R) != 2 or (L[0], R[1]) != want or L[1] != R[0]:
            return f"expected left ({want[0]}, r) and right (r, {want[1]}), got {L} and {R}"
        return None
    got = np.shape(output)
    return None if got == want else f"expected X of shape {want}, got {got}"


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    M = np.asarray(inputs["M"], dtype=np.float64)
    held = np.asarray(inputs["mask"]) == 0
    E = estimate(output) - M
    return {"rel_error": float(np.linalg.norm(E) / np.linalg.norm(M)),
            "rmse_heldout": float(np.sqrt(np.mean(E[held] ** 2)))}


TASK = register_task(
    Task(
        name="completion",
        description="Low-rank matrix completion: ALS (plain, robust), soft-impute, SVT, gradient descent on factors.",
        metrics=(
            Metric("rel_error", "lower", doc="||X - M||_F / ||M||_F over all entries"),
            Metric("rmse_heldout", "lower", doc="root mean square of X - M over the entries not observed"),
            Metric("iterations", "lower", unit="iterations", doc="iterations the method ran", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        check_inputs=check_inputs,
        check_output=check_output,
        hidden=("M",),
        example={"generator": "lowrank_noise", "params": {"m": 60, "n": 50, "rank": 2, "noise": 0.0},
                 "task_params": {"rank": 2, "rate": 0.5}},
        example_gates={"rel_error": {"float64": 1e-3, "float32": 1e-2}},
        params={
            "rank": Param(int, 5, min=1, doc="target rank r the methods are told"),
            "rate": Param(float, 0.3, min=0.0, max=1.0, doc="fraction of entries observed (unless oversampling)"),
            "oversampling": Param(float, 0.0, min=0.0,
                                  doc="entries observed as a multiple of r (m + n - r); 0: use rate"),
            "pattern": Param(str, "uniform", choices=PATTERNS, doc="observation pattern (masks.py)"),
            "alpha": Param(float, 1.0, min=0.0, doc="power-law exponent of the power_law pattern"),
            "noise": Param(float, 0.0, min=0.0, doc="Gaussian noise on observed entries, relative to rms(M)"),
            "outliers": Param(float, 0.0, min=0.0, max=1.0, doc="fraction of observed entries grossly corrupted"),
            "mask_seed": Param(int, 0, min=0, doc="seed of the observation pattern (with M's checksum)"),
        },
    )
)
