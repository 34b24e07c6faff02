"""Numbers of the svd_update task, its methods and its stream generator, against independent computations.

The checks rest on dense NumPy SVDs of the updated matrix, never on the methods' own
algebra: when ``A`` has rank exactly k, the rank-k SVD of ``[A; E]`` is what every
Rayleigh-Ritz update must return (Zha and Simon 1999: the update is then exact), for any
``E``; the stream's per-step optimality ratios and drift are recomputed here by brute
force; the generator's planted part has rank ``rank`` by construction.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import implementations.svd_update  # noqa: F401  (registers the task and its methods)
from implementations.svd_update import task
from matrixbench.backends import as_float64, to_backend, to_float64
from implementations.svd_update.generators import sparse_stream
from matrixbench.registry import METHODS

UPDATERS = ("zha_simon@numpy", "zha_simon@torch", "brand@numpy", "brand@torch", "sparse_update@numpy",
            "sparse_update@torch")

warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")


def run(name: str, inputs: dict, dtype: str = "float64", **params) -> list:
    """Call a registered method as the engine does: inputs cast, output back to float64
    (``name@torch`` picks a backend; default: the method's first)."""
    name, _, backend = name.partition("@")
    m = METHODS[("svd_update", name)]
    return to_float64(m.fn(**to_backend(inputs, backend or m.backends[0], dtype, "cpu"), **params))


def best_rank_k(M: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense NumPy: (M_k, all singular values)."""
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    return (U[:, :k] * s[:k]) @ Vt[:k], s


@pytest.mark.parametrize("side", ["rows", "columns"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("name", UPDATERS)
def test_exact_when_A_has_rank_k(name: str, sparse: bool, side: str) -> None:
    rng = np.random.default_rng(1)
    k, m, n, r = 5, 70, 40, 7
    A = rng.standard_normal((m, k)) @ rng.standard_normal((k, n))  # rank exactly k
    E = rng.standard_normal((r, n)) * (rng.random((r, n)) < 0.2) if side == "rows" else \
        rng.standard_normal((m, r)) * (rng.random((m, r)) < 0.2)
    M = np.vstack([A, E]) if side == "rows" else np.hstack([A, E])
    parts = {"A": sp.csr_matrix(A) if sparse else A, "E": sp.csr_matrix(E) if sparse else E}
    if side == "columns":  # the task transposes dict inputs for columns: hand it [A; E]^T's parts
        parts = {"A": parts["A"].T, "E": parts["E"].T}
        M = np.vstack([A.T, E.T]).T
    inputs = task.make_inputs(as_float64(parts), k=k, side=side)
    (U, s, V), = run(name, inputs)
    Mk, s_all = best_rank_k(M, k)
    np.testing.assert_allclose(s, s_all[:k], rtol=1e-10)
    assert np.linalg.norm((U * s) @ V.T - Mk) <= 1e-10 * np.linalg.norm(Mk)
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-10)
    np.testing.assert_allclose(V.T @ V, np.eye(k), atol=1e-10)


def small_stream(T: int = 4, k: int = 8) -> dict:
    g = sparse_stream(np.random.default_rng(3), 400, 120, 6000, rank=12, decay=0.85, updates=T, block=10)
    return task.make_inputs(as_float64(g), k=k, record="all")


def test_stream_drift_metrics_match_brute_force() -> None:
    inputs = small_stream()
    out = run("zha_simon", inputs)
    ref = run("reference", inputs)
    metrics = task.score(out, ref, inputs)
    dense = [inputs["A"].toarray()]
    ratios = []
    for t, (U, s, V) in enumerate(out, start=1):
        dense.append(inputs["updates"][t - 1].toarray())
        M = np.vstack(dense)
        _, s_all = best_rank_k(M, 8)
        ratios.append(np.linalg.norm(M - (U * s) @ V.T) / np.sqrt(np.sum(s_all[8:] ** 2)))
    assert len(ratios) == 4 and metrics["updates"] == 4
    assert metrics["ratio_after_1"] == pytest.approx(ratios[0], rel=1e-9)
    assert metrics["optimality_ratio"] == pytest.approx(ratios[-1], rel=1e-9)
    assert metrics["drift"] == pytest.approx(ratios[-1] / ratios[0], rel=1e-9)
    assert metrics["ratio_max"] == pytest.approx(max(ratios), rel=1e-9)
    assert ratios[0] > 1.0 + 1e-6  # A was truncated: the updates are not exact here, so drift is measurable


def test_updaters_agree_on_a_stream() -> None:
    """Same small problem F at every step: the methods differ only in bookkeeping and rounding."""
    inputs = small_stream()
    base = run("zha_simon", inputs)
    for name in UPDATERS[1:]:
        for (U, s, V), (U0, s0, V0) in zip(run(name, inputs), base):
            np.testing.assert_allclose(s, s0, rtol=1e-9)
            P, P0 = (U * s) @ V.T, (U0 * s0) @ V0.T
            assert np.linalg.norm(P - P0) <= 1e-9 * np.linalg.norm(P0)


def test_float32_and_recompute_baseline() -> None:
    inputs = small_stream(T=2)
    ref = run("reference", inputs)
    exact = task.score(run("sparse_update", inputs), ref, inputs)["optimality_ratio"]
    for name in ("sparse_update@torch", "brand", "zha_simon@torch"):
        got = task.score(run(name, inputs, "float32"), ref, inputs)["optimality_ratio"]
        assert got == pytest.approx(exact, rel=1e-4)
    for name in ("recompute_randomized@numpy", "recompute_randomized@torch"):
        metrics = task.score(run(name, inputs, q=6), ref, inputs)
        assert 1.0 - 1e-9 <= metrics["optimality_ratio"] < 1.01
        assert metrics["drift"] == pytest.approx(1.0, abs=0.01)  # recomputing never accumulates


def test_plain_matrix_is_split_into_blocks() -> None:
    M = np.random.default_rng(0).standard_normal((30, 20))
    inputs = task.make_inputs(M, k=3, side="columns", split=2, split_size=4)
    assert inputs["A"].shape == (30, 12) and [E.shape for E in inputs["updates"]] == [(30, 4), (30, 4)]
    np.testing.assert_array_equal(task.updated(inputs, 2), M)
    assert inputs["record"] == (1, 2)


def test_sparse_stream_generator() -> None:
    g1 = sparse_stream(np.random.default_rng(5), 3000, 500, 30000, rank=6, updates=3, block=50)
    g2 = sparse_stream(np.random.default_rng(5), 3000, 500, 30000, rank=6, updates=3, block=50)
    assert (g1["A"] != g2["A"]).nnz == 0  # deterministic
    assert abs(g1["A"].nnz - 30000) < 0.1 * 30000
    for E in g1["updates"]:
        assert E.shape == (50, 500) and sp.issparse(E)
    per_row = np.mean([E.nnz for E in g1["updates"]]) / 50
    assert per_row == pytest.approx(g1["A"].nnz / 3000, rel=0.5)  # density matched
    # without noise, the planted part has rank `rank`, old and new rows together
    g = sparse_stream(np.random.default_rng(6), 2000, 300, 20000, rank=6, signal=1.0, noise=0.0, updates=2, block=50)
    s = np.linalg.svd(sp.vstack([g["A"], *g["updates"]]).toarray(), compute_uv=False)
    assert s[6] <= 1e-10 * s[0] and s[5] > 1e-3 * s[0]
