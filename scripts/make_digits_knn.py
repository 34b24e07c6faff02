"""Make ``datasets/digits_knn.mtx``: the normalized k-nearest-neighbour affinity of the
UCI digits (``datasets/digits.csv.gz``), the matrix whose leading eigenvectors spectral
clustering computes (Ng, Jordan and Weiss, "On spectral clustering", NIPS 2001).

Steps: the 1797 images' 64 pixel counts (unscaled); the 10 nearest neighbours of each
image (Euclidean, ``scipy.spatial.cKDTree``); Gaussian weights ``exp(-d^2 / s^2)`` with
``s`` the median neighbour distance; ``W`` symmetrized as ``max(W, W^T)``; then
``N = D^{-1/2} W D^{-1/2}`` with ``D`` the row sums. ``N`` is symmetric, sparse (about 13
entries a row), and its eigenvalues lie in [-1, 1] with a cluster near 1 (one per digit).

    python scripts/make_digits_knn.py   # rewrites the file; its sha256 goes in datasets/catalog.yaml
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse
from scipy.spatial import cKDTree

from matrixbench.generators.real_data import datasets_dir, load_dataset

K = 10


def digits_knn() -> scipy.sparse.csr_matrix:
    X = np.array(load_dataset("digits"))
    dist, idx = cKDTree(X).query(X, k=K + 1)  # the first neighbour is the point itself
    dist, idx = dist[:, 1:], idx[:, 1:]
    s = np.median(dist)
    rows = np.repeat(np.arange(len(X)), K)
    W = scipy.sparse.csr_matrix((np.exp(-(dist.ravel() / s) ** 2), (rows, idx.ravel())), shape=(len(X), len(X)))
    W = W.maximum(W.T)
    d = np.asarray(W.sum(axis=1)).ravel()
    scale = scipy.sparse.diags(1 / np.sqrt(d))
    N = (scale @ W @ scale).tocsr()
    N.sort_indices()
    return N


def main() -> None:
    path = datasets_dir() / "digits_knn.mtx"
    N = digits_knn()
    scipy.io.mmwrite(str(path), N, comment="normalized 10-NN Gaussian affinity of the UCI digits; "
                     "scripts/make_digits_knn.py", field="real", precision=12, symmetry="symmetric")
    print(path, N.shape, N.nnz, hashlib.sha256(path.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
