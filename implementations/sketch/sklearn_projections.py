"""Baselines: scikit-learn's ``GaussianRandomProjection`` and ``SparseRandomProjection``.

scikit-learn projects *features*: ``transform(X)`` returns ``X R^T`` for ``X`` of shape
``(samples, features)`` and ``R`` (``n_components x features``). Our ``S`` acts on the ``n``
rows of ``A``, so ``A^T`` (``d`` samples of ``n`` features) goes in and
``(A^T S^T)^T = S A`` comes out: ``S = R`` with ``n_components = k``.

- ``GaussianRandomProjection``: ``R_ij ~ N(0, 1/k)``, as our ``gaussian`` (Dasgupta & Gupta
  2003); ``R`` is held dense, ``k n`` entries (3.2 GB in float64 for k = 400, n = 10^6).
- ``SparseRandomProjection``: Li, Hastie & Church (KDD 2006) with the default density
  ``1/sqrt(n)``, as our ``very_sparse``; ``R`` is a SciPy CSR matrix.

``fit`` draws ``R`` from ``random_state = seed`` and is done once and kept (as our methods keep
their operators, see ``_common``): the timed call is ``transform``, the time to apply.
Sparse ``A`` stays sparse (``A^T`` is CSC; ``dense_output=True`` makes ``S A`` dense).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import method

from ._common import SEED, gaussian_flops, very_sparse_flops

_FITTED: dict[str, tuple[tuple[Any, ...], Any]] = {}


def _fitted(cls_name: str, At: Any, k: int, seed: int) -> Any:
    from sklearn import random_projection

    key = (At.shape, k, seed, str(At.dtype))
    hit = _FITTED.get(cls_name)
    if hit is None or hit[0] != key:
        _FITTED.pop(cls_name, None)
        cls = getattr(random_projection, cls_name)
        kw = {"dense_output": True} if cls_name == "SparseRandomProjection" else {}
        proj = cls(n_components=k, random_state=seed, **kw).fit(At)
        hit = (key, proj)
        _FITTED[cls_name] = hit
    return hit[1]


def _project(cls_name: str, A: Any, k: int, seed: int) -> np.ndarray:
    At = A.T  # d x n: samples are the columns of A
    return np.asarray(_fitted(cls_name, At, k, seed).transform(At)).T


@method("sketch", "sklearn_gaussian", kind="baseline", backends=("numpy",), sparse=True,
        requires=("sklearn",), params={"seed": SEED}, flops=gaussian_flops)
def sklearn_gaussian(A: Any, k: int, seed: int = 0) -> np.ndarray:
    """``sklearn.random_projection.GaussianRandomProjection`` applied to ``A^T``."""
    return _project("GaussianRandomProjection", A, k, seed)


@method("sketch", "sklearn_sparse", kind="baseline", backends=("numpy",), sparse=True,
        requires=("sklearn",), params={"seed": SEED}, flops=very_sparse_flops)
def sklearn_sparse(A: Any, k: int, seed: int = 0) -> np.ndarray:
    """``sklearn.random_projection.SparseRandomProjection`` (density 1/sqrt(n)) applied to ``A^T``."""
    return _project("SparseRandomProjection", A, k, seed)
