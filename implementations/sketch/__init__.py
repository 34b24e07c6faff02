"""Task ``sketch``: oblivious subspace embeddings ``S A`` of tall matrices.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods: the
orthogonal-projection reference, the five shared operators of ``implementations.common.sketching``
on torch (CPU/CUDA) and on NumPy/SciPy (``*_numpy``), dense or sparse, and the
scikit-learn random projections as baselines.
"""
