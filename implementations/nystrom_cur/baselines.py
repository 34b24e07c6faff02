"""Third-party baselines: scikit-learn's ``Nystroem`` and SciPy's ``linalg.interpolative``.

- ``sklearn_nystroem``: ``sklearn.kernel_approximation.Nystroem`` with ``k`` components,
  uniform columns (its only sampling), kernel ``"rbf"`` with ``gamma = 1 / (2 s^2)`` or
  ``"laplacian"`` with ``gamma = 1 / s`` (the l1 Laplace kernel); its features ``Phi``
  satisfy ``Phi Phi^T = C W^+ C^T``. It evaluates the kernel itself from the points:
  charged ``n k + k^2`` entries (the ``n x k`` block and the ``k x k`` one).
- ``scipy_interpolative``: ``scipy.linalg.interpolative.interp_decomp(A, k)`` (the ID
  package of Martinsson, Rokhlin, Shkolnisky and Tygert; randomized for large ``A``) on
  the whole matrix (``m n`` entries), ``A ≈ A[:, idx[:k]] P`` with
  ``P = reconstruct_interp_matrix(idx, proj)``. Float64 only (the package's type).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrixbench.registry import method

from ._common import SEED, entry_matrix, kernel_only

SKLEARN_KERNEL = {"gaussian": ("rbf", lambda s: 1.0 / (2.0 * s * s)), "laplace": ("laplacian", lambda s: 1.0 / s)}


@method("nystrom_cur", "sklearn_nystroem", kind="baseline", backends=("numpy",), dtypes=("float32", "float64"),
        requires=("sklearn",), params={"seed": SEED}, applies=kernel_only)
def sklearn_nystroem(A: Any, k: int = 10, psd: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    """scikit-learn's ``Nystroem`` features as ``F``."""
    from sklearn.kernel_approximation import Nystroem

    A = entry_matrix(A)
    name, gamma = SKLEARN_KERNEL[A.kernel]
    features = Nystroem(kernel=name, gamma=gamma(A.bandwidth), n_components=k, random_state=seed)
    F = features.fit_transform(A.points)
    A.charge(A.shape[0] * k + k * k)
    return {"F": F}


@method("nystrom_cur", "scipy_interpolative", kind="baseline", backends=("numpy",), dtypes=("float64",))
def scipy_interpolative(A: Any, k: int = 10, psd: bool = True) -> dict[str, np.ndarray]:
    """SciPy's interpolative decomposition of rank ``k``."""
    import scipy.linalg.interpolative as sli

    M = np.asarray(entry_matrix(A).full(), dtype=np.float64)
    idx, proj = sli.interp_decomp(M, k)
    return {"left": M[:, idx[:k]], "right": sli.reconstruct_interp_matrix(idx, proj)}
