"""Task ``inv_root``: inverse p-th roots ``(A + eps I)^{-1/p}`` of SPD matrices (Shampoo).

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods.
"""
