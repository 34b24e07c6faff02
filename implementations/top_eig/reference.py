"""Reference: the ``k`` largest eigenpairs from ``numpy.linalg.eigh`` in float64 (LAPACK,
about ``9 n^3`` flops with vectors; a sparse or factored ``A`` is formed first)."""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import method

from matrixbench.operators import LinearOperator, dense


def reference_flops(inputs: dict[str, Any], **_: Any) -> float:
    return 9.0 * LinearOperator.of(inputs["A"]).n ** 3


@method("top_eig", "reference", kind="reference", backends=("numpy",), dtypes=("float64",), flops=reference_flops,
        sparse=True)
def reference(A: Any, k: int = 1, budget: int = 0) -> dict[str, np.ndarray]:
    """The top-``k`` of ``eigh``, eigenvalues descending."""
    M = dense(A)  # timed as a cell it gets the operator: n products form the matrix
    lam, V = np.linalg.eigh(0.5 * (M + M.T))
    return {"values": np.ascontiguousarray(lam[::-1][:k]), "vectors": np.ascontiguousarray(V[:, ::-1][:, :k])}
