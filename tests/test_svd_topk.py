"""Numbers of the svd_topk task, its methods and generators, against independent computations.

Test matrices are built as ``U diag(s) V^T`` from known orthonormal frames with a gap after
``s_k``, so the rank-k SVD is known in closed form; sparse ones are checked against
NumPy's dense SVD of the densified matrix. The Halko-Martinsson-Tropp bound is checked
over 20 seeds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch

import implementations.svd_topk  # noqa: F401  (registers the task and its methods)
import matrixbench.generators  # noqa: F401
from implementations.svd_topk import _ops, reference, task
from implementations.svd_topk.randomized import range_finder
from matrixbench.backends import split_info, to_backend, to_float64
from matrixbench.registry import GENERATORS, METHODS, methods_of

METHODS_ = sorted(f"{n}@{b}" for n, m in methods_of("svd_topk").items() for b in m.backends)


def planted(m: int, n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A = U diag(s) V^T with k values in [1, 2] and a tail at most 0.1: a clear gap."""
    rng = np.random.default_rng(seed)
    r = min(m, n)
    U = np.linalg.qr(rng.standard_normal((m, r)))[0]
    V = np.linalg.qr(rng.standard_normal((n, r)))[0]
    s = np.concatenate([np.linspace(2.0, 1.0, k), 0.1 * 0.9 ** np.arange(r - k)])
    return (U * s) @ V.T, U, s, V


def run(name: str, A, k: int, dtype: str = "float64"):
    """``name@numpy`` picks a backend (default: the method's first)."""
    name, _, backend = name.partition("@")
    meth = METHODS[("svd_topk", name)]
    inputs = to_backend({"A": A, "k": k}, backend or meth.backends[0], dtype, "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, info = split_info(meth.fn(**inputs))
    return to_float64(out), info


# --- the task: metrics against direct computations ---------------------------------------
def test_metrics_match_direct_computations():
    A, U, s, V = planted(60, 40, 5)
    inputs = task.make_inputs(A, k=5)
    ref = reference.reference(**inputs)
    assert ref["solver"] == "gesdd"
    assert ref["tail"] == pytest.approx(np.sqrt(np.sum(s[5:] ** 2)), rel=1e-12)
    # a perturbed, non-orthonormal answer: every metric against its definition
    rng = np.random.default_rng(1)
    Uo, so, Vo = U[:, :5] + 1e-3 * rng.standard_normal((60, 5)), s[:5] * 1.01, V[:, :5]
    got = task.score((Uo, so, Vo), ref, inputs)
    assert got["optimality_ratio"] == pytest.approx(
        np.linalg.norm(A - (Uo * so) @ Vo.T) / np.sqrt(np.sum(s[5:] ** 2)), rel=1e-12)
    assert got["sv_error"] == pytest.approx(0.01, rel=1e-9)
    cos = np.linalg.svd(U[:, :5].T @ np.linalg.qr(Uo)[0], compute_uv=False)
    assert got["angle_u"] == pytest.approx(np.arccos(cos.min()), rel=1e-6)
    assert got["angle_v"] < 1e-7
    assert got["orthogonality"] == pytest.approx(np.linalg.norm(Uo.T @ Uo - np.eye(5), 2), rel=1e-9)
    # the identity used for sparse inputs gives the same numerator
    got_sparse = task.score((Uo, so, Vo), ref, {"A": sp.csr_matrix(A), "k": 5})
    assert got_sparse["optimality_ratio"] == pytest.approx(got["optimality_ratio"], rel=1e-9)


def test_arpack_reference_agrees_with_dense_svd():
    A, U, s, V = planted(80, 50, 6)
    S = sp.csr_matrix(np.where(np.abs(A) > 0.02, A, 0.0))
    ref = reference.reference(A=S, k=6)
    assert ref["solver"] == "arpack"
    s_all = np.linalg.svd(S.toarray(), compute_uv=False)
    np.testing.assert_allclose(ref["s"], s_all[:6], rtol=1e-10)
    assert ref["tail"] == pytest.approx(np.sqrt(np.sum(s_all[6:] ** 2)), rel=1e-8)


def test_orth_lu_is_p_times_l():
    Y = torch.randn(300, 12, dtype=torch.float64)
    P, L, _ = torch.linalg.lu(Y)
    torch.testing.assert_close(_ops.orth_lu(Y.clone()), P @ L)
    Pn, Ln, _ = __import__("scipy.linalg").linalg.lu(Y.numpy())
    np.testing.assert_allclose(_ops.orth_lu(Y.numpy().copy()), Pn @ Ln)


# --- every method on a small dense and a small sparse problem ------------------------------
@pytest.mark.parametrize("name", METHODS_)
def test_dense_against_numpy_svd(name):
    A, U, s, V = planted(120, 70, 6, seed=2)
    out, _ = run(name, A, 6)
    Uk, sk, Vk = task.factors(out)
    np.testing.assert_allclose(sk, s[:6], rtol=1e-6)
    # the subspaces: ||U_k U_k^T - U U^T|| (sign- and rotation-free)
    assert np.linalg.norm(Uk @ Uk.T - U[:, :6] @ U[:, :6].T, 2) < 1e-5
    assert np.linalg.norm(Vk @ Vk.T - V[:, :6] @ V[:, :6].T, 2) < 1e-5


@pytest.mark.parametrize("name", [n for n in METHODS_ if METHODS[("svd_topk", n.partition("@")[0])].sparse])
def test_sparse_against_numpy_svd(name):
    A, _, _, _ = planted(150, 90, 5, seed=3)
    S = sp.csr_matrix(np.where(np.abs(A) > 0.01, A, 0.0))  # sparsified: its own SVD
    U, s, Vt = np.linalg.svd(S.toarray())
    out, _ = run(name, S, 5, "float64")
    Uk, sk, Vk = task.factors(out)
    np.testing.assert_allclose(sk, s[:5], rtol=1e-5)
    assert np.linalg.norm(Uk @ Uk.T - U[:, :5] @ U[:, :5].T, 2) < 1e-4


@pytest.mark.parametrize("name", ["randomized_svd@torch", "block_krylov@torch", "lanczos@torch"])
def test_torch_sparse_float32(name):
    A, U, s, V = planted(150, 90, 5, seed=4)
    S = sp.csr_matrix(np.where(np.abs(A) > 0.01, A, 0.0))
    out, _ = run(name, S, 5, "float32")
    np.testing.assert_allclose(task.factors(out)[1], np.linalg.svd(S.toarray(), compute_uv=False)[:5], rtol=1e-4)


def test_dense_only_methods_are_declared_so():
    dense_only = {n.partition("@")[0] for n in METHODS_ if not METHODS[("svd_topk", n.partition("@")[0])].sparse}
    assert dense_only == {"torch_svd", "numpy_svd"}


# --- the Halko-Martinsson-Tropp bound (Theorem 10.5) ---------------------------------------
@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_hmt_expected_error_bound(backend):
    """Mean over 20 seeds of ||A - Q Q^T A||_F <= (1 + k/(p-1))^{1/2} (sum_{j>k} s_j^2)^{1/2}."""
    m, n, k, p = 200, 120, 10, 5
    rng = np.random.default_rng(5)
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    s = 0.8 ** np.arange(n) + 0.05  # slow decay: the bound is nearly tight
    A = (U * s) @ V.T
    X = torch.from_numpy(A) if backend == "torch" else A
    errors = []
    for seed in range(20):
        Q = range_finder(X, k + p, q=0, seed=seed)
        Q = Q.numpy() if backend == "torch" else Q
        errors.append(np.linalg.norm(A - Q @ (Q.T @ A)))
    bound = np.sqrt(1 + k / (p - 1)) * np.sqrt(np.sum(s[k:] ** 2))
    optimal = np.sqrt(np.sum(s[k:] ** 2))
    assert optimal <= min(errors) and np.mean(errors) <= bound


# --- generators ---------------------------------------------------------------------------
def test_lowrank_decay_spectrum():
    gen = GENERATORS["lowrank_decay"].fn
    for decay, f in [("exponential", lambda i: np.exp(-i / 4.0)), ("polynomial", lambda i: (1 + i / 4.0) ** -2.0)]:
        A = gen(np.random.default_rng(0), 90, 60, effective_rank=4.0, decay=decay, tail_strength=0.0)
        s = np.linalg.svd(A, compute_uv=False)
        np.testing.assert_allclose(s[:40], f(np.arange(40)), rtol=1e-10, atol=1e-13)
    A = gen(np.random.default_rng(0), 400, 100, effective_rank=2.0, tail_strength=0.2)
    s = np.linalg.svd(A, compute_uv=False)
    assert 0.1 < s[30] < 0.25 and s[0] == pytest.approx(0.8, abs=0.05)  # tail of norm about t


def test_sparse_lowrank_density_and_determinism():
    gen = GENERATORS["sparse_lowrank"].fn
    A = gen(np.random.default_rng(0), 2000, 500, density=0.01, rank=5)
    B = gen(np.random.default_rng(0), 2000, 500, density=0.01, rank=5)
    assert sp.issparse(A) and A.shape == (2000, 500)
    assert abs(A.nnz - 10_000) < 1_000  # about density m n (the stream model draws Poisson counts)
    assert (A != B).nnz == 0
