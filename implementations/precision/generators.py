"""Problems of ``precision``: samples of a sparse Gaussian graphical model, and real data.

- ``gaussian_graph``: a sparse precision ``Theta`` on a graph and ``n = ratio p`` samples
  of ``N(0, Theta^-1)`` (plus ``heldout`` more). The graph: ``chain`` (path ``i - i+1``),
  ``grid`` (a ``floor(sqrt p)``-wide lattice filled row by row, 4 neighbours), ``random``
  (Erdos-Renyi, each edge with probability ``degree / (p - 1)``) or ``barabasi``
  (preferential attachment, one edge per new node: a tree with hubs; Barabasi and
  Albert 1999). Edge weights ``w_ij ~ U[2, 5]`` (our choice; only their spread matters
  after the scaling below). ``signs: negative`` makes ``Theta = D - W`` a diagonally
  dominant M-matrix (nonpositive off-diagonal: the MTP2 / total-positivity case of Ying,
  Cardoso and Palomar 2023); ``mixed`` gives each edge a random sign (a general sparse
  graphical model, positive definite by the same dominance). ``D_ii = sum_j w_ij +
  margin * mean_i(sum_j w_ij)``: a smaller ``margin`` means a worse-conditioned
  ``Theta`` and stronger partial correlations. ``Theta`` is then scaled (one scalar,
  which keeps sparsity, signs and dominance) so that the mean variance
  ``mean(diag(Theta^-1))`` is 1. Samples ``x = L^-T z``, ``Theta = L L^T``, ``z ~
  N(0, I)``: their covariance is ``Theta^-1``. ``replicate`` draws an independent graph,
  weights and samples for each value (seeds for a suite grid).
- ``real_features``: the features of a real data set of ``datasets/catalog.yaml``
  (``wine``: 178 x 13, ``breast_cancer``: 569 x 30, ``digits``: 1797 x 64), rows
  shuffled, ``train`` rows for ``X`` and the rest held out, both standardized by the
  training mean and standard deviation (a column constant in the training rows is only
  centered: the task then refuses it, digits has blank pixels, unless ``drop_constant``
  removes such columns). The truth is unknown: scored by held-out likelihood only.

Deterministic in the problem's seed (BLAS single-threaded while generating).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as la

from matrixbench.generators.common import serial_blas
from matrixbench.generators.real_data import load_dataset
from matrixbench.params import Param
from matrixbench.registry import generator

GRAPHS = ("chain", "grid", "random", "barabasi")
SIGNS = ("negative", "mixed")
DATASETS = ("wine", "breast_cancer", "digits")


def graph_edges(graph: str, p: int, rng: np.random.Generator, degree: float = 2.0) -> list[tuple[int, int]]:
    """The edges ``(i, j)``, ``i < j``, of a graph on ``p`` nodes (module docstring)."""
    if graph == "chain":
        return [(i, i + 1) for i in range(p - 1)]
    if graph == "grid":
        width = max(1, math.isqrt(p))
        out = []
        for i in range(p):
            if (i + 1) % width and i + 1 < p:
                out.append((i, i + 1))
            if i + width < p:
                out.append((i, i + width))
        return out
    if graph == "random":
        prob = min(1.0, degree / (p - 1))
        iu, ju = np.triu_indices(p, 1)
        keep = rng.random(iu.size) < prob
        return list(zip(iu[keep].tolist(), ju[keep].tolist()))
    if graph == "barabasi":
        out, ends = [(0, 1)], [0, 1]  # ends: each node once per incident edge
        for new in range(2, p):
            old = ends[int(rng.integers(len(ends)))]
            out.append((old, new))
            ends += [old, new]
        return out
    raise ValueError(f"unknown graph {graph!r}: expected one of {', '.join(GRAPHS)}")


def graph_precision(graph: str, p: int, rng: np.random.Generator, signs: str = "negative", margin: float = 0.1,
                    degree: float = 2.0) -> np.ndarray:
    """``Theta = D - W`` (or with mixed signs) scaled to mean variance 1 (module docstring)."""
    W = np.zeros((p, p))
    for i, j in graph_edges(graph, p, rng, degree):
        w = rng.uniform(2.0, 5.0)
        if signs == "mixed" and rng.random() < 0.5:
            w = -w
        W[i, j] = W[j, i] = w
    rows = np.abs(W).sum(axis=1)
    mean = float(rows.mean()) if rows.any() else 1.0
    Theta = np.diag(rows + margin * mean) - W
    return Theta * float(np.mean(np.diag(np.linalg.inv(Theta))))


def gaussian_samples(Theta: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` rows of ``N(0, Theta^-1)``: ``x = L^-T z``."""
    L = np.linalg.cholesky(Theta)
    Z = rng.standard_normal((Theta.shape[0], n))
    return np.ascontiguousarray(la.solve_triangular(L.T, Z, lower=False).T)


@generator("gaussian_graph", task="precision", params={
    "p": Param(int, 50, min=2, doc="variables (nodes of the graph)"),
    "ratio": Param(float, 2.0, min=0.0, doc="training samples n = max(2, round(ratio p))"),
    "graph": Param(str, "chain", choices=GRAPHS, doc="the graph of the precision"),
    "signs": Param(str, "negative", choices=SIGNS, doc="negative: an M-matrix (MTP2); mixed: random edge signs"),
    "margin": Param(float, 0.1, min=0.0, doc="diagonal dominance margin, relative to the mean weighted degree"),
    "degree": Param(float, 2.0, min=0.0, doc="mean degree of the random graph"),
    "heldout": Param(int, 500, min=1, doc="held-out samples"),
    "replicate": Param(int, 0, min=0, doc="an independent draw of graph, weights and samples per value"),
})
def gaussian_graph(rng: np.random.Generator, p: int = 50, ratio: float = 2.0, graph: str = "chain",
                   signs: str = "negative", margin: float = 0.1, degree: float = 2.0, heldout: int = 500,
                   replicate: int = 0) -> dict[str, np.ndarray]:
    """``{"X": n x p, "heldout": m x p, "precision": Theta}`` of a sparse graphical model."""
    rng = np.random.default_rng([int(rng.integers(2**32)), int(replicate)])
    n = max(2, int(round(ratio * p)))
    with serial_blas():
        Theta = graph_precision(graph, p, rng, signs, margin, degree)
        samples = gaussian_samples(Theta, n + heldout, rng)
    return {"X": samples[:n], "heldout": samples[n:], "precision": Theta}


@generator("real_features", task="precision", params={
    "dataset": Param(str, "breast_cancer", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "train": Param(int, 0, min=0, doc="training rows (0: half of the rows); the rest are held out"),
    "drop_constant": Param(bool, False, doc="drop columns constant in the training rows"),
})
def real_features(rng: np.random.Generator, dataset: str = "breast_cancer", train: int = 0,
                  drop_constant: bool = False) -> dict[str, np.ndarray]:
    """``{"X": train rows, "heldout": the other rows}``, standardized by the training rows."""
    data = np.array(load_dataset(dataset), dtype=np.float64)
    rows = rng.permutation(data.shape[0])
    count = train or data.shape[0] // 2
    if not 1 <= count < data.shape[0]:
        raise ValueError(f"train = {count} rows: expected 1 to {data.shape[0] - 1} of {dataset}'s {data.shape[0]}")
    X, H = data[rows[:count]], data[rows[count:]]
    mean, std = X.mean(axis=0), X.std(axis=0)
    constant = std <= 1e-12 * max(float(np.abs(X).max()), 1.0)
    if drop_constant:
        X, H, mean, std, constant = X[:, ~constant], H[:, ~constant], mean[~constant], std[~constant], constant[~constant]
    scale = np.where(constant, 1.0, std)
    return {"X": (X - mean) / scale, "heldout": (H - mean) / scale}
