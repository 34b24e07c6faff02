"""Affinely parametrized matrices ``A(mu) = sum_q theta_q A_q``: assembly and factorizations.

Shared by every method of the task: the terms ``A_q`` are dense arrays or SciPy sparse
matrices (all of one kind), ``theta`` one row of the task's ``theta_train`` or
``theta_test``. A :class:`Factor` is the Cholesky factorization of one ``A(mu)``: LAPACK's
``potrf`` for a dense matrix, SuperLU in symmetric mode (a fill-reducing ordering of
``A + A^T``, diagonal pivots: the sparse ``L D L^T``) for a sparse one; both give solves
and ``log det A = sum log`` of the pivots, and refuse a matrix that is not positive
definite instead of returning a wrong answer.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp


def assemble(terms: Sequence[Any], theta: np.ndarray) -> Any:
    """``sum_q theta_q A_q`` in the terms' dtype (CSR when they are sparse)."""
    out = terms[0] * theta[0]
    for A, t in zip(terms[1:], theta[1:]):
        out = out + A * t
    return out.tocsr() if sp.issparse(out) else out


class NotDefinite(np.linalg.LinAlgError):
    """``A(mu)`` is not positive definite: no Cholesky factor, no real log-determinant."""


class Factor:
    """The Cholesky (dense) or symmetric ``L D L^T`` (sparse) factorization of an SPD matrix."""

    def __init__(self, A: Any):
        self.sparse = sp.issparse(A)
        self.n = A.shape[0]
        if self.sparse:
            from scipy.sparse.linalg import splu

            try:
                self.lu = splu(sp.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                               options={"SymmetricMode": True})
            except RuntimeError as exc:  # an exactly zero pivot
                raise NotDefinite(f"singular: {exc}") from exc
            pivots = self.lu.U.diagonal()
            if not np.array_equal(self.lu.perm_r, self.lu.perm_c) or pivots.min() <= 0:
                raise NotDefinite(f"a pivot <= 0 in L D L^T (smallest {pivots.min():.3g})")
            self._logdet = float(np.sum(np.log(pivots.astype(np.float64))))
        else:
            try:
                self.c = la.cho_factor(A, lower=True, check_finite=False)
            except la.LinAlgError as exc:
                raise NotDefinite(str(exc)) from exc
            d = np.diag(self.c[0])
            if not np.all(d > 0) or not np.all(np.isfinite(d)):
                raise NotDefinite("Cholesky pivot <= 0")
            self._logdet = float(2.0 * np.sum(np.log(d.astype(np.float64))))

    def solve(self, B: np.ndarray) -> np.ndarray:
        if self.sparse:
            return self.lu.solve(np.asarray(B))
        return la.cho_solve(self.c, B, check_finite=False)

    def logdet(self) -> float:
        return self._logdet


class Clock:
    """Offline and online wall time, measured inside a method with ``time.perf_counter``."""

    def __init__(self) -> None:
        self.offline = 0.0
        self.online = 0.0

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            setattr(self, name, getattr(self, name) + time.perf_counter() - start)

    def info(self, tests: int, **counts: float) -> dict[str, float]:
        """The task's timing metrics: offline seconds, online seconds per test parameter."""
        return {"offline_time": self.offline, "online_time": self.online / max(tests, 1), **counts}


def rhs_block(B: np.ndarray) -> np.ndarray:
    """``B`` as an ``n x k`` block (a vector is one column)."""
    return B[:, None] if B.ndim == 1 else B
