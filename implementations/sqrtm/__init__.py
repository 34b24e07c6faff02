"""Task ``sqrtm``: square root and inverse square root of batched SPD matrices.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods.
"""
