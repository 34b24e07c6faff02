"""M-FAC's dynamic algorithm: a sliding window of the last ``m`` gradients, kept in a ring
buffer and updated one gradient at a time, as in training.

Frantar, Kurtic and Alistarh, "M-FAC: Efficient Matrix-Free Approximations of Second-Order
Information", NeurIPS 2021: the dynamic algorithm. The state is the buffer
``G`` (``m x d``), its Gram matrix ``K = G G^T`` and the ``m x m`` coefficients of the
inverse; a new gradient replaces the oldest one (slot ``p``, cycling ``0, 1, ..., m - 1``) and
only row and column ``p`` of ``K`` change. Facts taken from the authors' code
(github.com/IST-DASLab/M-FAC, ``optim.py``, ``HInvFastUpMulti``, read for these only): the
buffer starts as a given gradient matrix (there zeros), an update writes slot ``p``, computes
``G g`` and refreshes row and column ``p`` of ``K``, then recomputes the coefficients from
``K`` from slot ``p`` on (the leading ``p`` rows of the factorization do not depend on the
later slots). Their coefficients are an LU without pivoting of ``m I + K / lambda``; here
they are its Cholesky factor (``S = lambda m I + K = C C^T``, so M-FAC's denominators are
``q_i = C_ii^2 / lambda``), recomputed from slot ``p`` as a block update::

    update(g):  G_p = g,  k = G g,  K_p: = K_:p = k                    (2 m d)
                C_21 = S_21 C_11^-T,  C_22 C_22^T = S_22 - C_21 C_21^T   (trsm, syrk, potrf on
                                                                        the trailing m - p rows)
    mul(V):     X = (V - G^T C^-T C^-1 (G V)) / lambda                  (4 m d k + 2 m^2 k)

An update costs ``2 m d`` plus ``p^2 (m - p) + 2 (m - p)^2 p + (m - p)^3 / 3`` flops: ``m^3 / 3``
at slot 0, ``0.42 m^3`` at the middle slot, nothing but the Gram row at the last, ``m^3 / 3``
on average over a cycle: ``O(m d + m^3)`` per step, as the authors' implementation (its LU
and its coefficient recursion are ``O(m^3)``). No
error accumulates across updates: each one refactors from ``K``, whose entries are fresh
inner products, so the final window's product agrees with the static algorithm's on the
same gradients (tested) to about ``u kappa(F)``.

The cell: the stream is ``history`` then ``G`` (task parameter ``stream``). The buffer starts
as the stream's first ``m`` gradients (one static setup, as ``HInvFastUpMulti`` is built from
an initial matrix), each later gradient is one update, and the product with ``V`` is taken
on the final window, ``G``. Per-update cost: ``(t(s) - t(0)) / s`` over cells with
``stream = s`` and ``0``; a stream ``s << m`` hits only the first slots, whose cost is near
the cycle's mean (``m^3 / 3`` at slot 0).
"""

from __future__ import annotations

from typing import Any, Iterator

import torch

from matrixbench.registry import WithInfo, method

from ._common import TORCH, check_damping, sizes
from .woodbury import woodbury_apply


class SlidingWindow:
    """The ring buffer of the last ``m`` gradients and the Cholesky factor of
    ``lambda m I + G G^T`` (module docstring)."""

    def __init__(self, initial: torch.Tensor, lam: float, copy: bool = True) -> None:
        self.lam = check_damping(lam)
        self.G = initial.clone() if copy else initial  # the buffer is written: it owns its memory
        self.m = self.G.shape[0]
        self.K = self.G @ self.G.T
        self.C = torch.zeros_like(self.K)
        self.oldest = 0
        self.updates = 0
        self.failure: str | None = None
        self.refactor(0)

    def refactor(self, p: int) -> None:
        """Rows ``p:`` of the Cholesky factor of ``S = lambda m I + K``; rows ``:p`` are unchanged."""
        S_22 = self.K[p:, p:].clone()
        S_22.diagonal().add_(self.lam * self.m)
        if p:
            C_21 = torch.linalg.solve_triangular(self.C[:p, :p], self.K[:p, p:], upper=False).T
            self.C[p:, :p] = C_21
            S_22 = torch.addmm(S_22, C_21, C_21.T, alpha=-1.0)
        C_22, info = torch.linalg.cholesky_ex(S_22)
        if int(info) and self.failure is None:
            self.failure = (f"Cholesky of the trailing block failed in {self.K.dtype} at update {self.updates}: "
                            f"kappa(F) is near 1/u of the dtype")
        self.C[p:, p:] = C_22

    def update(self, g: torch.Tensor) -> None:
        """Replace the oldest gradient with ``g``."""
        p = self.oldest
        self.G[p] = g
        k = self.G @ g
        self.K[p, :] = k
        self.K[:, p] = k
        self.refactor(p)
        self.oldest = (p + 1) % self.m
        self.updates += 1

    def mul(self, V: torch.Tensor) -> torch.Tensor:
        """``F^-1 V`` for the current window."""
        return woodbury_apply(self.G, self.C, self.lam, V)


def gradient_stream(history: torch.Tensor, G: torch.Tensor, m: int) -> tuple[torch.Tensor, Iterator[torch.Tensor]]:
    """The stream ``history`` then ``G``: its first ``m`` gradients, and the rest one by one."""
    s = history.shape[0]
    first = torch.cat([history[:m], G[: max(m - s, 0)]])
    rest = (row for part in (history[m:], G[max(m - s, 0):]) for row in part)
    return first, rest


def dynamic_flops(inputs: dict[str, Any], **_: Any) -> float:
    m, d, k = sizes(inputs)
    flops = 2.0 * m * m * d + m**3 / 3.0 + k * (4.0 * m * d + 2.0 * m * m)
    for t in range(inputs["history"].shape[0]):
        p = t % m
        flops += 2.0 * m * d + p * p * (m - p) + 2.0 * (m - p) ** 2 * p + (m - p) ** 3 / 3.0
    return flops


@method("ihvp", "mfac_dynamic", kind="optimized", **TORCH, flops=dynamic_flops)
def mfac_dynamic(G: torch.Tensor, V: torch.Tensor, damping: float, history: torch.Tensor | None = None) -> WithInfo:
    """M-FAC's sliding window: stream ``history`` then ``G`` through a ring buffer of ``m``."""
    if history is None:
        history = G[:0]
    first, rest = gradient_stream(history, G, G.shape[0])
    window = SlidingWindow(first, damping, copy=False)  # ``first`` is already a fresh copy
    for g in rest:
        window.update(g)
    return WithInfo(window.mul(V), {"updates": window.updates}, failure=window.failure)
