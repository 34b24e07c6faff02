"""Polar Express: a composition of per-step optimal odd quintics.

N. Amsel, D. Persson, C. Musco, R. M. Gower, "The Polar Express: Optimal Matrix Sign
Methods and Their Application to the Muon Algorithm", arXiv:2505.16932, 2025 (ICLR
2026); code at https://github.com/NoahAmsel/PolarExpress.

Algorithm (the paper's listing)::

    X_0 = G / (1.01 ||G||_F + 1e-7)
    for t = 1..steps:  A = X X^T;  B = b_t A + c_t A A;  X = a_t X + B X

Step ``t`` applies ``p_t(s) = a_t s + b_t s^3 + c_t s^5`` to the singular values. The
``p_t`` are chosen greedily: with singular values known to lie in ``[l_t, u_t]``
(``l_1 = 1e-3``, ``u_1 = 1``), ``p_t`` is the odd quintic that best approximates 1 on
that interval in the max norm (found by the Remez algorithm), and the interval becomes
``[p_t(l_t), 2 - p_t(l_t)]``. The paper proves that this greedy choice is optimal among
all compositions of quintics. In practice the first steps are also "cushioned" (the
lower end is raised to ``0.024 u_t`` and the polynomial recentred) so that no step has
an extreme slope, for stability in bfloat16.

Safety factor: every polynomial but the last is replaced by ``p_t(s / 1.01)``, i.e.
``(a, b, c) -> (a / 1.01, b / 1.01^3, c / 1.01^5)``, so that singular values pushed a
little above 1 by rounding are still mapped well; the input is also divided by
``1.01 ||G||_F``. The table has eight steps; further steps repeat the last,
``(15/8, -10/8, 3/8)``, the quintic with the highest order of contact with 1 (the
quintic Newton-Schulz map of the Pade family), which converges cubically.

Scalar convergence for singular values of ``X_0`` in ``[1e-3, 1]``, this table with its
safety factor (worst ``|1 - s|``): 0.154 after 5 steps, 5.6e-3 after 6, 9.1e-6 after 7;
without the safety factor 0.124, 1.2e-3 and 1.0e-9, the greedy optimum (checked in
``tests/test_polar.py``). Cost ``4 k^2 l + 2 k^3`` flops
a step, ``k = min(m, n)``, ``l = max(m, n)``, as Muon's quintic.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._iteration import polynomial_flops, polynomial_polar

#: The published coefficients (a_t, b_t, c_t) before the safety factor, as in the
#: paper's code listing and github.com/NoahAmsel/PolarExpress (polar_express/basic.py):
#: the greedy optimal quintics for l = 1e-3, cushion 0.02407327424182761.
COEFFICIENTS: tuple[tuple[float, float, float], ...] = (
    (8.28721201814563, -23.595886519098837, 17.300387312530933),
    (4.107059111542203, -2.9478499167379106, 0.5448431082926601),
    (3.9486908534822946, -2.908902115962949, 0.5518191394370137),
    (3.3184196573706015, -2.488488024314874, 0.51004894012372),
    (2.300652019954817, -1.6689039845747493, 0.4188073119525673),
    (1.891301407787398, -1.2679958271945868, 0.37680408948524835),
    (1.8750014808534479, -1.2500016453999487, 0.3750001645474248),
    (1.875, -1.25, 0.375),
)

#: The safety factor: p(s) -> p(s / SAFETY) for every step but the last of the table,
#: and the input divided by SAFETY ||G||_F.
SAFETY = 1.01


def coefficients(steps: int) -> list[tuple[float, float, float]]:
    """The ``steps`` coefficient tuples used, safety factor applied, the last repeated."""
    safe = [(a / SAFETY, b / SAFETY**3, c / SAFETY**5) for a, b, c in COEFFICIENTS[:-1]]
    table = safe + [COEFFICIENTS[-1]]
    return [table[min(t, len(table) - 1)] for t in range(steps)]


def polar_express_flops(inputs: Mapping[str, Any], steps: int = 5) -> float:
    return polynomial_flops(inputs["G"].shape, [5] * steps)


@method(
    "polar",
    "polar_express",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=("bfloat16", "float32", "float64"),
    params={"steps": Param(int, 5, min=1, doc="number of quintic steps (table of 8, then the last repeats)")},
    flops=polar_express_flops,
    trace=True,
)
def polar_express(G: torch.Tensor, steps: int = 5,
                  callback: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Polar Express (Amsel et al. 2025): per-step optimal quintics, safety factor 1.01."""
    return polynomial_polar(G, coefficients(steps), scale=SAFETY, callback=callback)
