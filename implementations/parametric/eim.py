"""Nonintrusive EIM approximation of matrix powers and of their limits (inverse, log det).

Casenave, Akkari, Charles and Rey, "Nonintrusive approximation of parametrized limits of
matrix power algorithms -- application to matrix inverses and log-determinants", arXiv
1710.02488 (2017, revised 2022). Only the abstract was available to us: the
construction below follows it (EIM on the powers of an affinely parametrized matrix, the
limit taken of the interpolated powers, only matrices at selected parameters ever
touched), and its details (the preconditioned Richardson series, the EIM on the
monomials of the parameter functions, the choice of ``omega``) are our derivation.

Matrix power algorithm. With ``P0 = sum_q theta_q^ref A_q`` (``theta_q^ref`` the geometric
mean of ``theta_q`` over the training set) and ``omega = 2 / (r_min + r_max)``, where
``r_q(mu) = theta_q(mu) / theta_q^ref`` ranges in ``[r_min, r_max]`` on the training set,

    G(mu) = I - omega P0^-1 A(mu) = sum_q phi_q(mu) G_q,  phi_q = 1 - omega r_q,  G_q = theta_q^ref P0^-1 A_q,

(``sum_q G_q = I``). If every ``A_q`` is positive semidefinite and ``theta_q > 0`` (the
generators' families are), the eigenvalues of ``P0^-1 A(mu)`` lie in ``[min_q r_q, max_q
r_q]``, so ``||G(mu)||_{P0} <= rho = (r_max - r_min) / (r_max + r_min) < 1`` and

    A(mu)^-1 B = omega sum_{p>=0} G(mu)^p P0^-1 B,
    log det A(mu) = log det P0 - n log omega - sum_{p>=1} tr(G(mu)^p) / p,

truncated at ``p = P`` with a relative tail below ``rho^(P+1) / (1 - rho)``.

EIM of the powers. ``G(mu)^p`` is a sum over words of ``phi``-monomials of degree ``p``
times fixed matrices: its parameter functions are the ``D_p = C(p+Q-1, p)`` monomials
``phi(mu)^alpha``, ``|alpha| = p``. The EIM greedy on ``g_p(mu, alpha) = phi(mu)^alpha``
over the training set (Gaussian elimination with complete pivoting of the ``T x D_p``
table, which is the EIM in its symmetric form, Casenave, Ern and Lelievre 2016) selects
``M_p <= terms`` parameters ``mu_m`` and magic monomials ``alpha_m``; online,
``lambda^p(mu)`` solves the ``M_p x M_p`` interpolation system at the magic monomials and

    G(mu)^p ~ sum_m lambda^p_m(mu) G(mu_m)^p.

Nonintrusive: only ``G(mu_m)^p P0^-1 B`` (``p`` products with ``A(mu_m)`` and solves with
``P0``) and ``tr G(mu_m)^p`` (the generalized eigenvalues of ``(A(mu_m), P0)``) at training
parameters are computed, offline. Online, per test parameter: ``O(sum_p M_p^2)`` for the
coefficients, then ``O(n k sum_p M_p)`` to combine the stored vectors (solve) or
``O(sum_p M_p)`` scalars (logdet: independent of ``n``).

Convergence and cost. The series converges when the spectral radius of ``G(mu)`` is
below 1, which the bound ``rho = (R - 1) / (R + 1)``, ``R = r_max / r_min``, guarantees for a
positive decomposition; it needs ``P ~ log(1 / tol) / log(1 / rho) ~ (R / 2) log(1 / tol)``
powers, linear in the spread ``R`` of the coefficients' ratios. The bound is attained when
a direction feels only the extreme coefficient (a diffusion strip; a kernel eigenvalue near
0): measured, ``P = 64, 274, 1807`` for diffusion at contrast 2, 4, 10 (``R = c^2``, spectral
radius = rho = 0.60, 0.88, 0.98), ``P = 169`` for ``K + mu I``, ``mu in [0.1, 1]`` (``R = 10``,
rho = 0.818, radius 0.815; 0.66 for the graph family, whose bound is loose). Offline cost:
the greedies ``O(T M sum_p D_p)`` (``O(T M P^2)`` for ``Q = 2``), then per selected training
parameter ``P`` products with ``A(mu_t)`` and solves with ``P0`` on ``k`` columns (solve) or one
dense generalized eigendecomposition, ``~10 n^3`` (logdet). Online, the solve combines
``P M`` stored blocks, ``2 n k P M`` flops (``M = 12``, ``P = 169``: ~4000 ``n k``): cheaper
than a dense Cholesky per parameter (``n^3 / 3``) once ``n`` exceeds a few hundred, never
than a sparse 1-D one (``O(n)``). Preconditioning with a better ``P0`` (a multigrid, several
reference points) would shrink ``R``; not done here.

Exactness. With ``M_p = D_p`` (every power's own affine decomposition interpolated, which
for ``p = 1`` is ``Q`` terms) each power is reproduced to rounding, and the limit up to the
truncation ``rho^(P+1) / (1 - rho)``. With fewer terms (``M_p = Q`` for all ``p``, "as many
terms as the affine decomposition of ``A``") only ``G(mu)`` itself is exact, not the
inverse: the error then is the EIM's on the higher powers.

Failure: a test parameter outside the training box (``|phi_q| >= 1`` possible, the series
may diverge) or power vectors that grow (a term not semidefinite) are reported, never
returned silently.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._affine import Clock, Factor, assemble

#: relative tail of the truncated series aimed at when ``powers`` is 0, per dtype
SERIES_TOL = {"float64": 1e-14, "float32": 1e-7}
MAX_POWERS = 2000


@lru_cache(maxsize=512)
def _exponents(Q: int, p: int) -> np.ndarray:
    if Q == 1:
        return np.array([[p]], dtype=np.int64)
    if Q == 2:  # the common case, vectorized: (p, 0), (p-1, 1), ..., (0, p)
        return np.column_stack([np.arange(p, -1, -1), np.arange(p + 1)]).astype(np.int64)
    blocks = []
    for first in range(p, -1, -1):
        rest = _exponents(Q - 1, p - first)
        blocks.append(np.column_stack([np.full(len(rest), first, dtype=np.int64), rest]))
    return np.concatenate(blocks)


def exponents(Q: int, p: int) -> np.ndarray:
    """The ``C(p+Q-1, p) x Q`` exponents ``alpha`` with ``|alpha| = p``, the first exponent
    descending (the order of ``itertools.combinations_with_replacement``), built without
    the ``O(p)`` tuples per monomial: a series of ``P`` powers costs ``O(P^2)``, not ``O(P^3)``."""
    out = _exponents(Q, p)
    out.flags.writeable = False  # cached: shared between calls
    return out


def power_table(phi: np.ndarray, top: int) -> np.ndarray:
    """``phi[..., q]^k`` for ``k = 0..top`` (last axis), by repeated products: ``O(top)``
    multiplications instead of ``top`` calls of ``pow`` per monomial."""
    out = np.empty(phi.shape + (top + 1,))
    out[..., 0] = 1.0
    if top:
        out[..., 1:] = phi[..., None]
        np.cumprod(out[..., 1:], axis=-1, out=out[..., 1:])
    return out


def monomials(phi: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``phi[t]^alpha[j]`` for every row ``t`` of ``phi`` (``T x Q``) and ``alpha`` (``D x Q``)."""
    table = power_table(phi, int(alpha.max(initial=0)))  # T x Q x (top + 1)
    q = np.arange(phi.shape[1])
    return np.prod(table[:, q[None, :], alpha], axis=2)


def eim_greedy(F: np.ndarray, terms: int, rtol: float = 1e-14) -> tuple[list[int], list[int]]:
    """EIM on the table ``F[t, j] = g(mu_t, x_j)``: the selected rows (parameters) and columns
    (magic points), by Gaussian elimination with complete pivoting, stopping at ``terms`` or
    once the residual is below ``rtol max |F|``."""
    R = np.array(F, dtype=np.float64)
    scale = np.abs(R).max()
    rows: list[int] = []
    cols: list[int] = []
    for _ in range(min(terms, *R.shape)):
        t, j = np.unravel_index(np.argmax(np.abs(R)), R.shape)
        if not abs(R[t, j]) > rtol * scale:
            break
        rows.append(int(t))
        cols.append(int(j))
        R -= np.outer(R[:, j], R[t, :]) / R[t, j]
    return rows, cols


class PowerEIM:
    """The EIM of ``g_p(mu, alpha) = phi(mu)^alpha`` for one power ``p``."""

    def __init__(self, phi_train: np.ndarray, p: int, terms: int):
        alpha = exponents(phi_train.shape[1], p)
        F = monomials(phi_train, alpha)
        self.rows, cols = eim_greedy(F, terms)
        self.alpha = alpha[cols]
        # interpolation matrix: [F(mu_{t_m}, alpha_j)]_{j, m}, factorized once
        # lambda^p(mu) = inverse @ phi(mu)^alpha_magic: the interpolation matrix
        # [F(mu_{t_m}, alpha_j)]_{j, m}, inverted once offline (M_p x M_p, well conditioned:
        # its LU is the greedy's, unit lower triangular up to scaling)
        self.inverse = np.linalg.inv(F[np.ix_(self.rows, cols)].T) if self.rows else np.zeros((0, 0))

    def coefficients(self, phi: np.ndarray) -> np.ndarray:
        """``lambda^p(mu)`` (``M_p``) for one parameter's ``phi`` (``Q``)."""
        return self.inverse @ monomials(phi[None, :], self.alpha)[0]


def series_length(rho: float, tol: float) -> int:
    """Smallest ``P`` with ``rho^(P+1) / (1 - rho) <= tol``."""
    if rho <= 0:
        return 1
    return max(1, min(MAX_POWERS, math.ceil(math.log(tol * (1 - rho)) / math.log(rho)) - 1))


def eim_flops(inputs: dict[str, Any], eim_terms: int = 12, powers: int = 0) -> float | None:
    """None: the number of powers and of distinct training parameters depend on the data."""
    return None


def power_vectors(terms: Sequence[Any], theta: np.ndarray, P0: Factor, omega: float, C: np.ndarray,
                  wanted: set[int]) -> tuple[dict[int, np.ndarray], float]:
    """``G(mu)^p C`` for the powers ``p`` in ``wanted`` (``p`` products with ``A(mu)`` and
    solves with ``P0``), and the growth ``max_p ||G^p C|| / ||C||`` (above 1 only when the
    series diverges: a term not semidefinite)."""
    A = assemble(terms, theta)
    Y, out, growth, norm0 = C, {}, 0.0, np.linalg.norm(C)
    for p in range(1, max(wanted) + 1):
        Y = Y - omega * P0.solve(A @ Y).reshape(Y.shape)
        growth = max(growth, float(np.linalg.norm(Y) / norm0))
        if p in wanted:
            out[p] = Y
    return out, growth


def power_traces(terms: Sequence[Any], theta: np.ndarray, P0dense: np.ndarray, omega: float, P: int) -> np.ndarray:
    """``tr G(mu)^p`` for ``p = 1..P`` from the eigenvalues of the pencil ``(A(mu), P0)``."""
    A = assemble(terms, theta)
    A = A.toarray() if sp.issparse(A) else A
    gamma = 1.0 - omega * la.eigh(A, P0dense, eigvals_only=True)
    return np.array([np.sum(gamma**p) for p in range(1, P + 1)])


@method("parametric", "eim_powers", kind="optimized", backends=("numpy",), dtypes=("float64", "float32"),
        sparse=True, flops=eim_flops,
        params={"eim_terms": Param(int, 12, min=1, doc="EIM terms per power, at most (M)"),
                "powers": Param(int, 0, min=0, doc="powers of the series, P (0: rho^(P+1)/(1-rho) below 1e-14; "
                                                   "1e-7 in float32)")})
def eim_powers(terms: Sequence[Any], theta_train: np.ndarray, theta_test: np.ndarray, mu_train: np.ndarray,
               mu_test: np.ndarray, domain: np.ndarray, B: np.ndarray, quantity: str = "solve",
               eim_terms: int = 12, powers: int = 0) -> WithInfo:
    """Nonintrusive EIM of the powers of ``G(mu) = I - omega P0^-1 A(mu)`` and of their limits."""
    clock = Clock()
    dtype = B.dtype
    n = B.shape[0]
    failure = None
    with clock.phase("offline"):
        if np.any(theta_train <= 0) or np.any(theta_test <= 0):
            raise ValueError("eim_powers needs theta_q(mu) > 0 (a positive affine decomposition): the Richardson "
                             "series' convergence bound rests on it")
        theta_train64 = theta_train.astype(np.float64)
        ref = np.sqrt(theta_train64.min(axis=0) * theta_train64.max(axis=0))
        r_train = theta_train64 / ref
        r_min, r_max = float(r_train.min()), float(r_train.max())
        omega = 2.0 / (r_min + r_max)
        rho = (r_max - r_min) / (r_max + r_min)
        P = powers or series_length(rho, SERIES_TOL["float32" if dtype == np.float32 else "float64"])
        phi_train = 1.0 - omega * r_train
        eims = [PowerEIM(phi_train, p, eim_terms) for p in range(1, P + 1)]
        P0matrix = assemble(terms, ref.astype(dtype))
        P0 = Factor(P0matrix)
        used: dict[int, set[int]] = {}
        for p, e in enumerate(eims, start=1):
            for t in e.rows:
                used.setdefault(t, set()).add(p)
        if quantity == "solve":
            C = P0.solve(B).reshape(B.shape)
            stored: dict[tuple[int, int], np.ndarray] = {}
            worst = 0.0
            for t, wanted in used.items():
                vectors, growth = power_vectors(terms, theta_train[t], P0, omega, C, wanted)
                worst = max(worst, growth)
                stored.update({(t, p): v for p, v in vectors.items()})
            if worst > 1.0 + 1e-6:
                failure = (f"the power vectors grow (by {worst:.3g}): the series diverges, so some A_q is not "
                           f"positive semidefinite")
        else:
            P0dense = P0matrix.toarray() if sp.issparse(P0matrix) else P0matrix
            traces = {t: power_traces(terms, theta_train[t], P0dense, omega, P) for t in used}
            base = P0.logdet() - n * math.log(omega)
        # online tables, padded to M terms per power: magic monomials, interpolation inverses
        M = max((len(x.rows) for x in eims), default=0)
        alpha = np.zeros((P, M, theta_train.shape[1]), dtype=np.int64)
        W = np.zeros((P, M, M))
        for p, x in enumerate(eims):
            m = len(x.rows)
            alpha[p, :m] = x.alpha
            W[p, :m, :m] = x.inverse
        valid = np.array([[m < len(x.rows) for m in range(M)] for x in eims], dtype=bool).reshape(P, M)
        if quantity == "solve":
            Y = np.stack([stored[(t, p)] for p, x in enumerate(eims, start=1) for t in x.rows], axis=-1) \
                if valid.any() else np.zeros(B.shape + (0,), dtype)
        else:
            tau = np.zeros((P, M))
            for p, x in enumerate(eims, start=1):
                tau[p - 1, :len(x.rows)] = [traces[t][p - 1] for t in x.rows]
            weights = 1.0 / np.arange(1, P + 1)
    out = []
    with clock.phase("online"), np.errstate(over="ignore", invalid="ignore"):  # outside the range: reported
        phi_test = 1.0 - omega * theta_test.astype(np.float64) / ref
        qs = np.arange(theta_test.shape[1])
        if (theta_test / ref).min() < r_min * (1 - 1e-6) or (theta_test / ref).max() > r_max * (1 + 1e-6):
            failure = failure or ("a test parameter lies outside the training range of theta: the series' "
                                  "convergence bound does not hold there")
        for phi in phi_test:
            table = power_table(phi, P)  # Q x (P + 1)
            lam = np.einsum("pij,pj->pi", W, np.prod(table[qs, alpha], axis=2))  # P x M
            if quantity == "solve":
                out.append(omega * (C + Y @ lam[valid].astype(dtype)))
            else:
                out.append(base - float(weights @ (lam * tau).sum(axis=1)))
    size = max((len(e.rows) for e in eims), default=0)
    info = clock.info(len(theta_test), size=size, train_points=len(used), powers=P)
    return WithInfo(np.asarray(out, dtype=dtype), info, failure=failure)


