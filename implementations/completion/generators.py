"""``data_matrix``: a real data set's feature matrix, the "real matrix with entries hidden"
of the completion task (the 1797 x 64 digits images: pixel columns, nearly low-rank;
the wine and breast-cancer tables). Columns are centered and scaled to unit variance
when ``standardize`` is set (the tables mix units); a constant column stays zero."""

from __future__ import annotations

import numpy as np

from matrixbench.generators.real_data import load_dataset
from matrixbench.params import Param
from matrixbench.registry import generator

from implementations.common.kernels import DATASETS


@generator("data_matrix", task="completion", params={
    "dataset": Param(str, "digits", choices=DATASETS, doc="a data set of datasets/catalog.yaml"),
    "standardize": Param(bool, False, doc="center and scale each column"),
})
def data_matrix(rng: np.random.Generator, dataset: str = "digits", standardize: bool = False) -> np.ndarray:
    """The feature matrix of ``dataset`` (samples x features), float64."""
    X = np.array(load_dataset(dataset), dtype=np.float64)
    if standardize:
        X -= X.mean(axis=0)
        sd = X.std(axis=0)
        X /= np.where(sd > 0, sd, 1.0)
    return X
