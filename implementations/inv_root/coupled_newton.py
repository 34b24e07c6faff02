"""Coupled Newton iteration for the inverse p-th root (Guo & Higham 2006), as in
Distributed Shampoo.

C.-H. Guo and N. J. Higham, "A Schur-Newton method for the matrix p-th root and its
inverse", SIAM J. Matrix Anal. Appl. 28(3), 2006; the scaling and stopping rule follow
Distributed Shampoo's ``matrix_inverse_root`` (Shi et al. 2023, "A Distributed
Data-Parallel PyTorch Implementation of the Distributed Shampoo Optimizer").

With ``B = A + eps I`` and ``z = (1 + p) / (2 ||B||_F)``::

    X_0 = z^{1/p} I,   M_0 = z B
    repeat:  T = ((1 + p) I - M_k) / p
             X_{k+1} = X_k T,    M_{k+1} = T^p M_k

The invariant ``M_k = X_k^p B`` holds at every step, so ``M_k -> I`` means
``X_k -> B^{-1/p}``. The scaling puts the eigenvalues of ``M_0`` in ``(0, (1+p)/2]``,
inside the region of convergence ``(0, p + 1)``; convergence is then global and
eventually quadratic. Each eigenvalue follows ``m <- ((1 + p - m)/p)^p m``, a map whose
maximum is 1 at ``m = 1``: after the first step ``I - M_k`` is positive semidefinite and
shrinks monotonically (in the Loewner order), so its largest entry, the diagonal's,
never grows in exact arithmetic.

The error is ``max_ij |M_k - I|_ij``, what Distributed Shampoo computes
(``torch.dist(M, I, p=inf)``, the entrywise maximum; Anil et al.'s JAX Shampoo takes the
same). The induced infinity norm (largest row sum) would not do: it can grow for
several steps while the large eigenvalues converge before the small ones (it is up to
``sqrt(n)`` times the 2-norm for a projector), so it cannot tell progress from trouble.
The iteration stops once the error is at most ``tolerance`` for every matrix of the
batch, or after ``max_iters`` steps, or when the error grows by more than ``1.2x`` in a
step after the first (the JAX Shampoo guard: by the monotonicity above, only rounding
makes it grow): the latter two return the last iterate that did not grow, with a
``failure`` that makes the cell ``inaccurate`` with the reason, never a silent answer.

Cost per step: ``T^p`` by repeated squaring (``log2 p`` products for p = 2, 4, 8) plus
``X T`` and ``T^p M``: ``(2 + log2 p) 2 n^3`` flops per matrix.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

GROWTH_LIMIT = 1.2  # JAX Shampoo's bound on the error's increase in one step


def _power(T: torch.Tensor, p: int) -> torch.Tensor:
    """``T^p`` for p a power of two, by squaring."""
    for _ in range(int(math.log2(p))):
        T = T @ T
    return T


def _error(M: torch.Tensor, eye: torch.Tensor) -> torch.Tensor:
    """``max |M - I|`` over the entries and the batch (a 0-d tensor)."""
    return (M - eye).abs().amax()


def coupled_newton_flops(inputs: Mapping[str, Any], tolerance: float = 1e-6, max_iters: int = 100) -> float:
    """FLOPs of one step times the cap (an upper bound: see the ``iterations`` metric)."""
    batch, n, _n = inputs["A"].shape
    return batch * max_iters * (2 + math.log2(inputs["p"])) * 2 * n**3


def applies(inputs: Mapping[str, Any], **params: Any) -> str | None:
    """``T^p`` by repeated squaring: ``p`` must be a power of two (the task offers 2, 4, 8)."""
    p = int(inputs["p"])
    if p >= 1 and p & (p - 1) == 0:
        return None
    return f"coupled Newton forms T^p by squaring: p must be a power of 2; got {p}"


@method(
    "inv_root",
    "coupled_newton",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("float32", "float64"),
    params={
        "tolerance": Param(float, 1e-6, min=0.0, doc="stop once max|M - I| (entrywise) is at most this"),
        "max_iters": Param(int, 100, min=1, doc="iteration cap"),
    },
    flops=coupled_newton_flops,
    applies=applies,
)
def coupled_newton(A: torch.Tensor, p: int = 2, eps: float = 1e-12, Q_prev: Any = None, tolerance: float = 1e-6,
                   max_iters: int = 100) -> WithInfo:
    """Guo-Higham coupled Newton for ``(A + eps I)^{-1/p}``; reports iterations and non-convergence."""
    n = A.shape[-1]
    eye = torch.eye(n, dtype=A.dtype, device=A.device)
    B = A + eps * eye
    z = (1 + p) / (2 * torch.linalg.matrix_norm(B, keepdim=True))
    X = z ** (1.0 / p) * eye.expand_as(A)
    M = z * B
    scaled_eye = eye * ((1 + p) / p)
    error = _error(M, eye)
    k, failure = 0, None
    while error > tolerance:  # one host sync per step, as in Distributed Shampoo
        if k == max_iters:
            failure = f"no convergence after {max_iters} steps: max|M - I| = {error.item():.2e} > {tolerance:g}"
            break
        T = torch.add(scaled_eye, M, alpha=-1.0 / p)  # ((1 + p) I - M) / p
        X_next, M_next = X @ T, _power(T, p) @ M
        new_error = _error(M_next, eye)
        k += 1
        if k > 1 and new_error > GROWTH_LIMIT * error:
            failure = (f"stopped at step {k}: max|M - I| grew from {error.item():.2e} to {new_error.item():.2e} "
                       f"(rounding took over before the tolerance {tolerance:g}); returned step {k - 1}")
            break
        X, M, error = X_next, M_next, new_error
    return WithInfo(X, {"iterations": k}, failure=failure)
