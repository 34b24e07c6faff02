"""Golub-Kahan-Lanczos bidiagonalization with thick restarts, in torch and in NumPy/SciPy.

G. Golub and W. Kahan, "Calculating the singular values and pseudo-inverse of a
matrix", SIAM J. Numer. Anal. 2, 1965, build orthonormal ``P`` (m x l), ``Q`` (n x l)
and an upper bidiagonal ``B`` with ``A Q = P B`` and ``A^T P = Q B^T + r e_l^T``, one
vector pair per step::

    p_j = A q_j - beta_{j-1} p_{j-1};            alpha_j = ||p_j||;  p_j /= alpha_j
    r_j = A^T p_j - alpha_j q_j;                 beta_j = ||r_j||;   q_{j+1} = r_j / beta_j

The Ritz triplets ``(P u_i, s_i, Q v_i)`` from ``B = U_B diag(s) V_B^T`` satisfy
``A (Q v_i) = s_i (P u_i)`` exactly and ``||A^T (P u_i) - s_i (Q v_i)|| = beta_l |u_{l,i}|``:
a free residual, the convergence test (``<= tol * s_1`` for the k wanted triplets).

What is implemented, and its references:

- **Full reorthogonalization** (classical Gram-Schmidt, twice, against all previous
  vectors on both sides): the simplest way to keep ``P`` and ``Q`` orthonormal to
  working precision, at ``4 (m + n) j`` flops in step ``j``. Partial reorthogonalization
  (Larsen's PROPACK) is cheaper when ``l`` is large; the ``svds_propack`` baseline has it.
- **Thick restart** (Wu and Simon, SIAM J. Matrix Anal. Appl. 22, 2000, for Lanczos;
  Baglama and Reichel, "Augmented implicitly restarted Lanczos bidiagonalization
  methods", SIAM J. Sci. Comput. 27, 2005, for the SVD, the IRLBA method): when the
  basis has ``l`` vectors and the k triplets have not converged, keep the ``l'`` best
  Ritz vectors (``l' = k + (l - k) / 2``), ``Q <- Q V_B[:, :l']``, ``P <- P U_B[:, :l']``,
  continue from ``q = r / beta_l``. The restarted ``B`` is no longer bidiagonal (an
  arrowhead: ``diag(s)`` plus the column ``beta_l U_B[l, :l']``), so ``B`` is kept dense,
  upper triangular, its entries being the Gram-Schmidt coefficients ``B = P^T A Q``,
  which is exact whatever the restarts did.

Converges like Lanczos: the wanted triplets at a rate set by the gap ratio
``(s_k - s_{k+1}) / (s_k - s_min)`` through Chebyshev polynomials; each restart cycle
costs ``l - l'`` products with ``A`` and with ``A^T`` (``4 nnz`` flops a pair) plus the
reorthogonalization, about ``4 (m + n) (l^2 - l'^2)`` flops, and an ``l x l`` SVD.
Returns :class:`WithInfo` with ``restarts`` and ``matvecs``; a run that reaches
``max_restarts`` without converging says so (the cell is then ``inaccurate``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from . import _ops
from ._ops import Array


def _zeros(A: Array, rows: int, cols: int) -> Array:
    if _ops.is_torch(A):
        import torch

        return torch.zeros(rows, cols, dtype=A.dtype, device=A.device)
    return np.zeros((rows, cols), dtype=A.dtype)


def _norm(x: Array) -> Array:
    if _ops.is_torch(x):
        import torch

        return torch.linalg.vector_norm(x)
    return np.linalg.norm(x)


def _orthogonalize(w: Array, basis: Array) -> tuple[Array, Array]:
    """``w - basis^T c`` with ``c = basis w`` (rows of ``basis`` orthonormal), twice."""
    c = basis @ w
    w = w - basis.T @ c if not _ops.is_torch(w) else w - basis.mT @ c
    c2 = basis @ w
    w = w - basis.T @ c2 if not _ops.is_torch(w) else w - basis.mT @ c2
    return w, c + c2


#: ``c`` in the breakdown test ``alpha_j, beta_j <= c sqrt(min(m, n)) eps ||A||``: the
#: rounding level below which a Lanczos coefficient is 0 (the ``svd_topk`` metrics' own
#: rounding level, :data:`implementations.svd_topk.task.ROUNDING_FACTOR`).
BREAKDOWN = 10.0


def _host(alpha: Array, beta: Array) -> tuple[float, float]:
    """``(float(alpha), float(beta))`` with one device synchronization."""
    if _ops.is_torch(alpha):
        import torch

        a, b = torch.stack([alpha, beta]).tolist()
        return float(a), float(b)
    return float(alpha), float(beta)


def _basis_size(k: int, r: int, ncv: int) -> int:
    return min(ncv if ncv > 0 else max(2 * k, k + 20), r)


def lanczos_svd(A: Array, k: int, ncv: int = 0, tol: float = 0.0, max_restarts: int = 100,
                seed: int = 0) -> WithInfo:
    """Rank-``k`` SVD ``(U, s, V)`` by thick-restarted GKL bidiagonalization (module docstring).

    ``ncv`` is the basis size ``l`` (0: ``max(2k, k + 20)``); ``tol`` the residual
    tolerance relative to ``s_1`` (0: the square root of the dtype's machine epsilon,
    which makes the singular values accurate to about machine precision).

    A wide ``A`` (``m < n``) is bidiagonalized as ``A^T`` (``U`` and ``V`` swapped back at
    the end), so that ``Q`` always lives in the smaller space ``R^r``, ``r = min(m, n)``:
    at ``l = r`` it then spans all of it and ``B`` has the whole spectrum. (On ``A``
    itself the Krylov space of ``A^T A`` in ``R^n`` spends a dimension on the start
    vector's component in ``null(A)``, so ``l = m`` vectors could not hold the ``m``
    right singular vectors: one singular value was lost, and the old test "``l = r``
    means converged" reported success.) Success is now decided by the residuals
    ``beta_l |u_{l,i}|`` of the k Ritz triplets alone; when they fail at ``l = r``, or
    after ``max_restarts`` cycles, the output carries the failure. Breakdowns, a
    coefficient at the rounding level ``10 sqrt(r) eps ||A||`` (``||A||`` estimated by the
    largest ``alpha_j``, ``beta_j`` so far), continue from a random direction orthogonal
    to the basis, the zero going into ``B``: ``beta_j`` (an invariant subspace, as for a
    rank-deficient ``A``) as before, and now ``alpha_j`` too (``q_j`` in ``null(A)`` once
    the basis holds row(A)). Normalizing such an ``alpha_j``'s ``w``, a tiny vector inside
    span(P), gave ``U`` with ``||U^T U - I|| = 6`` at ``k = min(m, n)`` of a rank-5
    ``[B, 0]``, and no residual test notices (``A Q = P B`` still holds). The test was
    ``beta_j <= 1e-12 alpha_1``, which also dropped residuals a thousand times above
    rounding.
    """
    m, n = A.shape
    r = min(m, n)
    if not 1 <= k <= r:
        raise ValueError(f"k must be in 1..{r}, found {k}")
    l = _basis_size(k, r, ncv)
    if l <= k and l < r:
        raise ValueError(f"ncv = {l} must exceed k = {k}")
    wide = m < n
    if wide:  # bidiagonalize A^T: Q in R^m, P in R^n
        def mv(x: Array) -> Array:
            return _ops.rmatmul(A, x)

        def rmv(y: Array) -> Array:
            return A @ y
        rows, cols = n, m
    else:
        def mv(x: Array) -> Array:
            return A @ x

        def rmv(y: Array) -> Array:
            return _ops.rmatmul(A, y)
        rows, cols = m, n
    keep = k + (l - k) // 2
    tol = tol if tol > 0 else float(np.sqrt(np.finfo(np.float32 if "float32" in str(A.dtype) else np.float64).eps))
    Qt, Pt, B = _zeros(A, l, cols), _zeros(A, l, rows), _zeros(A, l, l)  # rows are the vectors
    q = _ops.gaussian(A, cols, 1, seed)[:, 0]
    q = q / _norm(q)
    j0, matvecs, converged, restart = 0, 0, False, 0
    residual_max, exhausted = float("nan"), False
    eps = float(np.finfo(np.float32 if "float32" in str(A.dtype) else np.float64).eps)
    small = BREAKDOWN * math.sqrt(r) * eps  # alpha_j, beta_j below small ||A||: numerically 0
    anorm = 0.0  # max alpha_j, beta_j seen: a lower estimate of ||A||_2, on the host
    for restart in range(max_restarts + 1):
        for j in range(j0, l):
            Qt[j] = q
            w = mv(q)
            if j > 0:
                w, c = _orthogonalize(w, Pt[:j])
                B[:j, j] = c
            alpha = _norm(w)
            B[j, j] = alpha
            Pt[j] = w / (alpha + (alpha == 0))  # replaced below if alpha is numerically 0
            rvec, _ = _orthogonalize(rmv(Pt[j]), Qt[: j + 1])
            beta = _norm(rvec)
            matvecs += 2
            alpha_f, beta_f = _host(alpha, beta)  # the step's one device sync
            anorm = max(anorm, alpha_f, beta_f)
            if alpha_f <= small * anorm:
                # A q_j is 0 up to rounding (q_j in null(A)): w is then a tiny vector inside
                # span(P), which no reorthogonalization can make a new direction. A q_j = 0 p_j
                # for any unit p_j orthogonal to P: take a random one.
                B[j, j] = 0
                w = _ops.gaussian(A, rows, 1, seed + 7919 + j)[:, 0]
                w = _orthogonalize(w, Pt[:j])[0] if j > 0 else w
                Pt[j] = w / _norm(w)
                rvec, _ = _orthogonalize(rmv(Pt[j]), Qt[: j + 1])
                beta = _norm(rvec)
                beta_f = float(beta)
                anorm = max(anorm, beta_f)
                matvecs += 1
            if j + 1 < l and beta_f <= small * anorm:
                # an invariant subspace: go on from a fresh random direction
                rvec, _ = _orthogonalize(_ops.gaussian(A, cols, 1, seed + 1 + j)[:, 0], Qt[: j + 1])
                q = rvec / _norm(rvec)
            else:
                q = rvec / (beta + (beta == 0))  # beta = 0 only at j = l - 1: q is not used then
        Ub, S, Vb = _ops.svd_small(B)
        residual = float(beta) * abs(Ub[l - 1, :k])
        residual_max = float(residual.max())
        if residual_max <= tol * float(S[0]):
            converged = True
            break
        if l == r:  # the basis cannot grow: restarting would rebuild the same space
            exhausted = True
            break
        if restart == max_restarts:
            break
        Qt[:keep] = _ops.transpose(Vb[:, :keep]) @ Qt
        Pt[:keep] = _ops.transpose(Ub[:, :keep]) @ Pt
        B[:] = 0
        B[:keep, :keep] = _diag(S[:keep])
        j0 = keep
    U = _ops.transpose(Pt) @ Ub[:, :k]
    V = _ops.transpose(Qt) @ Vb[:, :k]
    if wide:
        U, V = V, U
    info = {"restarts": restart, "matvecs": matvecs}
    failure = None
    if not converged:
        scale = float(S[0]) if float(S[0]) > 0 else 1.0
        failure = (f"basis exhausted at l = min(m, n) = {r} with Ritz residual {residual_max / scale:.2g} s_1 "
                   f"> tol {tol:.1e}: a singular triplet is lost" if exhausted else
                   f"not converged after {max_restarts} restarts (Ritz residual {residual_max / scale:.2g} s_1 "
                   f"> tol {tol:.1e})")
    return WithInfo((U, S[:k], V), info, failure=failure)


def _diag(s: Array) -> Array:
    if _ops.is_torch(s):
        import torch

        return torch.diag(s)
    return np.diag(s)


def lanczos_flops(inputs: Mapping[str, Any], ncv: int = 0, tol: float = 0.0, max_restarts: int = 100,
                  seed: int = 0) -> float:
    """The first cycle only (restarts depend on the spectrum): ``l`` pairs of products and
    the full reorthogonalization, plus the ``l x l`` SVD and the Ritz vectors."""
    A, k = inputs["A"], int(inputs["k"])
    m, n = A.shape
    l = _basis_size(k, min(m, n), ncv)
    return 4.0 * _ops.nnz(A) * l + 4.0 * (m + n) * l * l + 22.0 * l**3 + 2.0 * (m + n) * l * k


def basis_fits(inputs: Mapping[str, Any], ncv: int = 0, **_: Any) -> str | None:
    """Why the basis size does not fit: an explicit ``ncv <= k`` below ``min(m, n)`` leaves
    no room to restart (:func:`lanczos_svd` raises); ``ncv > min(m, n)`` is capped."""
    A, k = inputs["A"], int(inputs["k"])
    r = min(A.shape)
    l = _basis_size(k, r, ncv)
    if l <= k and l < r:
        return f"ncv = {ncv} must exceed k = {k} (or reach min(m, n) = {r})"
    return None


PARAMS = {
    "ncv": Param(int, 0, min=0, doc="basis size l (0: max(2k, k + 20))"),
    "tol": Param(float, 0.0, min=0.0, doc="residual tolerance relative to s_1 (0: sqrt of machine epsilon)"),
    "max_restarts": Param(int, 100, min=0, doc="restart cycles before giving up"),
    "seed": Param(int, 0, min=0, doc="seed of the random start vector"),
}


@method("svd_topk", "lanczos", kind="optimized", backends=("torch", "numpy"), devices=("cpu", "cuda"),
        params=PARAMS, flops=lanczos_flops, sparse=True, applies=basis_fits, renamed_from={"lanczos_scipy": "numpy"})
def lanczos(A: Any, k: int, ncv: int = 0, tol: float = 0.0, max_restarts: int = 100, seed: int = 0) -> WithInfo:
    """Thick-restarted Golub-Kahan-Lanczos bidiagonalization (torch dense or sparse CSR, CPU or CUDA; NumPy or SciPy sparse)."""
    return lanczos_svd(A, k, ncv=ncv, tol=tol, max_restarts=max_restarts, seed=seed)
