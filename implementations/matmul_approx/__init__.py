"""Task ``matmul_approx``: approximate products ``A^T B`` from budgeted sketches.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the task and its methods: the
exact float64 product (reference) and the exact product in the cell's dtype (baseline),
column-row sampling (Drineas-Kannan-Mahoney), Gaussian and CountSketch linear sketches,
and coordinated (threshold / priority) sampling with a shared seed.
"""
