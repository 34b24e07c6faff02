"""The ``svd_topk`` contract: inputs, metrics and scoring.

Given ``A`` (m x n, dense or SciPy sparse) and a rank ``k`` (task parameter), compute
``(U_k, s_k, V_k)``: ``U_k`` m x k, ``s_k`` the k largest singular values, descending,
``V_k`` n x k, so that ``U_k diag(s_k) V_k^T`` approximates ``A`` in rank k. The
reference (``reference.py``) is a dict holding also ``tail = ||A - A_k||_F`` and which
solver produced it.

Metrics (lower is better for all):

- ``optimality_ratio = ||A - U diag(s) V^T||_F / hypot(||A - A_k||_F, floor)`` (1 is
  optimal, by Eckart-Young). The numerator is formed directly for dense ``A`` of at most
  :data:`DIRECT_LIMIT` entries; otherwise (sparse or large) without densifying, by the
  identity, valid for any ``U``, ``V`` (orthonormal or not)::

      ||A - U S V^T||_F^2 = ||A||_F^2 - 2 sum_i s_i u_i^T A v_i + tr((U^T U) S (V^T V) S)

  one product ``A V`` and two k x k Gram matrices. It cancels: the result has an
  absolute error of about ``u ||A||_F^2``. The tail ``||A - A_k||_F`` is the reference's:
  exact from the whole spectrum when the reference is the full SVD,
  ``(||A||_F^2 - sum_{i<=k} s_i^{*2})^{1/2}`` from the ARPACK top-k otherwise (same
  cancellation).

  *The floor* (issue 11: at ``k >= rank(A)`` the tail is 0 up to rounding, and the
  unfloored ratio of an exact answer ranged from 1.2 to 1e14). No float64 rank-k answer
  can get closer to ``A`` than the rounding of its factorization: a backward-stable SVD
  returns ``U S V^T = A + E`` with ``||E||_F <= p(m, n) u ||A||_F`` (Golub & Van Loan,
  *Matrix Computations*, 4th ed., 2013, section 8.6), and forming ``A - U S V^T`` adds as
  much again. Measured for ``numpy.linalg.svd`` and ``torch.linalg.svd`` (gesdd) and
  SciPy's gesvd, on low-rank and full-rank matrices from 60 x 40 to 1500 x 1000 at
  ``k = rank`` and ``k = min(m, n)``, ``||A - U_k S_k V_k^T||_F / (u ||A||_F)`` was 4.5
  to 92, at most ``3.3 sqrt(min(m, n))``: the random-walk growth over ``min(m, n)``
  orthogonal transformations. Hence :func:`rounding_level`:
  ``eps_A = ROUNDING_FACTOR sqrt(min(m, n)) u`` with ``ROUNDING_FACTOR = 10``, a margin
  of 3 over the worst LAPACK driver, which iterative methods (more orthogonal
  transformations: Lanczos' reorthogonalization, power steps) also need. Through the
  identity, or with the ARPACK tail, the squared norm carries the error ``eps_A ||A||_F^2``,
  so the resolution is ``sqrt(eps_A) ||A||_F`` (about ``1e-7 ||A||_F``; measured: at most
  ``3.7 sqrt(u) ||A||_F`` on sparse matrices of up to 3e6 entries). The denominator is
  ``hypot(tail, floor)`` with ``floor = eps_A ||A||_F`` (direct) or ``sqrt(eps_A) ||A||_F``
  (identity or ARPACK), not ``max(tail, floor)``: an answer whose excess over the optimum
  is below the floor, ``||A - X||^2 <= tail^2 + floor^2``, then scores at most 1 even
  where ``tail`` and the floor are of the same size (``max`` would give up to
  ``sqrt(2)``, above the suites' gates of 1.1). Where ``tail >> floor`` (every problem
  whose rank exceeds k) the ratio is unchanged to ``(floor / tail)^2``. A wrong answer
  still scores its error over the floor: ``1e-6 ||A||_F`` off at ``k = rank`` of a
  100 x 50 matrix scores about 1e8. When ``A = 0`` the numerator itself is returned.
  The floor is float64's: an accurate float32 answer at ``k >= rank`` scores its
  float32 rounding over it, about ``u_32 / u_64 = 5e8`` times larger; gate such
  problems per dtype.
- ``sv_error = max_i |s_i - s_i^*| / max(s_i^*, eps_A s_1^*)``: the worst relative
  error of the k singular values (relative to each value, not to ``s_1``: the k-th is the
  one randomized methods get wrong, and scaling by ``s_1`` would hide it). Every
  backward-stable method, the reference included, computes each singular value to
  within ``p(m, n) u s_1`` only (Weyl), so a value ``s_i^*`` below ``eps_A s_1^*`` (0 at
  ``k > rank``) is known to no relative accuracy at all; the floor
  (:func:`matrixbench.accuracy.relative`, scale ``ROUNDING_FACTOR sqrt(min(m, n)) s_1^*``)
  measures the error there against that uncertainty: an accurate answer scores about
  0.1 or less on such values instead of 1 or ``inf``, a wrong one ``err / (eps_A s_1^*)``.
- ``angle_u``, ``angle_v``: the largest principal angle (radians) between ``span(U)`` and
  the reference's ``span(U^*)`` (``V`` likewise). With ``G = U^T U = L L^T`` (Cholesky)
  and ``C = U^{*T} U L^{-T}`` the cosines are the singular values of ``C`` (Bjorck &
  Golub, Math. Comp. 27, 1973); ``angle = arccos(min cos)``, resolved down to about
  ``1e-8`` in float64. Meaningful only when ``s_k > s_{k+1}`` (the subspace is then
  well defined; its sensitivity is ``1 / (s_k - s_{k+1})``): judge ``optimality_ratio``
  on matrices without a gap. The columns whose reference value is at the rounding level
  (``s_i^* <= eps_A s_1^*``, so ``i > rank(A)``) span an arbitrary subspace of the null
  space, any answer's as much as the reference's: the angles compare the leading
  ``r`` columns only, ``r`` the number of values above that level (0 when ``A = 0``).
- ``orthogonality = max(||U^T U - I||_2, ||V^T V - I||_2)``: how orthonormal the factors
  are (a byproduct of the Gram matrices above).
- ``reference_arpack``: 1 when the reference came from ARPACK (sparse or large input,
  ratio from the top-k identity), 0 when from the full SVD. A record, not a score.

Preconditions (:func:`check_inputs`: the problem is ``invalid`` otherwise): ``A``
finite, ``1 <= k <= min(m, n)``. Output structure (:func:`check_output`): ``(U, s, V)``
of shapes ``(m, k)``, ``(k,)``, ``(n, k)``, ``s`` descending and nonnegative.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import scipy.sparse

from matrixbench.accuracy import FLOOR_EPS, relative
from matrixbench.params import Param
from matrixbench.registry import Metric, Task, register_task

#: Dense inputs up to this many entries get the residual formed explicitly (in blocks).
DIRECT_LIMIT = 50_000_000
_BLOCK_ROWS = 4096

#: ``c`` in the rounding level ``c sqrt(min(m, n)) u`` of a float64 rank-k factorization
#: (module docstring: the measured constant was at most 3.3).
ROUNDING_FACTOR = 10.0

#: Tolerance of :func:`check_output` on the order and sign of ``s``, relative to ``max |s|``:
#: far above float32 rounding, far below what an unsorted output (ARPACK's ascending
#: order) or a negative value is off by.
ORDER_TOL = 1e-6


def make_inputs(matrix: Any, k: int = 10) -> dict[str, Any]:
    """``{"A": A, "k": k}``: ``A`` 2-D (dense float64 or SciPy CSR); a batch of one is squeezed.

    The range of ``k`` is a precondition of the problem, checked by :func:`check_inputs`.
    """
    A = matrix["A"] if isinstance(matrix, dict) else matrix
    if not scipy.sparse.issparse(A):
        A = np.asarray(A, dtype=np.float64)
        if A.ndim == 3 and A.shape[0] == 1:
            A = np.ascontiguousarray(A[0])
        if A.ndim != 2:
            raise ValueError(f"svd_topk needs one m x n matrix; got shape {A.shape}")
    return {"A": A, "k": int(k)}


def _finite(A: Any) -> bool:
    data = A.data if scipy.sparse.issparse(A) else A
    return bool(np.all(np.isfinite(data)))


def check_rank(k: int, shape: tuple[int, ...], what: str = "A") -> str | None:
    """Why ``k`` is no rank of a truncated SVD of a ``shape`` matrix, or None."""
    r = min(shape)
    if not 1 <= k <= r:
        return f"k = {k} must be in 1..min(m, n) = {r} ({what} is {shape[0]} x {shape[1]})"
    return None


def check_inputs(inputs: Mapping[str, Any]) -> str | None:
    """The problem's preconditions: ``A`` finite and ``1 <= k <= min(m, n)``."""
    A = inputs["A"]
    if not _finite(A):
        return "A has NaN or Inf entries"
    return check_rank(int(inputs["k"]), A.shape)


def factors(output: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(U, s, V)`` from a method's tuple or the reference's dict, as float64."""
    if isinstance(output, dict):
        output = (output["U"], output["s"], output["V"])
    U, s, V = output
    return np.asarray(U, np.float64), np.asarray(s, np.float64).ravel(), np.asarray(V, np.float64)


def check_factors(output: Any, m: int, n: int, k: int, what: str = "output") -> str | None:
    """Why ``output`` is not a rank-``k`` SVD ``(U, s, V)`` of an ``m x n`` matrix, or None.

    ``U`` (m, k), ``s`` (k,), ``V`` (n, k), as a tuple or list of three arrays or a dict
    with keys ``U, s, V`` (the reference's); ``s`` descending and nonnegative (to within
    :data:`ORDER_TOL` of ``max |s|``): the metrics compare ``s_i`` with ``s_i^*`` and the
    leading columns with the reference's, so an unsorted output would be misread.
    """
    if isinstance(output, Mapping):
        missing = [key for key in ("U", "s", "V") if key not in output]
        if missing:
            return f"{what} is a dict without {', '.join(missing)}"
        parts = [output["U"], output["s"], output["V"]]
    elif isinstance(output, (tuple, list)):
        if len(output) != 3:
            return f"{what} has {len(output)} parts; expected (U, s, V)"
        parts = list(output)
    else:
        return f"{what} is a {type(output).__name__}; expected (U, s, V)"
    try:
        U, s, V = (np.asarray(x, dtype=np.float64) for x in parts)
    except (TypeError, ValueError) as exc:
        return f"{what} parts are not numeric arrays ({exc})"
    if U.shape != (m, k) or s.shape != (k,) or V.shape != (n, k):
        return (f"{what} shapes U {U.shape}, s {s.shape}, V {V.shape}; "
                f"expected ({m}, {k}), ({k},), ({n}, {k})")
    if k and np.all(np.isfinite(s)):
        tol = ORDER_TOL * float(np.max(np.abs(s)))
        if np.any(np.diff(s) > tol):
            return f"{what} singular values are not in descending order: {np.array2string(s[:8], precision=3)}"
        if float(s.min()) < -tol:
            return f"{what} has a negative singular value ({float(s.min()):.3g})"
    return None


def check_output(output: Any, reference: Any, inputs: Mapping[str, Any]) -> str | None:
    """``(U, s, V)`` of shapes ``(m, k)``, ``(k,)``, ``(n, k)``, ``s`` descending (:func:`check_factors`)."""
    m, n = inputs["A"].shape
    return check_factors(output, m, n, int(inputs["k"]))


def direct(A: Any) -> bool:
    """Whether :func:`residual_norm` forms ``A - U S V^T`` (else it uses the identity)."""
    return not scipy.sparse.issparse(A) and A.size <= DIRECT_LIMIT


def residual_norm(A: Any, U: np.ndarray, s: np.ndarray, V: np.ndarray) -> float:
    """``||A - U diag(s) V^T||_F``: direct for small dense ``A``, else the identity above."""
    if direct(A):
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


def rounding_level(m: int, n: int) -> float:
    """``eps_A = ROUNDING_FACTOR sqrt(min(m, n)) u``: the relative rounding of a float64
    rank-k factorization of an ``m x n`` matrix (module docstring)."""
    return ROUNDING_FACTOR * math.sqrt(min(m, n)) * FLOOR_EPS


def ratio_floor(A: Any, reference: Mapping[str, Any]) -> float:
    """The smallest ``||A - X||_F`` the optimality ratio resolves: ``eps_A ||A||_F`` when
    the residual is formed and the tail exact, ``sqrt(eps_A) ||A||_F`` when either goes
    through a squared norm (the identity, the ARPACK tail)."""
    from .reference import fro_norm2

    eps = rounding_level(*A.shape)
    if not direct(A) or reference.get("solver") == "arpack":
        eps = math.sqrt(eps)
    return eps * math.sqrt(fro_norm2(A))


def optimality_ratio(residual: float, tail: float, floor: float) -> float:
    """``residual / hypot(tail, floor)``; the residual itself when both are 0 (``A = 0``)."""
    den = math.hypot(tail, floor)
    return residual / den if den > 0 else residual


def largest_angle(X: np.ndarray, X_ref: np.ndarray) -> tuple[float, float]:
    """(largest principal angle between span(X) and span(X_ref), ``||X^T X - I||_2``).

    ``X_ref`` has orthonormal columns; ``X`` need not (its Gram matrix is factored out).
    Either may have no columns: the angle is then 0.
    """
    G = X.T @ X
    orth = float(np.linalg.norm(G - np.eye(G.shape[0]), 2)) if G.size else 0.0
    if X.shape[1] == 0:
        return 0.0, orth
    try:
        L = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:  # rank-deficient output: some direction is lost
        return float(np.pi / 2), orth
    C = np.linalg.solve(L, (X_ref.T @ X).T).T  # X_ref^T X L^{-T}
    cos = np.linalg.svd(C, compute_uv=False)
    return float(np.arccos(np.clip(cos.min(), -1.0, 1.0))), orth


def svd_metrics(A: Any, output: Any, reference: Mapping[str, Any]) -> dict[str, float]:
    """``optimality_ratio``, ``sv_error``, ``angle_u``, ``angle_v``, ``orthogonality`` of
    one rank-k answer against the reference of the same matrix (module docstring; also
    the per-step metrics of ``svd_update``)."""
    U, s, V = factors(output)
    U_ref, s_ref, V_ref = factors(reference)
    m, n = A.shape
    k = s_ref.shape[0]
    problem = check_factors((U, s, V), m, n, k)
    if problem:
        raise ValueError(f"svd_topk {problem}")
    eps = rounding_level(m, n)
    s1 = float(s_ref[0]) if k else 0.0
    determined = int(np.count_nonzero(s_ref > eps * s1))  # columns above the rounding level
    _, orth_u = largest_angle(U, U_ref)
    _, orth_v = largest_angle(V, V_ref)
    angle_u = largest_angle(U[:, :determined], U_ref[:, :determined])[0]
    angle_v = largest_angle(V[:, :determined], V_ref[:, :determined])[0]
    sv = relative(np.abs(s - s_ref), s_ref, ROUNDING_FACTOR * math.sqrt(min(m, n)) * s1)
    return {
        "optimality_ratio": optimality_ratio(residual_norm(A, U, s, V), float(reference["tail"]),
                                             ratio_floor(A, reference)),
        "sv_error": float(np.max(sv)) if k else 0.0,
        "angle_u": angle_u,
        "angle_v": angle_v,
        "orthogonality": max(orth_u, orth_v),
    }


def score(output: Any, reference: Any, inputs: Mapping[str, Any]) -> dict[str, float]:
    A = inputs["A"]
    if int(inputs["k"]) != len(np.ravel(reference["s"])):
        raise ValueError(f"svd_topk reference has rank {len(np.ravel(reference['s']))}, the problem k = {inputs['k']}")
    return {
        **svd_metrics(A, output, reference),
        "reference_arpack": 1.0 if reference.get("solver") == "arpack" else 0.0,
    }


#: the contract every method meets on ``example`` with its default parameters
EXAMPLE_GATES: dict[str, dict[str, float]] = {"optimality_ratio": {"float64": 1.1, "float32": 1.1}}

TASK = register_task(
    Task(
        name="svd_topk",
        description="Rank-k truncated SVD (U_k, s_k, V_k) of an m x n matrix, dense or sparse.",
        metrics=(
            Metric("optimality_ratio", "lower", doc="||A - U S V^T||_F / ||A - A_k||_F, tail floored at the rounding level (1 is optimal)", scale="ratio"),
            Metric("sv_error", "lower", doc="max_i |s_i - s_i*| / max(s_i*, eps_A s_1*) over the k singular values"),
            Metric("angle_u", "lower", "rad", doc="largest principal angle between span(U) and the reference's"),
            Metric("angle_v", "lower", "rad", doc="largest principal angle between span(V) and the reference's"),
            Metric("orthogonality", "lower", doc="max(||U^T U - I||_2, ||V^T V - I||_2)"),
            Metric("reference_arpack", "lower", doc="1 when the reference is ARPACK's top-k (sparse or large A), 0 for the full SVD", scale="count"),
        ),
        make_inputs=make_inputs,
        score=score,
        example={"generator": "lowrank_decay", "params": {"m": 80, "n": 50, "effective_rank": 5.0}, "task_params": {"k": 5}},
        example_gates=EXAMPLE_GATES,
        reference="reference",
        params={"k": Param(int, 10, min=1, doc="rank of the truncated SVD")},
        check_inputs=check_inputs,
        check_output=check_output,
    )
)
