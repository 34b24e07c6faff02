"""Reference: the float64 rank-k SVD of each recorded updated matrix, recomputed from scratch.

For every recorded step ``t`` the whole ``M_t = [A; E_1; ...; E_t]`` is formed (sparse
stays sparse) and handed to the ``svd_topk`` reference: the full LAPACK SVD truncated to
k for dense inputs of at most 5e7 entries, ARPACK (``scipy.sparse.linalg.svds``,
``tol = 0``) for sparse and larger ones. Each step's result is a dict ``U, s, V``,
``tail = ||M_t - (M_t)_k||_F`` and ``solver`` (see
``implementations/svd_topk/reference.py`` for both routes' accuracy and cost). What an
update method is measured against is thus the best rank-k answer for the matrix as it
stands, not the answer of a perfect updater: the ratio includes the loss of having
truncated ``A`` to rank k before the update.
"""

from __future__ import annotations

from typing import Any

from matrixbench.registry import method

from implementations.svd_topk.reference import optimal_tail, reference_svd, solver_for

from .task import updated


@method("svd_update", "reference", kind="reference", backends=("numpy",), dtypes=("float64",), sparse=True)
def reference(A: Any, U: Any, s: Any, V: Any, updates: list, side: str = "rows",
              record: tuple = (1,)) -> list[dict[str, Any]]:
    """Float64 rank-k SVD of the whole updated matrix at each recorded step (full SVD or ARPACK)."""
    inputs = {"A": A, "updates": updates, "side": side}
    k = len(s)
    out = []
    for t in record:
        M = updated(inputs, t)
        Ut, st, Vt = reference_svd(M, k)
        out.append({"U": Ut, "s": st, "V": Vt, "tail": optimal_tail(M, k, st), "solver": solver_for(M, k)})
    return out
