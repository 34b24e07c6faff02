"""Task ``completion``: recover a low-rank matrix from a subset of its entries.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the reference (the full matrix itself, which only the reference
and the scoring see: ``Task.hidden``); alternating least squares and its outlier-robust
reweighted variant, soft-impute, singular value thresholding and gradient descent on the
factors, all in torch (CPU and CUDA). Observation patterns (:mod:`.masks`): uniform and
power-law. Problems: a planted rank-``r`` matrix (the generic ``lowrank_noise``
generator) and real data matrices with entries hidden (:mod:`.generators`).
"""
