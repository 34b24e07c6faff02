"""Code that several tasks share: a public library, not a task (it registers nothing).

- ``sketching``: the seeded sketching operators (Gaussian, SRHT, CountSketch, sparse
  sign, very sparse) used by ``sketch``, ``lstsq``, ``matmul_approx`` and ``svd_topk``;
- ``cocluster``: the planted co-cluster model of sparse matrices growing by rows, drawn
  by ``svd_topk``'s ``sparse_lowrank`` and ``svd_update``'s ``sparse_stream``;
- ``spd_checks``: the preconditions of the SPD tasks (``sqrtm``, ``inv_root``): finite,
  symmetric, positive definite, with the measured violation in the message.

Tasks import from here, never from another task's private (``_``) modules. Array-kind
tests (NumPy, SciPy sparse, torch dense or sparse) are the engine's
:mod:`matrixbench.arrays`.
"""
