"""Problems of ``trace_logdet``: XTrace's test spectra, a Gauss-Newton matrix, a kernel matrix.

- ``trace_spectrum``: ``A = Q diag(l) Q^T`` with ``Q`` Haar-random and the six spectra of
  XTrace's own test script (Epperly, Tropp and Webber, "XTrace: making the most of every
  sample in stochastic trace estimation", SIAM J. Matrix Anal. Appl. 45(1), 2024;
  ``tests/basic_tests.m`` of github.com/eepperly/XTrace, read for the spectra): ``flat``
  ``linspace(1, 3, n)``, ``poly`` ``i^-2``, ``slowexp`` ``0.9^i``, ``fastexp`` ``0.7^i``
  (``i = 0..n-1``; ``poly`` from ``i = 1``), ``smallstep`` / ``bigstep``: the first
  ``ceil(n/20)`` eigenvalues 1, the rest ``1e-3`` / ``1e-8``.
- ``ggn_factor``: the Jacobian ``J`` (``N d x P``, scaled by ``1/sqrt(N)``) of a one-hidden
  layer tanh autoencoder ``f(x) = W2 tanh(W1 x + b1) + b2`` trained (full-batch gradient
  descent, squared loss) on ``N`` rows of a real data set: its Gauss-Newton matrix is
  ``G = J^T J`` (the squared loss has Hessian ``I`` in the outputs), the curvature that
  K-FAC, Shampoo and Hessian-trace tools estimate. Use it with the task parameter
  ``form: gram`` (and ``shift`` for the log-determinant: ``G`` is singular when
  ``N d < P``).
- ``rbf_kernel``: ``K_ij = exp(-||x_i - x_j||^2 / (2 s^2))`` of ``N`` standardized rows of
  a real data set, ``s`` the median pairwise distance: positive semidefinite with a fast
  decaying spectrum (use ``shift`` for ``K + mu I``, as in kernel ridge regression).

Every generator is deterministic in its seed (BLAS runs single-threaded while it works).
"""

from __future__ import annotations

import math

import numpy as np

from matrixbench.generators.common import haar_orthogonal, serial_blas, symmetrize
from matrixbench.params import Param
from matrixbench.registry import generator

from implementations.common.kernels import DATASETS, rbf_kernel_matrix, standardized_rows

SPECTRA = ("flat", "poly", "slowexp", "fastexp", "smallstep", "bigstep")


def spectrum(n: int, name: str) -> np.ndarray:
    """The eigenvalues of ``trace_spectrum(n, name)``, as XTrace's test script makes them."""
    i = np.arange(n, dtype=np.float64)
    if name == "flat":
        return np.linspace(1.0, 3.0, n)
    if name == "poly":
        return (i + 1.0) ** -2
    if name == "slowexp":
        return 0.9**i
    if name == "fastexp":
        return 0.7**i
    if name in ("smallstep", "bigstep"):
        k = math.ceil(n / 20)
        return np.where(i < k, 1.0, 1e-3 if name == "smallstep" else 1e-8)
    raise ValueError(f"spectrum must be one of {SPECTRA}, found {name!r}")


@generator("trace_spectrum", task="trace_logdet", params={
    "n": Param(int, 1000, min=2, doc="matrix size"),
    "spectrum": Param(str, "flat", choices=SPECTRA, doc="eigenvalues (XTrace's test spectra)"),
})
def trace_spectrum(rng: np.random.Generator, n: int = 1000, spectrum: str = "flat") -> np.ndarray:
    """``Q diag(l) Q^T``, ``Q`` Haar-random, ``l`` one of XTrace's six test spectra."""
    lam = globals()["spectrum"](n, spectrum)
    with serial_blas():
        Q = haar_orthogonal(rng, n, 1)[0]
        return symmetrize((Q * lam) @ Q.T)


@generator("rbf_kernel", task="trace_logdet", params={
    "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "samples": Param(int, 1000, min=2, doc="rows drawn (without replacement) from the data set"),
    "bandwidth": Param(float, 1.0, min=0.0, doc="s as a multiple of the median pairwise distance"),
})
def rbf_kernel(rng: np.random.Generator, dataset: str = "digits", samples: int = 1000,
               bandwidth: float = 1.0) -> np.ndarray:
    """The Gaussian kernel matrix of ``samples`` standardized rows of ``dataset``."""
    return rbf_kernel_matrix(standardized_rows(dataset, samples, rng)[0], bandwidth)


def _autoencoder(X: np.ndarray, hidden: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``(W1, b1, W2, b2)`` after ``steps`` of full-batch gradient descent on
    ``(1/2N) sum ||W2 tanh(W1 x + b1) + b2 - x||^2`` from a Glorot-scaled start."""
    N, d = X.shape
    W1 = rng.standard_normal((hidden, d)) * math.sqrt(1.0 / d)
    W2 = rng.standard_normal((d, hidden)) * math.sqrt(1.0 / hidden)
    b1, b2 = np.zeros(hidden), np.zeros(d)
    lr = 0.1
    for _ in range(steps):
        H = np.tanh(X @ W1.T + b1)  # (N, h)
        R = (H @ W2.T + b2 - X) / N  # dL/df, (N, d)
        dH = (R @ W2) * (1.0 - H * H)
        W2 -= lr * R.T @ H
        b2 -= lr * R.sum(axis=0)
        W1 -= lr * dH.T @ X
        b1 -= lr * dH.sum(axis=0)
    return W1, b1, W2, b2


def autoencoder_jacobian(X: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """``J`` of shape ``(N d, P)``: row ``(i, k)`` is ``d f_k(x_i) / d theta``, ``theta =
    (W1, b1, W2, b2)`` flattened in that order (row-major), divided by ``sqrt(N)``."""
    N, d = X.shape
    h = W1.shape[0]
    H = np.tanh(X @ W1.T + b1)  # (N, h)
    G = W2[None, :, :] * (1.0 - H * H)[:, None, :]  # d f_k / d z_j = W2[k, j] tanh'(z_j): (N, d, h)
    dW1 = G[:, :, :, None] * X[:, None, None, :]  # (N, d, h, d)
    dW2 = np.zeros((N, d, d, h))
    dW2[:, np.arange(d), np.arange(d), :] = H[:, None, :]
    db2 = np.broadcast_to(np.eye(d), (N, d, d))
    J = np.concatenate([dW1.reshape(N, d, h * d), G, dW2.reshape(N, d, d * h), db2], axis=2)
    return np.ascontiguousarray(J.reshape(N * d, -1) / math.sqrt(N))


@generator("ggn_factor", task="trace_logdet", params={
    "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "samples": Param(int, 200, min=1, doc="rows the model is trained on and the curvature taken over"),
    "hidden": Param(int, 4, min=1, doc="hidden units of the autoencoder"),
    "steps": Param(int, 300, min=0, doc="gradient-descent steps before the curvature is taken"),
})
def ggn_factor(rng: np.random.Generator, dataset: str = "digits", samples: int = 200, hidden: int = 4,
               steps: int = 300) -> np.ndarray:
    """The Jacobian factor ``J`` of a trained autoencoder's Gauss-Newton matrix ``J^T J``."""
    X = standardized_rows(dataset, samples, rng)[0]
    with serial_blas():
        W1, b1, W2, _ = _autoencoder(X, hidden, steps, rng)
        return autoencoder_jacobian(X, W1, b1, W2)
