"""``krr_system``: a kernel ridge regression system of real data.

``K`` is the Gaussian kernel matrix of ``samples`` standardized rows of a real data set
(:mod:`implementations.common.kernels`, bandwidth a multiple of the median distance) and
``b`` their labels, centered and scaled to unit norm (the digit 0..9, the wine cultivar,
the tumour class): the task solves ``(K + mu I) alpha = b`` with ``mu`` its ``shift``, the
system of kernel ridge regression (Frangella, Tropp and Udell 2023, section 6, benchmark
Nyström-PCG on such systems). Small ``mu`` and a fast-decaying kernel spectrum make plain
CG slow (``kappa = (lambda_1 + mu) / mu``) and a Nyström preconditioner effective.
"""

from __future__ import annotations

import numpy as np

from matrixbench.generators.real_data import load_labels
from matrixbench.params import Param
from matrixbench.registry import generator

from implementations.common.kernels import DATASETS, rbf_kernel_matrix, standardized_rows


@generator("krr_system", task="spd_solve", params={
    "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "samples": Param(int, 1000, min=2, doc="rows drawn (without replacement) from the data set"),
    "bandwidth": Param(float, 1.0, min=0.0, doc="s as a multiple of the median pairwise distance"),
})
def krr_system(rng: np.random.Generator, dataset: str = "digits", samples: int = 1000,
               bandwidth: float = 1.0) -> dict[str, np.ndarray]:
    """``{"A": K, "b": centered labels}`` of ``samples`` rows of ``dataset``."""
    X, rows = standardized_rows(dataset, samples, rng)
    y = np.asarray(load_labels(dataset)[rows, 0], dtype=np.float64)
    y = y - y.mean()
    norm = np.linalg.norm(y)
    return {"A": rbf_kernel_matrix(X, bandwidth), "b": y / norm if norm > 0 else y}
