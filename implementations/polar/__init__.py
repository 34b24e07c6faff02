"""Task ``polar``: the orthogonal polar factor ``U V^T`` of batched m x n matrices.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods:
the float64 SVD reference, ``torch_svd`` (baseline), the cubic and Muon's quintic
Newton-Schulz, Polar Express, scaled Newton (square inputs) and QDWH.
"""
