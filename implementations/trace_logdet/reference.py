"""Reference: the exact trace or log-determinant from the float64 eigenvalues.

``l = eigvalsh(A)`` (LAPACK, about ``4/3 n^3`` flops; the gram form is formed as
``J^T J + shift I`` first), then ``sum l`` or ``sum log l``. The reference also keeps
``sum |f(l)|``, the scale the task's relative error is floored by.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import method

from matrixbench.operators import LinearOperator, dense


def reference_flops(inputs: dict[str, Any], **_: Any) -> float:
    return 4.0 / 3.0 * LinearOperator.of(inputs["A"]).n ** 3


@method("trace_logdet", "reference", kind="reference", backends=("numpy",), dtypes=("float64",),
        flops=reference_flops)
def reference(A: Any, quantity: str = "trace", budget: int = 0) -> dict[str, np.ndarray]:
    """``sum f(l_i)`` over the eigenvalues of ``A`` (``f`` the identity or ``log``)."""
    matrix = dense(A)  # timed as a cell it gets the operator: n products form the matrix
    lam = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))
    f = np.log(lam) if quantity == "logdet" else lam
    return {"value": np.array(f.sum()), "abs_sum": np.array(np.abs(f).sum())}
