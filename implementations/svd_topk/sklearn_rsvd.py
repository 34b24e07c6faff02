"""Baseline: scikit-learn's randomized SVD, ``sklearn.utils.extmath.randomized_svd``.

The same algorithm as :mod:`.randomized` (Halko, Martinsson and Tropp 2011, Algorithms
4.4 and 5.1): a Gaussian test matrix of ``k + p`` columns (``n_oversamples``), ``q``
power iterations (``n_iter``) normalized by pivoted LU or QR
(``power_iteration_normalizer``; scikit-learn's ``"auto"`` means none for ``q <= 2`` and
LU above), then the SVD of ``Q^T A``. NumPy/SciPy on the CPU, dense or SciPy sparse,
in the input's float dtype; it transposes wide inputs first (``transpose="auto"``).

Optional: needs scikit-learn (the cell is skipped with that reason without it).
Cost: as :func:`.randomized.randomized_flops` with QR or LU between power steps.
Skipped when ``k + p > min(m, n)`` (:func:`.randomized.sketch_fits`). With
``normalizer = "auto"`` and ``q <= 2`` the power steps are not normalized: on an
ill-conditioned ``A`` at ``k`` near ``min(m, n)`` the basis collapses onto the leading
singular vectors (measured: 120 x 80, ``kappa = 2e3``, ``k = 80``, ``p = 0``: off by
``1e-4 ||A||_F``). scikit-learn reports nothing; the optimality ratio shows it.
"""

from __future__ import annotations

from typing import Any, Mapping

from matrixbench.params import Param
from matrixbench.registry import method

from .randomized import randomized_flops, sketch_fits

NORMALIZERS: tuple[str, ...] = ("auto", "LU", "QR", "none")


def sklearn_flops(inputs: Mapping[str, Any], p: int = 10, q: int = 2, normalizer: str = "auto",
                  seed: int = 0) -> float:
    ortho = "qr" if normalizer == "QR" else "lu"  # "none" and "auto" cost at most LU's
    return randomized_flops(inputs, p=p, q=q, ortho=ortho)


@method(
    "svd_topk",
    "sklearn_randomized_svd",
    kind="baseline",
    backends=("numpy",),
    params={
        "p": Param(int, 10, min=0, doc="n_oversamples"),
        "q": Param(int, 2, min=0, doc="n_iter (power iterations)"),
        "normalizer": Param(str, "auto", choices=NORMALIZERS, doc="power_iteration_normalizer"),
        "seed": Param(int, 0, min=0, doc="random_state"),
    },
    requires=("sklearn",),
    flops=sklearn_flops,
    sparse=True,
    applies=sketch_fits,
)
def sklearn_randomized_svd(A: Any, k: int, p: int = 10, q: int = 2, normalizer: str = "auto",
                           seed: int = 0) -> tuple[Any, Any, Any]:
    """``sklearn.utils.extmath.randomized_svd(A, k, n_oversamples=p, n_iter=q)``."""
    from sklearn.utils.extmath import randomized_svd

    U, s, Vt = randomized_svd(A, k, n_oversamples=p, n_iter=q, power_iteration_normalizer=normalizer,
                              random_state=seed, flip_sign=False)
    return U, s, Vt.T
