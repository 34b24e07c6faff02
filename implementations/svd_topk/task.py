"""The ``svd_topk`` contract: inputs, metrics and scoring.

Given ``A`` (m x n, dense or SciPy sparse) and a rank ``k`` (task parameter), compute
``(U_k, s_k, V_k)``: ``U_k`` m x k, ``s_k`` the k largest singular values, descending,
``V_k`` n x k, so that ``U_k diag(s_k) V_k^T`` approximates ``A`` in rank k. The
reference (``reference.py``) is a dict holding also ``tail = ||A - A_k||_F`` and which
solver produced it.

Metrics (lower is better for all):

- ``optimality_ratio = ||A - U diag(s) V^T||_F / ||A - A_k||_F`` (1 is optimal, by
  Eckart-Young). The numerator is formed directly for dense ``A`` of at most
  :data:`DIRECT_LIMIT` entries; otherwise (sparse or large) without densifying, by the
  identity, valid for any ``U``, ``V`` (orthonormal or not)::

      ||A - U S V^T||_F^2 = ||A||_F^2 - 2 sum_i s_i u_i^T A v_i + tr((U^T U) S (V^T V) S)

  one product ``A V`` and two k x k Gram matrices. It cancels: the result has an
  absolute error of about ``u ||A||_F^2``, harmless unless the tail is below about
  ``1e-6 ||A||_F``. The denominator is the reference's ``tail``: exact from the whole
  spectrum when the reference is the full SVD, ``(||A||_F^2 - sum_{i<=k} s_i^{*2})^{1/2}``
  from the ARPACK top-k otherwise (same caveat).
- ``sv_error = max_i |s_i - s_i^*| / s_i^*``: the worst relative error of the k singular
  values (relative to each value, not to ``s_1``: the k-th is the one randomized methods
  get wrong, and scaling by ``s_1`` would hide it).
- ``angle_u``, ``angle_v``: the largest principal angle (radians) between ``span(U)`` and
  the reference's ``span(U^*)`` (``V`` likewise). With ``G = U^T U = L L^T`` (Cholesky)
  and ``C = U^{*T} U L^{-T}`` the cosines are the singular values of ``C`` (Bjorck &
  Golub, Math. Comp. 27, 1973); ``angle = arccos(min cos)``, resolved down to about
  ``1e-8`` in float64. Meaningful only when ``s_k > s_{k+1}`` (the subspace is then
  well defined; its sensitivity is ``1 / (s_k - s_{k+1})``): judge ``optimality_ratio``
  on matrices without a gap.
- ``orthogonality = max(||U^T U - I||_2, ||V^T V - I||_2)``: how orthonormal the factors
  are (a byproduct of the Gram matrices above).
- ``reference_arpack``: 1 when the reference came from ARPACK (sparse or large input,
  ratio from the top-k identity), 0 when from the full SVD. A record, not a score.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse

from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

#: Dense inputs up to this many entries get the residual formed explicitly (in blocks).
DIRECT_LIMIT = 50_000_000
_BLOCK_ROWS = 4096


def make_inputs(matrix: Any, k: int = 10) -> dict[str, Any]:
    """``{"A": A, "k": k}``: ``A`` 2-D (dense float64 or SciPy CSR); a batch of one is squeezed."""
    A = matrix["A"] if isinstance(matrix, dict) else matrix
    if not scipy.sparse.issparse(A):
        A = np.asarray(A, dtype=np.float64)
        if A.ndim == 3 and A.shape[0] == 1:
            A = np.ascontiguousarray(A[0])
        if A.ndim != 2:
            raise ValueError(f"svd_topk needs one m x n matrix; got shape {A.shape}")
    if not 1 <= k <= min(A.shape):
        raise ValueError(f"k = {k} must be in 1..min(m, n) = {min(A.shape)}")
    return {"A": A, "k": int(k)}


def factors(output: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(U, s, V)`` from a method's tuple or the reference's dict, as float64."""
    if isinstance(output, dict):
        output = (output["U"], output["s"], output["V"])
    U, s, V = output
    return np.asarray(U, np.float64), np.asarray(s, np.float64).ravel(), np.asarray(V, np.float64)


def residual_norm(A: Any, U: np.ndarray, s: np.ndarray, V: np.ndarray) -> float:
    """``||A - U diag(s) V^T||_F``: direct for small dense ``A``, else the identity above."""
    if not scipy.sparse.issparse(A) and A.size <= DIRECT_LIMIT:
        US = U * s
        total = 0.0
        for i in range(0, A.shape[0], _BLOCK_ROWS):  # row blocks: O(block n) extra memory
            R = A[i:i + _BLOCK_ROWS] - US[i:i + _BLOCK_ROWS] @ V.T
            total += float(np.einsum("ij,ij->", R, R))
        return float(np.sqrt(total))
    from .reference import fro_norm2

    AV = np.asarray(A @ V)
    cross = float(np.einsum("ij,ij,j->", U, AV, s))  # sum_i s_i u_i^T A v_i
    gram = float(np.einsum("ij,ij->", (U.T @ U) * s, ((V.T @ V) * s).T))  # tr(G_U S G_V S)
    return float(np.sqrt(max(fro_norm2(A) - 2.0 * cross + gram, 0.0)))


def largest_angle(X: np.ndarray, X_ref: np.ndarray) -> tuple[float, float]:
    """(largest principal angle between span(X) and span(X_ref), ``||X^T X - I||_2``).

    ``X_ref`` has orthonormal columns; ``X`` need not (its Gram matrix is factored out).
    """
    G = X.T @ X
    orth = float(np.linalg.norm(G - np.eye(G.shape[0]), 2))
    try:
        L = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:  # rank-deficient output: some direction is lost
        return float(np.pi / 2), orth
    C = np.linalg.solve(L, (X_ref.T @ X).T).T  # X_ref^T X L^{-T}
    cos = np.linalg.svd(C, compute_uv=False)
    return float(np.arccos(np.clip(cos.min(), -1.0, 1.0))), orth


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    A, k = inputs["A"], int(inputs["k"])
    U, s, V = factors(output)
    U_ref, s_ref, V_ref = factors(reference)
    m, n = A.shape
    if U.shape != (m, k) or s.shape != (k,) or V.shape != (n, k):
        raise ValueError(f"svd_topk output shapes U {U.shape}, s {s.shape}, V {V.shape}; "
                         f"expected ({m}, {k}), ({k},), ({n}, {k})")
    tail = float(reference["tail"])
    # An exactly rank-k A has tail 0: fall back to a tiny floor instead of dividing by 0.
    floor = 1e-300 + 1e-15 * float(np.linalg.norm(s_ref))
    angle_u, orth_u = largest_angle(U, U_ref)
    angle_v, orth_v = largest_angle(V, V_ref)
    return {
        "optimality_ratio": residual_norm(A, U, s, V) / max(tail, floor),
        "sv_error": float(np.max(np.abs(s - s_ref) / s_ref)),
        "angle_u": angle_u,
        "angle_v": angle_v,
        "orthogonality": max(orth_u, orth_v),
        "reference_arpack": 1.0 if reference.get("solver") == "arpack" else 0.0,
    }


TASK = register_task(
    Task(
        name="svd_topk",
        description="Rank-k truncated SVD (U_k, s_k, V_k) of an m x n matrix, dense or sparse.",
        metrics=(
            Metric("optimality_ratio", "lower", doc="||A - U S V^T||_F / ||A - A_k||_F (1 is optimal)"),
            Metric("sv_error", "lower", doc="max_i |s_i - s_i*| / s_i* over the k singular values"),
            Metric("angle_u", "lower", "rad", doc="largest principal angle between span(U) and the reference's"),
            Metric("angle_v", "lower", "rad", doc="largest principal angle between span(V) and the reference's"),
            Metric("orthogonality", "lower", doc="max(||U^T U - I||_2, ||V^T V - I||_2)"),
            Metric("reference_arpack", "lower", doc="1 when the reference is ARPACK's top-k (sparse or large A), 0 for the full SVD"),
        ),
        make_inputs=make_inputs,
        score=score,
        reference="reference",
        params={"k": Param(int, 10, min=1, doc="rank of the truncated SVD")},
    )
)
