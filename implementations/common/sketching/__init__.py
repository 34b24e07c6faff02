"""Shared sketching operators: one implementation of each, used by every task.

``sketch(kind, k, n, seed=...)`` builds a seeded ``k x n`` random matrix ``S`` whose
``apply(A)`` returns ``S @ A`` for dense or sparse ``A`` (torch on CPU/CUDA, NumPy,
SciPy sparse); ``matrix()`` gives ``S`` explicitly. Two operators built with the same
arguments are the same matrix, whatever they are applied to (see ``_base``).

=================  ==============================================  ===========================
kind               distribution (module)                           apply cost, ``A`` is n x d
=================  ==============================================  ===========================
``gaussian``       iid N(0, 1/k) (``gaussian``)                    ``2 k n d``
``srht``           ``R H D / sqrt(k)``, FWHT (``srht``, ``fwht``)  ``n' d log2 n'``, n' = 2^ceil(log2 n)
``countsketch``    one +-1 per column (``sparse``)                 ``nnz(A)``
``sparse_sign``    ``nnz`` +-1/sqrt(nnz) per column (``sparse``)   ``nnz * nnz(A)``
``very_sparse``    density 1/sqrt(n), Li-Hastie-Church (``sparse``) ``2 k d sqrt(n)``
=================  ==============================================  ===========================

It lives in ``implementations/common``, the library the tasks share (it registers nothing).
"""

from __future__ import annotations

from typing import Any

from matrixbench.arrays import is_torch

from ._base import SketchOperator, substream
from .fwht import fwht, is_power_of_two, next_power_of_two
from .gaussian import GaussianSketch
from .sparse import CountSketch, SparseSignSketch, VerySparseSketch
from .srht import SRHTSketch

KINDS: dict[str, type[SketchOperator]] = {
    "gaussian": GaussianSketch,
    "srht": SRHTSketch,
    "countsketch": CountSketch,
    "sparse_sign": SparseSignSketch,
    "very_sparse": VerySparseSketch,
}


def sketch(
    kind: str,
    k: int,
    n: int,
    *,
    seed: int,
    nnz: int = 8,
    backend: str = "torch",
    dtype: Any = None,
    device: Any = None,
    hold: bool = False,
) -> SketchOperator:
    """The ``k x n`` sketching operator of ``kind`` drawn from ``seed``.

    ``nnz``: non-zeros per column of ``sparse_sign`` (ignored by the others).
    ``dtype``/``device``: of ``S``'s entries (torch default: ``torch.get_default_dtype()``
    on the CPU; numpy default float64); ``apply`` casts ``S`` to ``A``'s dtype.
    ``hold``: ``gaussian`` only: keep ``S`` once drawn (``k n`` entries) instead of
    redrawing its blocks in every apply (ignored by the others, which always hold ``S``).
    """
    try:
        cls = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown sketch kind {kind!r}; known: {', '.join(KINDS)}") from None
    kw: dict[str, Any] = {"seed": seed, "backend": backend, "dtype": dtype, "device": device}
    if cls is SparseSignSketch:
        kw["nnz"] = nnz
    if cls is GaussianSketch:
        kw["hold"] = hold
    return cls(k, n, **kw)


def sketch_for(A: Any, kind: str, k: int, *, seed: int, nnz: int = 8, hold: bool = False) -> SketchOperator:
    """``sketch(kind, k, A.shape[0], ...)`` with the backend, dtype and device of ``A``."""
    if is_torch(A):
        return sketch(kind, k, A.shape[0], seed=seed, nnz=nnz, backend="torch", dtype=A.dtype,
                      device=A.device, hold=hold)
    return sketch(kind, k, A.shape[0], seed=seed, nnz=nnz, backend="numpy", dtype=A.dtype, hold=hold)


__all__ = [
    "KINDS",
    "SketchOperator",
    "fwht",
    "is_power_of_two",
    "next_power_of_two",
    "sketch",
    "sketch_for",
    "substream",
]
