"""Gaussian (RBF) kernel matrices of real data rows, shared by the tasks that need one.

``K_ij = exp(-||x_i - x_j||^2 / (2 s^2))`` over standardized rows (each feature centered
and scaled to unit variance; constant features left at 0), with ``s`` a multiple of the
median pairwise distance (the "median heuristic"; Garreau, Jitkrittum and Kanagawa, "Large
sample analysis of the median heuristic", 2017). ``K`` is positive semidefinite with a
fast-decaying spectrum: the matrix of kernel ridge regression, ``(K + mu I) alpha = y``
(Frangella, Tropp and Udell 2023 use such systems for Nystrom-preconditioned CG), and of
Gaussian-process log-likelihoods.
"""

from __future__ import annotations

import numpy as np

from matrixbench.generators.common import serial_blas, symmetrize
from matrixbench.generators.kernel_points import DATASETS, standardized_rows  # noqa: F401  (re-exported)

def rbf_kernel_matrix(X: np.ndarray, bandwidth: float = 1.0) -> np.ndarray:
    """``exp(-D^2 / (2 s^2))``, ``s = bandwidth * median pairwise distance`` of the rows of ``X``."""
    samples = X.shape[0]
    with serial_blas():
        sq = (X * X).sum(axis=1)
        D2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * X @ X.T, 0.0)
        np.fill_diagonal(D2, 0.0)
        s = bandwidth * float(np.median(np.sqrt(D2[np.triu_indices(samples, 1)])))
        return symmetrize(np.exp(-D2 / (2.0 * s * s)))
