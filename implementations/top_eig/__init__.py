"""Task ``top_eig``: the ``k`` largest eigenpairs of a symmetric matrix seen through products.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 ``eigh`` reference; power iteration, subspace (block
power) iteration, block Lanczos with explicit restarts, LOBPCG (ours and ``torch.lobpcg``)
and Oja's one-pass streaming update; baselines SciPy's ``eigsh`` (ARPACK) and ``lobpcg``.
Generator: controlled eigengaps; the real problems use the generic generators (MiniLM's
token embeddings as a covariance, the digits k-NN graph's normalized affinity).
"""
