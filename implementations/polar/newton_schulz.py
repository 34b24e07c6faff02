"""Newton-Schulz iterations for the polar factor: the classical cubic and Muon's quintic.

Both normalize ``X_0 = G / (||G||_F + eps)``, so that every singular value lies in
``(0, 1]``, work on the wide orientation (``X X^T`` is ``k x k``, ``k = min(m, n)``) and
use matrix products only, hence their speed on GPUs and in bfloat16.

**Cubic** (Kovarik 1970; Bjorck & Bowie 1971; Higham, *Functions of Matrices*, SIAM
2008, section 8.3, eq. (8.20))::

    X_{k+1} = 1.5 X_k - 0.5 X_k X_k^T X_k

acts on each singular value as ``s -> 1.5 s - 0.5 s^3``. It converges to ``U V^T`` for
``0 < s < sqrt(3)``, quadratically in the end, but a small ``s`` only grows by 1.5 a
step: about ``log(1/s_min) / log 1.5`` steps before the quadratic phase (17 for
``s_min = 1e-3``; after 5 steps ``1e-3`` has become only ``0.0076``). Cost ``4 k^2 l``
flops a step (``l = max(m, n)``).

**Quintic** (K. Jordan et al., "Muon: An optimizer for hidden layers in neural
networks", 2024, https://kellerjordan.github.io/posts/muon/; the coefficients are those
of its ``zeropower_via_newtonschulz5``)::

    A = X X^T;  B = b A + c A A;  X_{k+1} = a X_k + B X_k,  (a, b, c) = (3.4445, -4.7750, 2.0315)

acts as ``s -> a s + b s^3 + c s^5``, whose slope at 0 is 3.4445: small singular values
grow more than twice as fast as with the cubic, at the price of never converging to 1.
The map sends ``[0.682, 1.134]`` into itself (and has no fixed point at 1: ``p(1) =
0.701``), so the iterates end up inside that band, not at 1; Muon's five steps map
``[1e-2, 1]`` into ``[0.68, 1.13]``
and ``[1e-3, 1]`` into about ``[0.47, 1.20]``: a rough orthogonalization, enough for the
optimizer. Run in bfloat16 by Muon. Cost ``4 k^2 l + 2 k^3`` flops a step.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from matrixbench.params import Param
from matrixbench.registry import method

from ._iteration import polynomial_flops, polynomial_polar

#: Coefficients of the cubic Newton-Schulz map ``s -> 1.5 s - 0.5 s^3``.
CUBIC: tuple[float, float] = (1.5, -0.5)

#: Muon's quintic ``s -> a s + b s^3 + c s^5`` (Jordan et al. 2024).
MUON_QUINTIC: tuple[float, float, float] = (3.4445, -4.7750, 2.0315)

_DTYPES = ("bfloat16", "float32", "float64")


def cubic_flops(inputs: Mapping[str, Any], steps: int = 20) -> float:
    return polynomial_flops(inputs["G"].shape, [3] * steps)


def quintic_flops(inputs: Mapping[str, Any], steps: int = 5) -> float:
    return polynomial_flops(inputs["G"].shape, [5] * steps)


@method(
    "polar",
    "newton_schulz_cubic",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=_DTYPES,
    params={"steps": Param(int, 20, min=1, doc="number of steps X <- 1.5 X - 0.5 X X^T X")},
    flops=cubic_flops,
    trace=True,
)
def newton_schulz_cubic(G: torch.Tensor, steps: int = 20,
                        callback: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Cubic Newton-Schulz ``X <- 1.5 X - 0.5 X X^T X`` from ``G / ||G||_F``, ``steps`` times."""
    return polynomial_polar(G, [CUBIC] * steps, callback=callback)


@method(
    "polar",
    "newton_schulz_quintic",
    kind="optimized",
    backends=("torch",),
    devices=("cpu", "cuda"),
    dtypes=_DTYPES,
    params={"steps": Param(int, 5, min=1, doc="number of quintic steps (Muon: 5)")},
    flops=quintic_flops,
    trace=True,
)
def newton_schulz_quintic(G: torch.Tensor, steps: int = 5,
                          callback: Callable[[torch.Tensor], None] | None = None) -> torch.Tensor:
    """Muon's quintic Newton-Schulz, coefficients (3.4445, -4.7750, 2.0315), ``steps`` times."""
    return polynomial_polar(G, [MUON_QUINTIC] * steps, callback=callback)
