"""Preconditions of the tasks on symmetric (semi)definite matrices (``sqrtm``, ``inv_root``).

A task whose answer is defined only for symmetric positive (semi)definite inputs must not
score methods on anything else: a non-symmetric or indefinite matrix has no real
symmetric square root, and quietly replacing it by ``(A + A^T) / 2`` or clipping its
eigenvalues makes every method agree with an answer to a different question. These
helpers measure the violation instead; the task's ``check_inputs`` returns their message
and the engine marks the problem's cells ``invalid``.

Rounding. A matrix formed in float64 as ``Q diag(l) Q^T`` or ``X X^T`` is symmetric
exactly or to a few ``eps`` relative, and its computed eigenvalues are off by about
``eps ||A||_2``. Hence the tolerances: symmetric to ``SYMMETRY_TOL = 1e-12`` relative (in
the Frobenius norm), and an eigenvalue counts as zero within the rounding level
``n eps ||A||_2``, the classical bound on the backward error of a symmetric
eigensolver (Golub & Van Loan, *Matrix Computations*, 4th ed., 2013, section 8.3). So a
semidefinite matrix may have eigenvalues down to ``-n eps ||A||_2`` (rounding of a
singular one), and a definite one must have them all above ``+n eps ||A||_2``: below that
the matrix is singular as far as its float64 entries can tell, and its inverse roots are
not determined by them.

Cost. The decision is made by a Cholesky factorization of the shifted matrix
(``n^3 / 3`` flops) when it succeeds; only a matrix that fails it pays for ``eigvalsh``
(about ``4/3 n^3`` flops, 6 times the time of the Cholesky at ``n = 4096``), which then
decides and measures the violation. Norms: ``||A||_F / sqrt(n)`` and the largest
diagonal entry bound ``||A||_2`` from below, ``||A||_F`` from above, so the shift tried
first never accepts what the eigenvalues would reject (up to the rounding of the
factorization itself, of the same order as that of the eigenvalues).
"""

from __future__ import annotations

import numpy as np

#: Largest ``||A - A^T||_F / ||A||_F`` accepted as symmetric.
SYMMETRY_TOL = 1e-12

#: float64 machine epsilon, ``2^-52``.
EPS = float(np.finfo(np.float64).eps)


def _fro(A: np.ndarray) -> np.ndarray:
    return np.linalg.norm(A, ord="fro", axis=(-2, -1))


def _where(i: int, batch: int) -> str:
    """Which matrix of a batch, or nothing for a batch of one."""
    return f" (matrix {i} of {batch}, counting from 0)" if batch > 1 else ""


def check_finite(A: np.ndarray, name: str = "A") -> str | None:
    """NaN or Inf entries: nothing else can be checked (``eigvalsh`` would fail)."""
    bad = int(np.size(A) - np.count_nonzero(np.isfinite(A)))
    return f"{name} is not finite: {bad} NaN or Inf entries" if bad else None


def asymmetry(A: np.ndarray) -> np.ndarray:
    """``||A - A^T||_F / ||A||_F`` per matrix of a batch (0 for the zero matrix)."""
    num = _fro(A - np.swapaxes(A, -1, -2))
    den = _fro(A)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), num)


def check_symmetric(A: np.ndarray, name: str = "A", hint: str = "") -> str | None:
    """A message with the measured ``max ||A - A^T||_F / ||A||_F`` when it exceeds ``SYMMETRY_TOL``."""
    asym = asymmetry(A)
    worst = int(np.argmax(asym))
    if asym[worst] <= SYMMETRY_TOL:
        return None
    return (f"{name} is not symmetric: max over the batch of ||{name} - {name}^T||_F/||{name}||_F = "
            f"{asym[worst]:.3g}{_where(worst, len(asym))} (tolerance {SYMMETRY_TOL:g}){hint}")


def _cholesky_ok(B: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(B)
    except np.linalg.LinAlgError:
        return False
    return True


def check_definite(A: np.ndarray, *, definite: bool, shift: float = 0.0, name: str = "A", why: str = "") -> str | None:
    """Whether ``B = A + shift I`` (symmetric, batched) is positive semidefinite or, with
    ``definite``, positive definite, beyond the rounding level ``n eps ||B||_2``.

    Returns None, or a message with the smallest eigenvalue, absolute and relative to
    ``||B||_2``, of the worst matrix of the batch. ``why`` is appended to it.
    """
    n = A.shape[-1]
    eye = np.eye(n)
    B = A + shift * eye if shift else A
    fro = _fro(B)[..., None, None]
    if definite:  # accept if B - s I > 0 with s >= n eps ||B||_2
        trial = B - (n * EPS) * fro * eye
    else:  # accept if B + s I > 0 with s <= n eps ||B||_2
        diag = np.abs(np.diagonal(B, axis1=-2, axis2=-1)).max(axis=-1)[..., None, None]
        trial = B + (n * EPS) * np.maximum(fro / np.sqrt(n), diag) * eye
    if _cholesky_ok(trial):
        return None
    lam = np.linalg.eigvalsh(B)  # ascending, (batch, n)
    norm2 = np.maximum(-lam[..., 0], lam[..., -1])
    level = n * EPS * norm2
    lmin = lam[..., 0]
    bad = lmin <= level if definite else lmin < -level
    if not np.any(bad):
        return None
    # the worst violator: the smallest eigenvalue relative to ||B||_2 (0 for a zero matrix)
    rel = np.where(norm2 > 0, lmin / np.where(norm2 > 0, norm2, 1.0), 0.0)
    worst = int(np.argmin(np.where(bad, rel, np.inf)))
    where = _where(worst, len(lmin))
    what = "positive definite" if definite else "positive semidefinite"
    if norm2[worst] == 0:
        return f"{name} is not {what}: it is the zero matrix{where}{why}"
    sign = "+" if definite else "-"
    return (f"{name} is not {what}: smallest eigenvalue {lmin[worst]:.3g} "
            f"(relative to ||{name}||_2: {rel[worst]:.3g}; the rounding level is "
            f"{sign}{n * EPS:.2g}){where}{why}")
