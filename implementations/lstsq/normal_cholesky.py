"""Normal equations by Cholesky: ``A^T A x = A^T b``.

The textbook method (Golub & Van Loan, *Matrix Computations*, 4th ed., 2013, Algorithm
5.3.1): ``C = A^T A`` (``2 m n^2`` flops as a general product, ``m n^2`` exploiting
symmetry), ``d = A^T b``, ``C = L L^T`` (``n^3 / 3``), two triangular solves (``2 n^2``).
The fastest direct method for ``m >> n``, about twice cheaper than Householder QR, and one
level-3 product that GPUs run at peak. But it squares the condition number: the forward
error is about ``u kappa(A)^2`` (Higham, *Accuracy and Stability of Numerical
Algorithms*, 2nd ed., 2002, section 20.4) against ``u kappa + u kappa^2 ||r||/(||A||
||x||)`` for QR, and Cholesky breaks down once ``kappa(A)^2 u`` nears 1 (``kappa`` about
1e8 in float64, 3e3 in float32). Then the cell says so (``inaccurate`` with the failed
pivot), it does not crash. In the report for that reason: fast and inaccurate on
ill-conditioned problems.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch

from matrixbench.registry import WithInfo, method


def normal_cholesky_flops(inputs: Mapping[str, Any]) -> float:
    m, n = inputs["A"].shape
    return 2.0 * m * n * n + 2.0 * m * n + n**3 / 3.0 + 2.0 * n * n


@method("lstsq", "normal_cholesky", kind="optimized", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), flops=normal_cholesky_flops)
def normal_cholesky(A: torch.Tensor, b: torch.Tensor) -> WithInfo:
    """Cholesky of ``A^T A``, solve ``A^T A x = A^T b``; a failed factorization is reported."""
    L, info = torch.linalg.cholesky_ex(A.mT @ A)
    pivot = int(info.item())
    if pivot > 0:
        return WithInfo(torch.zeros(A.shape[1], dtype=A.dtype, device=A.device), {},
                        failure=f"Cholesky of A^T A failed at pivot {pivot}: not positive definite in "
                                f"{str(A.dtype).removeprefix('torch.')} (kappa(A)^2 u >= 1)")
    return WithInfo(torch.cholesky_solve((A.mT @ b)[:, None], L)[:, 0], {})
