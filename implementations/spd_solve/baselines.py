"""Third-party solvers: SciPy's ``cg`` and ``spsolve``, PyAMG, and ilupp's incomplete Cholesky.

- ``scipy_cg``: ``scipy.sparse.linalg.cg`` on the counted operator (a SciPy
  ``LinearOperator`` whose products go through the harness's count), ``rtol = tol``,
  ``atol = 0``, ``maxiter = budget``.
- ``spsolve``: ``scipy.sparse.linalg.spsolve``, SuperLU with its default COLAMD column
  ordering and partial pivoting (a general sparse LU, not using symmetry); sparse ``A``
  only, it reads the entries.
- ``pyamg_sa``: PyAMG's smoothed aggregation (Vaněk, Mandel and Brezina, Computing 56,
  1996; Olson and Schroder, PyAMG, 2018) with its defaults (symmetric strength of
  connection, Jacobi-smoothed prolongation, symmetric Gauss-Seidel smoothing), used as a
  preconditioner of its CG (``accel="cg"``), ``maxiter = budget`` cycles. Setup and
  cycles read the entries: its ``matvecs`` are 0, its ``iterations`` are CG steps, each one
  V-cycle. Sparse ``A`` only. Optional: ``pip install pyamg``.
- ``pcg_ichol``: our PCG with ilupp's incomplete Cholesky ``IChol0Preconditioner`` (no
  fill: ``L`` has the pattern of ``tril(A)``; Meijerink and van der Vorst, Math. Comp. 31,
  1977), which reads the entries. Sparse ``A`` only. Optional: ``pip install ilupp``
  (built from source: it needs a C++ compiler).

A package that is not installed skips its methods with the install command as the reason.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import scipy.sparse as sp
import torch

from matrixbench.registry import WithInfo, method

from ._common import not_converged, pcg
from .task import stop_tolerance

NUMPY = dict(kind="baseline", backends=("numpy",), dtypes=("float32", "float64"), sparse=True)


def sparse_only(inputs: dict[str, Any], **_: Any) -> str | None:
    return None if sp.issparse(inputs["A"]) else "a sparse solver: A is dense here (torch_cholesky solves it)"


@method("spd_solve", "scipy_cg", **NUMPY, trace=True)
def scipy_cg(A: Any, b: np.ndarray, shift: float = 0.0, budget: int = 500, tol: float = 0.0,
             callback: Callable[[np.ndarray], None] | None = None) -> WithInfo:
    """``scipy.sparse.linalg.cg`` from 0 on the counted operator."""
    from scipy.sparse.linalg import cg

    steps = 0

    def count(xk: np.ndarray) -> None:
        nonlocal steps
        steps += 1
        if callback is not None:
            callback(xk.copy())

    x, info = cg(A.scipy(), b, rtol=stop_tolerance(tol, b.dtype), atol=0.0, maxiter=budget, callback=count)
    failure = None
    if info:
        failure = f"scipy's cg did not converge (info {info}): " + not_converged(
            float(np.linalg.norm(b - A.matrix @ x) / np.linalg.norm(b)), tol, b.dtype, budget)
    return WithInfo(x, {"iterations": steps}, failure=failure)


@method("spd_solve", "spsolve", **NUMPY, applies=sparse_only)
def spsolve(A: Any, b: np.ndarray, shift: float = 0.0, budget: int = 500, tol: float = 0.0) -> np.ndarray:
    """SuperLU's sparse LU (COLAMD, partial pivoting) of ``A.matrix``."""
    from scipy.sparse.linalg import spsolve as superlu

    return superlu(sp.csc_matrix(A.matrix), b)


@method("spd_solve", "pyamg_sa", **NUMPY, requires=("pyamg",), applies=sparse_only, trace=True)
def pyamg_sa(A: Any, b: np.ndarray, shift: float = 0.0, budget: int = 500, tol: float = 0.0,
             callback: Callable[[np.ndarray], None] | None = None) -> WithInfo:
    """Smoothed-aggregation AMG as CG's preconditioner (PyAMG defaults)."""
    import pyamg

    solver = pyamg.smoothed_aggregation_solver(sp.csr_matrix(A.matrix))
    residuals: list[float] = []
    x = solver.solve(b, tol=stop_tolerance(tol, b.dtype), maxiter=budget, accel="cg", residuals=residuals,
                     callback=None if callback is None else (lambda xk: callback(np.array(xk, copy=True))))
    x = np.asarray(x, dtype=b.dtype)
    relative = float(np.linalg.norm(b - A.matrix @ x) / np.linalg.norm(b))
    cycles = max(len(residuals) - 1, 0)
    # PyAMG stops on its own preconditioned residual; the true one decides (10% slack for rounding)
    failure = None if relative <= 1.1 * stop_tolerance(tol, b.dtype) else not_converged(relative, tol, b.dtype, budget)
    return WithInfo(x, {"iterations": cycles}, failure=failure)


@method("spd_solve", "pcg_ichol", kind="baseline", backends=("torch",), devices=("cpu",),
        dtypes=("float32", "float64"), sparse=True, requires=("ilupp",), applies=sparse_only, trace=True)
def pcg_ichol(A: Any, b: torch.Tensor, shift: float = 0.0, budget: int = 500, tol: float = 0.0,
              callback: Callable[[torch.Tensor], None] | None = None) -> WithInfo:
    """Our PCG with ilupp's IC(0) preconditioner (applied on the CPU in float64)."""
    import ilupp

    M = A.matrix
    csr = sp.csr_matrix((M.values().cpu().double().numpy(), M.col_indices().cpu().numpy(),
                         M.crow_indices().cpu().numpy()), shape=M.shape)
    ichol = ilupp.IChol0Preconditioner(csr)

    def precondition(r: torch.Tensor) -> torch.Tensor:
        z = r.detach().cpu().double().numpy().copy()
        ichol.apply(z)  # in place
        return torch.from_numpy(z).to(r.dtype)

    return pcg(A, b, budget, tol, precondition=precondition, callback=callback)
