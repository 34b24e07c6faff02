"""Random SPD matrices with a prescribed spectrum (``spd``).

The construction is the symmetric case of MATLAB's ``gallery('randsvd')`` (N. J.
Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM 2002,
§28.3): ``A = Q diag(l) Q^T`` with ``Q`` Haar-random orthogonal and eigenvalues ``l``
chosen in ``[1/cond, 1]``, the largest exactly 1 and the smallest exactly ``1/cond``,
so that ``||A||_2 = 1`` and ``kappa_2(A) = cond``.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ..registry import generator
from .common import haar_orthogonal, serial_blas, symmetrize

SPECTRA: tuple[str, ...] = ("geometric", "linear", "clustered")

#: Largest condition number offered. Forming ``Q diag(l) Q^T`` in float64 moves every
#: eigenvalue by about ``eps ||A||_2`` (``eps = 2.2e-16``), so the smallest one, ``1/cond``,
#: is off by a relative ``eps * cond`` or so. Measured with ``eigvalsh``: 1e-11 at
#: ``cond = 1e6``, 5e-7 at 1e12, 2e-4 at 1e14 and 5-15% at 1e16. The cap keeps the
#: promised ``kappa_2 = cond`` to about six digits.
MAX_COND = 1.0e12

#: ``clustered``: the small eigenvalues lie in ``[1/cond, CLUSTER_WIDTH/cond]``.
CLUSTER_WIDTH = 1.1


def eigenvalues(n: int, cond: float, spectrum: str) -> np.ndarray:
    """The ``n`` eigenvalues of ``spd(n, cond, spectrum)``, ascending.

    - ``geometric``: ``l_i = cond^(-(n-1-i)/(n-1))``, i.e. log-uniform spacing
      (``randsvd`` mode 3);
    - ``linear``: ``l_i = 1/cond + (1 - 1/cond) i/(n-1)`` (``randsvd`` mode 4);
    - ``clustered``: the smallest ``k = max(1, n // 10)`` eigenvalues form a tight
      cluster, geometrically spaced in ``[1/cond, min(1, 1.1/cond)]``, and the other
      ``n - k`` all equal 1: a 90/10 two-cluster spectrum on which Krylov and
      polynomial methods behave very differently from a spread spectrum.

    In every mode the first value is exactly ``1/cond`` and the last exactly 1. A
    ``1 x 1`` matrix has condition number 1 whatever ``cond``: its eigenvalue is 1.
    """
    if n == 1:
        return np.ones(1)
    lo = 1.0 / cond
    if spectrum == "geometric":
        lam = cond ** -np.linspace(1.0, 0.0, n)
    elif spectrum == "linear":
        lam = np.linspace(lo, 1.0, n)
    elif spectrum == "clustered":
        k = max(1, n // 10)
        width = min(CLUSTER_WIDTH, cond)
        lam = np.ones(n)
        lam[:k] = lo * width ** np.linspace(0.0, 1.0, k)
    else:
        raise ValueError(f"spectrum must be one of {SPECTRA}, found {spectrum!r}")
    lam[0], lam[-1] = lo, 1.0  # exact endpoints, whatever pow() rounded to
    return lam


@generator(
    "spd",
    params={
        "n": Param(int, min=1, doc="matrix size"),
        "cond": Param(float, 100.0, min=1.0, max=MAX_COND, doc="2-norm condition number"),
        "spectrum": Param(str, "geometric", choices=SPECTRA, doc="eigenvalue distribution"),
        "batch": Param(int, 1, min=1, doc="number of independent matrices"),
    },
)
def spd(
    rng: np.random.Generator,
    n: int,
    cond: float = 100.0,
    spectrum: str = "geometric",
    batch: int = 1,
) -> np.ndarray:
    """Random SPD matrices Q diag(l) Q^T with eigenvalues in [1/cond, 1].

    Returns shape ``(batch, n, n)``, float64, exactly symmetric. Each matrix has its
    own Haar-random ``Q`` (QR of a Gaussian matrix with the sign fix of Mezzadri 2007)
    and the same eigenvalues :func:`eigenvalues` ``(n, cond, spectrum)``: the largest
    is 1 and the smallest ``1/cond``, so ``kappa_2 = cond`` up to the rounding of
    forming the product (eigenvalues move by about ``eps``; see :data:`MAX_COND`).

    Cost: a QR and a product, about ``(4/3 + 2) n^3`` flops per matrix.
    """
    lam = eigenvalues(n, cond, spectrum)
    with serial_blas():
        q = haar_orthogonal(rng, n, batch)
        return symmetrize((q * lam) @ np.swapaxes(q, -1, -2))
