"""Task ``precision``: covariance and precision-matrix estimation from Gaussian samples.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods. Given ``n`` samples of ``p`` variables (``X``, ``n x p``), a
method returns an estimate of the precision matrix ``Theta = Sigma^-1``. Scored against
the true precision where the problem is synthetic (relative Frobenius and spectral error,
edge-recovery F1 of the graph) and, always, by the Gaussian log-likelihood of held-out
samples (real data: the truth is unknown). Methods: the inverse of the sample covariance
(``n > p`` only), Ledoit-Wolf and OAS shrinkage (closed forms), graphical lasso by block
coordinate descent (Friedman, Hastie and Tibshirani 2008) and by ADMM (Boyd et al. 2011),
the M-matrix (MTP2) maximum-likelihood estimator by projected gradient (Slawski and Hein
2015; Lauritzen, Uhler and Zwiernik 2019) and the adaptive multi-stage weighted-l1 MTP2
estimator (Ying, Cardoso and Palomar, ICML 2023); baselines scikit-learn's
``LedoitWolf``, ``OAS`` and ``GraphicalLasso``. Generators: ``gaussian_graph`` (a
sparse precision on a chain, grid, random or preferential-attachment graph, M-matrix or
mixed signs, and samples of it) and ``real_features`` (standardized features of a real
data set, split into training and held-out rows).
"""
