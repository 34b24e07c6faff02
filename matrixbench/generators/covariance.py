"""Covariance and correlation matrices of real features (``covariance``).

The SPD matrices that second-order methods meet in practice (whitening, decorrelated
batch normalization, Shampoo's statistics) are sample covariances of real features:
spectra with a few large eigenvalues, a long decaying tail and, where features are
redundant or constant, exact zeros. This generator takes them from the data sets in
``datasets/`` (see :mod:`matrixbench.generators.real_data`) and makes them SPD by
shrinkage toward a multiple of the identity (O. Ledoit and M. Wolf, "A well-conditioned
estimator for large-dimensional covariance matrices", J. Multivariate Analysis 88,
2004, whose target is ``mu I`` with ``mu = tr(C) / p``):

    C_s = (1 - s) C + s mu I.

Every eigenvalue of ``C_s`` is at least ``s mu``, so ``kappa_2(C_s) <= lambda_max / (s mu)``.
Unlike Ledoit and Wolf the intensity ``s`` is a parameter here, not estimated: the
benchmark wants to control conditioning. ``kappa_2`` of the full-data matrices:

==============  ===  ===========  ==========  ===========  ==========
data set        p    correlation  covariance  correlation  covariance
                     s = 1e-3     s = 1e-3    s = 0        s = 0
==============  ===  ===========  ==========  ===========  ==========
digits          64   7.7e3        9.5e3       singular     singular
wine            13   45           1.3e4       45           1.2e7
breast_cancer   30   1.2e4        2.9e4       1.0e5        6.3e11
==============  ===  ===========  ==========  ===========  ==========

(correlation: ``standardize=True``, the default; ``s = 1e-3`` is the default.)

Digits is singular without shrinkage only because pixels 0, 32 and 39 are 0 in every
image: shrinkage lifts those three zero eigenvalues to ``s mu`` (9.5e-4 for the
correlation with the default ``s``), while the rest of its spectrum starts near 0.05.
The raw wine and breast cancer features have standard deviations spanning three and
five orders of magnitude, hence their ill-conditioned covariances.
"""

from __future__ import annotations

import numpy as np

from ..params import Param
from ..registry import generator
from .common import serial_blas, symmetrize
from .real_data import load_dataset

#: The data sets offered; must match the names in ``datasets/catalog.yaml`` (tested).
DATASETS: tuple[str, ...] = ("breast_cancer", "digits", "wine")


def sample_covariance(x: np.ndarray, standardize: bool) -> np.ndarray:
    """Unbiased sample covariance (or correlation) of the rows of ``x`` ``(..., m, p)``.

    ``C = Xc^T Xc / (m - 1)`` with ``Xc`` the column-centred data. A feature that is
    constant in ``x`` gets an exactly zero row and column (the mean of equal numbers
    need not round back to them, so it is zeroed explicitly). With ``standardize``
    the result is the correlation matrix ``D^-1 C D^-1``, ``D = diag(C)^(1/2)``, with a
    unit diagonal, except that constant features keep a zero row, column and diagonal
    entry (their correlation is undefined).
    """
    m = x.shape[-2]
    if m < 2:
        raise ValueError(f"a sample covariance needs at least 2 samples, found {m}")
    constant = x.max(axis=-2) == x.min(axis=-2)  # (..., p), exact
    xc = x - x.mean(axis=-2, keepdims=True)
    xc = np.where(constant[..., None, :], 0.0, xc)
    c = (np.swapaxes(xc, -1, -2) @ xc) / (m - 1)
    if standardize:
        std = np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
        scale = np.where(constant, 1.0, std)  # constant features: 0 stays 0
        c = c / scale[..., :, None] / scale[..., None, :]
        diag = np.where(constant, 0.0, 1.0)
        idx = np.arange(c.shape[-1])
        c[..., idx, idx] = diag
    return c


def shrink(c: np.ndarray, shrinkage: float) -> np.ndarray:
    """``(1 - s) C + s (tr(C) / p) I`` for each matrix of ``c`` ``(..., p, p)``."""
    p = c.shape[-1]
    mu = np.trace(c, axis1=-2, axis2=-1) / p
    if np.any(mu <= 0.0):
        raise ValueError("every feature is constant: the covariance is zero")
    out = (1.0 - shrinkage) * c
    idx = np.arange(p)
    out[..., idx, idx] += shrinkage * mu[..., None]
    return out


@generator(
    "covariance",
    params={
        "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
        "standardize": Param(bool, True, doc="correlation (true) or covariance (false)"),
        "shrinkage": Param(float, 1e-3, min=0.0, max=1.0, doc="weight s of the target mu I"),
        "batch": Param(int, 1, min=1, doc="1: all samples; more: bootstrap resamples"),
    },
)
def covariance(
    rng: np.random.Generator,
    dataset: str = "digits",
    standardize: bool = True,
    shrinkage: float = 1e-3,
    batch: int = 1,
) -> np.ndarray:
    """Shrunk sample covariance or correlation of a real data set's features.

    Returns shape ``(batch, p, p)``, float64, exactly symmetric, with ``p`` the data
    set's number of features. With ``batch = 1`` the matrix comes from all samples
    and ``rng`` is not used. With ``batch > 1`` each matrix comes from its own
    bootstrap resample (``m`` rows drawn with replacement by ``rng``), giving a batch
    of related but different matrices. ``shrinkage = 0`` returns the plain sample
    matrix, which can be singular (digits).

    Cost: ``2 m p^2`` flops per matrix, ``m`` the number of samples.
    """
    x = load_dataset(dataset)
    if batch == 1:
        samples = x[None]
    else:
        rows = rng.integers(0, x.shape[0], size=(batch, x.shape[0]))
        samples = x[rows]
    with serial_blas():
        c = sample_covariance(samples, standardize)
    return symmetrize(shrink(c, shrinkage))
