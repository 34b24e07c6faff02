"""Gradients for the ``ihvp`` task: synthetic with a controlled spectrum, and real per-example
gradients of a small model trained on the digits.

- ``gradient_spectrum``: ``G = U diag(s) W^T`` (``m x d``) with ``U`` (``m x m``) and ``W``
  (``d x min(m, d)``) orthonormal from seeded Gaussians (``6 m^2 d`` flops), so the
  empirical Fisher ``G^T G / m`` has exactly the eigenvalues ``e_i = s_i^2 / m``, largest 1:
  ``spectrum: power``, ``e_i = i^-decay`` (the heavy-tailed decay of per-example gradients of
  trained networks); ``spectrum: geometric``, ``e_i = 10^(-decay (i - 1) / (m - 1))``
  (``decay`` decades from the first to the last). With an absolute ``damping`` lambda,
  ``kappa(F) = 1 + 1 / lambda``.
- ``digits_gradients``: per-example gradients of the cross-entropy of a multinomial logistic
  regression (``d = 10 * 65 = 650``) or a one-hidden-layer ReLU MLP (``d = 75 h + 10``: 4810
  at ``h = 64``, 76810 at ``h = 1024``) trained on the 1797 digits (``datasets/digits.csv.gz``
  by the engine's loaders, pixels scaled to ``[0, 1]``): He-initialized from the seed,
  ``steps`` full-batch gradient steps with heavy-ball momentum (learning rate 0.5,
  momentum 0.9, weight decay 1e-4; at 200 steps the training accuracy is 98% for the
  logistic regression and 100% for the 64-unit MLP),
  then the gradients of ``m`` examples drawn without replacement (``trained: false``: at
  the initialization). Raw gradients, not rescaled: use the task's ``relative`` damping.
  Rows are in the drawn order: the stream the sliding-window method processes.
"""

from __future__ import annotations

import numpy as np

from matrixbench.generators.real_data import load_dataset, load_labels
from matrixbench.params import Param
from matrixbench.registry import generator

SPECTRA = ("power", "geometric")
MODELS = ("logistic", "mlp")
DIGITS = 1797
CLASSES = 10
LEARNING_RATE = 0.5
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4


def fisher_eigenvalues(m: int, spectrum: str, decay: float) -> np.ndarray:
    """``e_1 = 1 >= e_2 >= ... >= e_m`` (module docstring)."""
    i = np.arange(1, m + 1, dtype=np.float64)
    if spectrum == "power":
        return i ** -float(decay)
    if spectrum == "geometric":
        return 10.0 ** (-float(decay) * (i - 1) / max(m - 1, 1))
    raise ValueError(f"spectrum must be one of {SPECTRA}, got {spectrum!r}")


def orthonormal_columns(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    """``n x r`` with orthonormal columns: Householder QR of a Gaussian, ``diag(R) > 0``."""
    Q, R = np.linalg.qr(rng.standard_normal((n, r)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)


def orthonormal_rows(rng: np.random.Generator, r: int, n: int) -> np.ndarray:
    """``r x n`` with orthonormal rows spanning a uniformly random subspace. For ``n >= 4 r``
    by whitening a Gaussian ``Z`` (``r x n``): ``Z Z^T = Q diag(w) Q^T``, rows ``diag(w)^-1/2
    Q^T Z`` (two GEMMs, ``4 r^2 n`` flops, ten times faster than Householder QR with its
    explicit Q here; orthonormal to about ``u kappa(Z)^2``, and a Gaussian with ``n >= 4 r``
    has ``kappa(Z) < 3``); else the transpose of :func:`orthonormal_columns`."""
    if n < 4 * r:
        return orthonormal_columns(rng, n, r).T
    Z = rng.standard_normal((r, n))
    w, Q = np.linalg.eigh(Z @ Z.T)
    return (Q / np.sqrt(w)).T @ Z


@generator("gradient_spectrum", task="ihvp", params={
    "m": Param(int, 64, min=1, doc="gradients (rows)"),
    "d": Param(int, 10000, min=1, doc="parameters (columns)"),
    "spectrum": Param(str, "power", choices=SPECTRA, doc="decay of the empirical Fisher's eigenvalues"),
    "decay": Param(float, 1.0, min=0.0, doc="power: exponent; geometric: decades from first to last"),
})
def gradient_spectrum(rng: np.random.Generator, m: int = 64, d: int = 10000, spectrum: str = "power",
                      decay: float = 1.0) -> np.ndarray:
    """Synthetic gradients whose empirical Fisher has a decaying spectrum, largest eigenvalue 1."""
    r = min(m, d)
    s = np.sqrt(m * fisher_eigenvalues(m, spectrum, decay)[:r])
    U = orthonormal_columns(rng, m, r)
    return (U * s) @ orthonormal_rows(rng, r, d)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Pixels in ``[0, 1]`` (1797 x 64) and one-hot labels (1797 x 10)."""
    X = np.asarray(load_dataset("digits"), dtype=np.float64) / 16.0
    y = np.asarray(load_labels("digits")[:, 0], dtype=np.int64)
    return X, np.eye(CLASSES)[y]


def softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def init_params(rng: np.random.Generator, model: str, hidden: int) -> list[np.ndarray]:
    """He-initialized weights (biases zero): ``[W, b]`` or ``[W1, b1, W2, b2]``."""
    if model == "logistic":
        return [rng.standard_normal((CLASSES, 64)) * np.sqrt(1.0 / 64), np.zeros(CLASSES)]
    return [rng.standard_normal((hidden, 64)) * np.sqrt(2.0 / 64), np.zeros(hidden),
            rng.standard_normal((CLASSES, hidden)) * np.sqrt(1.0 / hidden), np.zeros(CLASSES)]


def per_example_gradients(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> list[np.ndarray]:
    """The cross-entropy gradient of each example, per parameter block (``n x *shape``)."""
    if len(params) == 2:
        W, b = params
        delta = softmax(X @ W.T + b) - Y
        return [delta[:, :, None] * X[:, None, :], delta]
    W1, b1, W2, b2 = params
    A = X @ W1.T + b1
    Z = np.maximum(A, 0.0)
    delta2 = softmax(Z @ W2.T + b2) - Y
    delta1 = (delta2 @ W2) * (A > 0)
    return [delta1[:, :, None] * X[:, None, :], delta1, delta2[:, :, None] * Z[:, None, :], delta2]


def mean_gradient(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> list[np.ndarray]:
    """The full-batch gradient (the mean of the per-example ones) plus weight decay, without
    forming the per-example outer products."""
    n = X.shape[0]
    if len(params) == 2:
        W, b = params
        delta = softmax(X @ W.T + b) - Y
        grads = [delta.T @ X / n, delta.mean(0)]
    else:
        W1, b1, W2, b2 = params
        A = X @ W1.T + b1
        Z = np.maximum(A, 0.0)
        delta2 = softmax(Z @ W2.T + b2) - Y
        delta1 = (delta2 @ W2) * (A > 0)
        grads = [delta1.T @ X / n, delta1.mean(0), delta2.T @ Z / n, delta2.mean(0)]
    return [g + WEIGHT_DECAY * p for g, p in zip(grads, params)]


def train(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray, steps: int) -> list[np.ndarray]:
    """Full-batch gradient descent with heavy-ball momentum."""
    velocity = [np.zeros_like(p) for p in params]
    for _ in range(steps):
        for p, v, g in zip(params, velocity, mean_gradient(params, X, Y)):
            v *= MOMENTUM
            v -= LEARNING_RATE * g
            p += v
    return params


def accuracy(params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    """Training accuracy (for the docstring's figure and the tests)."""
    if len(params) == 2:
        logits = X @ params[0].T + params[1]
    else:
        logits = np.maximum(X @ params[0].T + params[1], 0.0) @ params[2].T + params[3]
    return float(np.mean(logits.argmax(1) == Y.argmax(1)))


@generator("digits_gradients", task="ihvp", params={
    "m": Param(int, 256, min=1, max=DIGITS, doc="examples whose gradients are the rows"),
    "model": Param(str, "mlp", choices=MODELS, doc="multinomial logistic regression or one-hidden-layer MLP"),
    "hidden": Param(int, 64, min=1, doc="hidden units of the MLP (d = 75 hidden + 10)"),
    "steps": Param(int, 200, min=0, doc="full-batch training steps before the gradients are taken"),
    "trained": Param(bool, True, doc="false: gradients at the initialization"),
})
def digits_gradients(rng: np.random.Generator, m: int = 256, model: str = "mlp", hidden: int = 64,
                     steps: int = 200, trained: bool = True) -> np.ndarray:
    """Per-example cross-entropy gradients of a model trained on the digits (``m x d``)."""
    X, Y = digits()
    params = init_params(rng, model, hidden)
    if trained:
        params = train(params, X, Y, steps)
    rows = rng.choice(X.shape[0], size=m, replace=False)
    blocks = per_example_gradients(params, X[rows], Y[rows])
    return np.concatenate([b.reshape(m, -1) for b in blocks], axis=1)
