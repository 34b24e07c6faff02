"""Generators of affinely parametrized SPD families ``A(mu) = sum_q theta_q(mu) A_q``.

Each returns ``{"terms": [A_q], "theta_train", "theta_test", "mu_train", "mu_test",
"domain", "B"}`` (see :mod:`implementations.parametric.task`). Every ``A_q`` is symmetric
positive semidefinite and every ``theta_q > 0``, so ``A(mu)`` is positive definite on the
whole domain when one ``A(mu)`` is. Parameter sets: with one parameter the training set is
the Chebyshev-Lobatto grid of degree ``train - 1`` of the domain (nonintrusive
interpolation methods find their nodes in it); with several, ``train`` points drawn
uniformly from the box. The test set is ``test`` points drawn uniformly, sorted by the
first parameter (a sweep, as warm-started solvers meet it). ``B`` is Gaussian, ``n x rhs``,
columns of unit norm.

- ``param_diffusion``: ``-div(c grad u)`` on the unit interval (``dims: 1``, ``n`` nodes) or
  square (``dims: 2``, a ``g x g`` grid, ``g = round(sqrt n)``), five-point finite
  differences, Dirichlet boundary, ``c`` constant on each of ``regions`` vertical strips:
  ``A_q = h^-2 D_q^T D_q``, ``D_q`` the difference (incidence) rows of the edges whose
  midpoint lies in strip ``q`` (sparse). Coefficients ``theta_q = contrast^(s_q mu)``
  (``parameters: one``, ``s_q`` evenly spaced in ``[-1, 1]``, ``mu in [-1, 1]``) or
  ``contrast^(mu_q)`` (``parameters: per_region``, ``mu in [-1, 1]^regions``).
- ``param_kernel``: ``K + mu I``, ``K`` the Gaussian kernel matrix of ``samples`` standardized
  rows of a real data set (:mod:`implementations.common.kernels`, bandwidth a multiple of
  the median distance), ``mu in [shift_min, shift_max]``: the regularization path of kernel
  ridge regression and of a Gaussian process's noise level.
- ``param_graph_reg``: ``S + mu L``, ``S = K + ridge I`` the same real kernel matrix made
  definite, ``L`` the Laplacian of the symmetrized ``neighbors``-nearest-neighbour graph of
  the same rows (scaled to ``||L||_2 <= 1``): Laplacian-regularized (manifold) kernel
  regression's matrix (Belkin, Niyogi and Sindhwani, JMLR 2006) over its weight ``mu``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from matrixbench.params import Param
from matrixbench.registry import generator

from implementations.common.kernels import DATASETS, rbf_kernel_matrix, standardized_rows

SETS = {
    "train": Param(int, 33, min=2, doc="training parameters (one parameter: Chebyshev-Lobatto points)"),
    "test": Param(int, 20, min=1, doc="test parameters, drawn uniformly"),
    "rhs": Param(int, 1, min=1, doc="columns of the right-hand side block B"),
}


def parameter_sets(rng: np.random.Generator, domain: np.ndarray, train: int,
                   test: int) -> tuple[np.ndarray, np.ndarray]:
    """Training set (Lobatto grid in 1-D, uniform otherwise) and sorted uniform test set."""
    lo, hi = domain[:, 0], domain[:, 1]
    if len(domain) == 1:
        x = np.cos(np.pi * np.arange(train) / (train - 1))
        mu_train = (lo + (hi - lo) * (x[:, None] + 1.0) / 2.0)
    else:
        mu_train = lo + (hi - lo) * rng.random((train, len(domain)))
    mu_test = lo + (hi - lo) * rng.random((test, len(domain)))
    return mu_train, mu_test[np.argsort(mu_test[:, 0], kind="stable")]


def rhs_block(rng: np.random.Generator, n: int, rhs: int) -> np.ndarray:
    B = rng.standard_normal((n, rhs))
    return B / np.linalg.norm(B, axis=0)


def strip_stiffness(n: int, dims: int, regions: int) -> list[sp.csr_matrix]:
    """``h^-2 D_q^T D_q`` per vertical strip ``q`` (Dirichlet boundary edges included)."""
    g = n if dims == 1 else int(round(np.sqrt(n)))
    h = 1.0 / (g + 1)
    idx = np.arange(g**dims).reshape((g,) * dims) if dims == 2 else np.arange(g)
    rows_i, rows_j, mid = [], [], []  # edge (i, j) with j = -1 for a boundary edge; x of its midpoint
    coord = (np.arange(g) + 1) * h
    if dims == 1:
        rows_i += list(range(g - 1)); rows_j += list(range(1, g)); mid += list((coord[:-1] + coord[1:]) / 2)
        rows_i += [0, g - 1]; rows_j += [-1, -1]; mid += [coord[0] / 2, (coord[-1] + 1.0) / 2]
    else:
        X = np.broadcast_to(coord[None, :], (g, g))  # x varies along axis 1
        rows_i += list(idx[:, :-1].ravel()); rows_j += list(idx[:, 1:].ravel())
        mid += list(((X[:, :-1] + X[:, 1:]) / 2).ravel())
        rows_i += list(idx[:-1, :].ravel()); rows_j += list(idx[1:, :].ravel()); mid += list(X[:-1, :].ravel())
        for side in (idx[:, 0], idx[:, -1], idx[0, :], idx[-1, :]):
            rows_i += list(side); rows_j += [-1] * len(side)
        mid += [coord[0] / 2] * g + [(coord[-1] + 1.0) / 2] * g + list(coord) + list(coord)
    ei, ej, mid = np.asarray(rows_i), np.asarray(rows_j), np.asarray(mid)
    region = np.minimum((mid * regions).astype(int), regions - 1)
    N = g**dims
    terms = []
    for q in range(regions):
        sel = np.flatnonzero(region == q)
        if sel.size == 0:
            raise ValueError(f"strip {q} of {regions} holds no edge: use fewer regions or a finer grid")
        inner = ej[sel] >= 0
        e = np.arange(sel.size)
        rows = np.concatenate([e, e[inner]])
        cols = np.concatenate([ei[sel], ej[sel][inner]])
        vals = np.concatenate([np.ones(sel.size), -np.ones(int(inner.sum()))])
        D = sp.csr_matrix((vals, (rows, cols)), shape=(sel.size, N))
        terms.append(sp.csr_matrix(D.T @ D) / h**2)
    return terms


@generator("param_diffusion", task="parametric", params={
    "n": Param(int, 400, min=4, doc="unknowns (dims 2: rounded to a square g x g)"),
    "dims": Param(int, 1, choices=(1, 2), doc="space dimension"),
    "regions": Param(int, 2, min=1, doc="strips with their own coefficient (affine terms Q)"),
    "parameters": Param(str, "one", choices=("one", "per_region"), doc="one scalar mu, or one mu per region"),
    "contrast": Param(float, 10.0, min=1.0, doc="coefficients range over [1/contrast, contrast]"),
    **SETS,
})
def param_diffusion(rng: np.random.Generator, n: int = 400, dims: int = 1, regions: int = 2,
                    parameters: str = "one", contrast: float = 10.0, train: int = 33, test: int = 20,
                    rhs: int = 1) -> dict:
    """Diffusion with a piecewise-constant coefficient on ``regions`` strips, 1-D or 2-D."""
    terms = strip_stiffness(n, dims, regions)
    d = 1 if parameters == "one" else regions
    domain = np.tile([-1.0, 1.0], (d, 1))
    mu_train, mu_test = parameter_sets(rng, domain, train, test)
    s = np.linspace(-1.0, 1.0, regions) if regions > 1 else np.ones(1)

    def theta(mu: np.ndarray) -> np.ndarray:
        return contrast ** (mu[:, :1] * s[None, :]) if d == 1 else contrast**mu

    return {"terms": terms, "theta_train": theta(mu_train), "theta_test": theta(mu_test), "mu_train": mu_train,
            "mu_test": mu_test, "domain": domain, "B": rhs_block(rng, terms[0].shape[0], rhs)}


def _shift_family(rng: np.random.Generator, first: np.ndarray, second: np.ndarray, shift_min: float,
                  shift_max: float, train: int, test: int, rhs: int) -> dict:
    """``first + mu second``, ``mu in [shift_min, shift_max]``: ``theta = (1, mu)``."""
    domain = np.array([[shift_min, shift_max]])
    mu_train, mu_test = parameter_sets(rng, domain, train, test)

    def theta(mu: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(mu)), mu[:, 0]])

    return {"terms": [first, second], "theta_train": theta(mu_train), "theta_test": theta(mu_test),
            "mu_train": mu_train, "mu_test": mu_test, "domain": domain, "B": rhs_block(rng, first.shape[0], rhs)}


REAL = {
    "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "samples": Param(int, 500, min=2, doc="rows drawn (without replacement): n"),
    "bandwidth": Param(float, 1.0, min=0.0, doc="kernel width as a multiple of the median distance"),
    "shift_min": Param(float, 0.1, min=0.0, doc="smallest mu"),
    "shift_max": Param(float, 1.0, min=0.0, doc="largest mu"),
}


@generator("param_kernel", task="parametric", params={**REAL, **SETS})
def param_kernel(rng: np.random.Generator, dataset: str = "digits", samples: int = 500, bandwidth: float = 1.0,
                 shift_min: float = 0.1, shift_max: float = 1.0, train: int = 33, test: int = 20,
                 rhs: int = 1) -> dict:
    """``K + mu I`` for a real data set's Gaussian kernel matrix ``K``."""
    if not 0 < shift_min < shift_max:
        raise ValueError(f"need 0 < shift_min < shift_max, got {shift_min}, {shift_max}")
    X, _ = standardized_rows(dataset, samples, rng)
    K = rbf_kernel_matrix(X, bandwidth)
    return _shift_family(rng, K, np.eye(samples), shift_min, shift_max, train, test, rhs)


def knn_laplacian(X: np.ndarray, neighbors: int) -> np.ndarray:
    """``D - W`` of the symmetrized ``neighbors``-nearest-neighbour graph, divided by its
    degree bound ``2 max D`` so that ``||L||_2 <= 1``."""
    sq = (X * X).sum(axis=1)
    D2 = sq[:, None] + sq[None, :] - 2.0 * X @ X.T
    np.fill_diagonal(D2, np.inf)
    near = np.argsort(D2, axis=1)[:, :neighbors]
    W = np.zeros_like(D2)
    W[np.repeat(np.arange(len(X)), neighbors), near.ravel()] = 1.0
    W = np.maximum(W, W.T)
    deg = W.sum(axis=1)
    return (np.diag(deg) - W) / (2.0 * deg.max())


@generator("param_graph_reg", task="parametric", params={
    **REAL,
    "ridge": Param(float, 0.1, min=0.0, doc="S = K + ridge I"),
    "neighbors": Param(int, 10, min=1, doc="nearest neighbours of the graph"),
    **SETS,
})
def param_graph_reg(rng: np.random.Generator, dataset: str = "digits", samples: int = 500, bandwidth: float = 1.0,
                    shift_min: float = 0.1, shift_max: float = 1.0, ridge: float = 0.1, neighbors: int = 10,
                    train: int = 33, test: int = 20, rhs: int = 1) -> dict:
    """``(K + ridge I) + mu L``: a real SPD kernel matrix plus ``mu`` times a graph Laplacian."""
    if not 0 < shift_min < shift_max:
        raise ValueError(f"need 0 < shift_min < shift_max, got {shift_min}, {shift_max}")
    X, _ = standardized_rows(dataset, samples, rng)
    S = rbf_kernel_matrix(X, bandwidth) + ridge * np.eye(samples)
    return _shift_family(rng, S, knn_laplacian(X, neighbors), shift_min, shift_max, train, test, rhs)
