"""Small building blocks shared by the generators: exact symmetrisation, Haar rotations,
thread-count-independent BLAS."""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
from threadpoolctl import threadpool_limits


def serial_blas() -> AbstractContextManager:
    """Run BLAS and LAPACK on one thread inside the ``with`` block.

    A multithreaded product or QR splits its sums differently for different thread
    counts, so the last bits of a generated matrix would depend on the caller's
    thread setting (measured: OpenBLAS, 1 versus 2 threads). On one thread they depend
    only on the machine and the BLAS build. The previous limits come back on exit.
    """
    return threadpool_limits(limits=1, user_api="blas")


def symmetrize(a: np.ndarray) -> np.ndarray:
    """Return ``(a + a^T) / 2`` over the last two axes, float64 and C-contiguous.

    The result is *exactly* symmetric: floating-point addition commutes, so entry
    ``(i, j)`` and entry ``(j, i)`` are the same sum of the same two numbers.
    """
    a = np.asarray(a, dtype=np.float64)
    return np.ascontiguousarray((a + np.swapaxes(a, -1, -2)) * 0.5)


def haar_orthogonal(rng: np.random.Generator, n: int, batch: int) -> np.ndarray:
    """``batch`` orthogonal ``n x n`` matrices drawn from the Haar (uniform) distribution.

    F. Mezzadri, "How to generate random matrices from the classical compact groups",
    Notices of the AMS 54(5), 2007: take the QR factorization ``G = Q R`` of a matrix
    of independent standard normals and multiply column ``j`` of ``Q`` by the sign of
    ``R[j, j]``. Without that sign fix LAPACK's sign convention biases the distribution.
    Cost: one Householder QR, about ``4/3 n^3`` flops per matrix.
    """
    g = rng.standard_normal((batch, n, n))
    q, r = np.linalg.qr(g)
    d = np.diagonal(r, axis1=-2, axis2=-1)
    signs = np.where(d < 0.0, -1.0, 1.0)  # never 0, unlike np.sign on an exact zero
    return q * signs[..., None, :]
