"""Block Lanczos with explicit restarts.

Golub and Underwood (1977); Saad, *Numerical Methods for Large Eigenvalue Problems*, 2nd
ed., 2011, sections 6.3 and 7.1 (explicit restarts). A cycle builds an orthonormal basis
of the block Krylov space ``[V, A V, ..., A^(m-1) V]`` (``b`` columns a block, full
reorthogonalization against every earlier block, twice), keeps the products ``A Q_j``,
and takes the Rayleigh-Ritz pairs on it; the next cycle starts from the top ``b`` Ritz
vectors, whose products are already known (no product is spent twice)::

    Q_0 = V;  for j = 0..m-1:  W_j = A Q_j;  Q_(j+1) = orth(W_j - sum_i Q_i Q_i^T W_j)
    (theta, X, AX) = top-b Rayleigh-Ritz on [Q_0 .. Q_(m-1)];  V <- X

Per cycle ``(m - 1) b`` new products (``m b`` in the first) and ``O(n (m b)^2)`` work. On a
small gap ``l_(k+1)/l_k = 1 - d`` the Krylov space converges like ``exp(-2 t sqrt(d))``
against the power method's ``exp(-t d)`` (Chebyshev; Saad, Theorem 6.4): Lanczos wins by a
factor that grows as the gap closes. The cycles continue until the budget is spent.
"""

from __future__ import annotations

from typing import Any

import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from ._common import SEED, TORCH, rayleigh_ritz, result, start_block
from .task import budget_flops


@method("top_eig", "block_lanczos", kind="optimized", **TORCH, flops=budget_flops,
        params={"block": Param(int, 0, min=0, doc="block size b (0: k)"),
                "depth": Param(int, 20, min=2, doc="blocks per cycle m"), "seed": SEED})
def block_lanczos(A: Any, k: int = 1, budget: int = 200, block: int = 0, depth: int = 20, seed: int = 0) -> WithInfo:
    """Restarted block Lanczos within ``budget`` products (see the module docstring)."""
    b = block or k
    if b < k:
        raise ValueError(f"block {b} is smaller than k = {k}")
    if budget < 2 * b:
        raise ValueError(f"a budget of {budget} products is below two blocks of {b}")
    V, AV = start_block(A, b, seed), None
    spent, cycles = 0, 0
    while True:
        blocks, products = [V], ([AV] if AV is not None else [])
        while True:
            if len(products) < len(blocks):  # the newest block's product
                if budget - spent < b:
                    break
                products.append(A @ blocks[-1])
                spent += b
            if len(blocks) == depth or budget - spent < b:  # no block whose product we could not buy
                break
            Q = torch.cat(blocks, dim=1)
            W = products[-1]
            for _ in range(2):  # full reorthogonalization, twice is enough (Parlett)
                W = W - Q @ (Q.mT @ W)
            blocks.append(torch.linalg.qr(W).Q)
        Q, AQ = torch.cat(blocks[: len(products)], dim=1), torch.cat(products, dim=1)
        theta, V, AV = rayleigh_ritz(Q, AQ, b)
        cycles += 1
        if budget - spent < b:
            break
    return WithInfo(result(theta[:k], V[:, :k]), {"iterations": cycles})
