"""Task ``ihvp``: inverse-Hessian-vector products ``(lambda I + (1/m) G^T G)^-1 V`` from ``m``
gradients, the damped empirical Fisher of second-order optimizers and pruners.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 reference (a dense solve for small ``d``, else the
Woodbury identity with a float64 Cholesky); M-FAC's static recursive Woodbury
(:mod:`.mfac`) and its dynamic sliding-window variant (:mod:`.mfac_dynamic`); conjugate
gradients on the implicit matrix (:mod:`.cg`); a direct Woodbury solve with Cholesky in the
cell's dtype (:mod:`.woodbury`); SciPy's ``cg`` as a baseline (:mod:`.baselines`).
Generators (:mod:`.generators`): synthetic gradients with a decaying spectrum, and real
per-example gradients of a logistic regression or a small MLP trained on the digits.
"""
