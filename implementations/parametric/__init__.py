"""Task ``parametric``: ``A(mu)^-1 B`` and ``log det A(mu)`` for ``A(mu) = sum_q theta_q(mu) A_q``
over many parameters ``mu``.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers
the task and its methods: the float64 reference (a Cholesky factorization per test
parameter, dense or sparse); solving from scratch (``direct``: a Cholesky per parameter;
``cg_warm``: conjugate gradients warm-started from the previous parameter's solution, solves
only); and the offline/online methods: the nonintrusive Empirical Interpolation Method of
the matrix powers of a Richardson series and their limits (``eim_powers``, Casenave,
Akkari, Charles and Rey, arXiv:1710.02488), a reduced-basis Galerkin solve (``reduced_basis``,
solves only) and Chebyshev interpolation in a scalar parameter (``chebyshev``). Generators:
a 1-D or 2-D diffusion operator with a piecewise-constant coefficient (``param_diffusion``),
a real data set's kernel matrix ``K + mu I`` (``param_kernel``) and a real SPD matrix plus
``mu`` times a graph Laplacian (``param_graph_reg``).
"""
