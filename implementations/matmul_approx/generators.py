"""Inputs of the ``matmul_approx`` task: ``product_pair``, the two factors of ``A^T B``.

``product_pair``: ``{"A": n x d, "B": n x m}`` for ``A^T B`` (the ``matmul_approx``
task), dense (``s = 0``) or with ``s`` non-zeros per row, independent patterns and
values, and one shared log-normal row scaling (``sigma``): rows are records of a join,
heavy in both matrices at once, which is what makes norm-proportional sampling pay off.
With ``correlation = c > 0`` the dense ``B`` is ``c A W + (1 - c) G`` for a Gaussian
``d x m`` ``W / sqrt(d)``, so ``A^T B`` has a signal beyond noise (sparse pairs: ``B``'s
values on its own pattern are then taken from ``A``'s row sums, see the code).
"""

from __future__ import annotations

import numpy as np

from matrixbench.generators.common import serial_blas
from matrixbench.generators.tall import row_scales, sparse_rows
from matrixbench.params import Param
from matrixbench.registry import generator


@generator(
    "product_pair",
    task="matmul_approx",
    params={
        "n": Param(int, min=1, doc="rows shared by A and B (the inner dimension)"),
        "d": Param(int, 100, min=1, doc="columns of A"),
        "m": Param(int, 100, min=1, doc="columns of B"),
        "s": Param(int, 0, min=0, doc="non-zeros per row of A and of B; 0: dense"),
        "sigma": Param(float, 0.0, min=0.0, doc="log-normal spread of the shared row scaling"),
        "correlation": Param(float, 0.0, min=0.0, max=1.0,
                             doc="dense: B = c A W + (1 - c) G; sparse: B's values mixed with A's row sums"),
    },
)
def product_pair(
    rng: np.random.Generator,
    n: int,
    d: int = 100,
    m: int = 100,
    s: int = 0,
    sigma: float = 0.0,
    correlation: float = 0.0,
) -> dict[str, object]:
    """``{"A": n x d, "B": n x m}``: the two factors of ``A^T B``."""
    scales = row_scales(rng, n, sigma)
    if s > 0:
        A = sparse_rows(rng, n, d, s, scales)
        B = sparse_rows(rng, n, m, s, scales)
        if correlation > 0:
            # Mix A's row sums into B's values: rows that are large in A stay large in B.
            rowsum = np.asarray(A.sum(axis=1)).ravel() / np.sqrt(s)
            B.data = correlation * np.repeat(rowsum, s) + (1 - correlation) * B.data
        return {"A": A, "B": B}
    A = rng.standard_normal((n, d)) * scales[:, None]
    G = rng.standard_normal((n, m)) * scales[:, None]
    if correlation > 0:
        W = rng.standard_normal((d, m)) / np.sqrt(d)
        with serial_blas():  # bit-identical whatever the thread count
            G = correlation * (A @ W) + (1 - correlation) * G
    return {"A": A, "B": G}
