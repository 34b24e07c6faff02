"""Task ``sinkhorn``: entropic optimal transport between two discrete measures.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task (:mod:`.task`), its exact transport cost (:mod:`.emd`, a hidden input), the
reference (a long float64 log-domain run, :mod:`.reference`), the methods in torch (CPU
and CUDA): Sinkhorn's scaling iteration, its log-domain form, epsilon scaling, Greenkhorn
and Sinkhorn-Newton-Sparse; the baselines of POT and GeomLoss (:mod:`.baselines`), and
the problems (:mod:`.generators`): POT's own benchmark setup, point clouds and MiniLM
token embeddings.
"""
