"""What the samplers share: the orthonormal basis and leverage scores, categorical draws
from given uniforms, the clock, and the output record.

**Leverage scores** (Drineas, Mahoney and Muthukrishnan, SODA 2006; Mahoney, "Randomized
algorithms for matrices and data", 2011): with ``A = U R`` (``U`` ``N x m`` orthonormal,
thin Householder QR, about ``4 m^2 (N - m/3)`` flops with ``U`` formed), ``l_i = ||U_i||^2``
is the diagonal of the projection ``U U^T`` onto range(A); ``sum_i l_i = m``. They are
the marginals of the projection DPP and ``p = l / m`` is the i.i.d. sampling density of
optimal weighted least squares (Cohen and Migliorati, SMAI J. Comput. Math. 3, 2017).

**Draws.** Every random choice is an inverse-CDF lookup of a uniform drawn with NumPy's
``default_rng(seed)`` on the host: the same seed gives the same draws on the CPU and on
CUDA (up to the rounding of the cumulative sums), whatever torch's global state is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from matrixbench.params import Param
from matrixbench.registry import WithInfo

from .task import sample_size

#: backends, devices and dtypes of every sampler
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))
SEED = Param(int, 0, min=0, doc="seed of the host uniforms every draw is made from")


def uniforms(seed: int, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """Uniforms in [0, 1) from ``default_rng(seed)``, on ``like``'s device and dtype."""
    u = np.random.default_rng(seed).random(shape)
    return torch.from_numpy(u).to(device=like.device, dtype=like.dtype)


def categorical(mass: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """One index per row of ``mass`` (``r x N``, nonnegative), drawn with probability
    ``mass / mass.sum()`` by the inverse CDF at ``u`` (``r``). An index of zero mass is
    never returned: ``searchsorted(..., right=True)`` skips flat steps of the CDF, and a
    ``u`` rounded onto the total is sent to the last index of positive mass."""
    cdf = torch.cumsum(mass, dim=-1)
    idx = torch.searchsorted(cdf, (u * cdf[..., -1]).unsqueeze(-1), right=True).squeeze(-1)
    last = mass.shape[-1] - 1 - torch.argmax(torch.flip(mass > 0, dims=(-1,)).to(torch.uint8), dim=-1)
    return torch.minimum(idx, last)


def iid(p: torch.Tensor, count: int, u: torch.Tensor) -> torch.Tensor:
    """``count`` i.i.d. indices from the density ``p`` (``N``), by the inverse CDF at ``u``."""
    cdf = torch.cumsum(p, dim=0)
    idx = torch.searchsorted(cdf, u[:count] * cdf[-1], right=True)
    last = p.shape[0] - 1 - int(torch.argmax(torch.flip(p > 0, dims=(0,)).to(torch.uint8)))
    return torch.clamp(idx, max=last)


def basis(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(U, l)``: an orthonormal basis of range(A) (thin QR) and the leverage scores."""
    U = torch.linalg.qr(A, mode="reduced").Q
    return U, (U * U).sum(dim=1)


@dataclass
class Clock:
    """Phase times measured inside a method, each ended by a device synchronization."""

    device: torch.device
    times: dict[str, float] = field(default_factory=dict)
    _start: float = 0.0

    def start(self) -> None:
        self._sync()
        self._start = time.perf_counter()

    def stop(self, phase: str) -> None:
        self._sync()
        now = time.perf_counter()
        self.times[phase] = self.times.get(phase, 0.0) + now - self._start
        self._start = now

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def timed_basis(A: torch.Tensor) -> tuple[Clock, torch.Tensor, torch.Tensor]:
    """A started :class:`Clock` and ``(U, l)`` of :func:`basis`, timed as the setup phase."""
    clock = Clock(A.device)
    clock.start()
    U, lev = basis(A)
    clock.stop("setup")
    return clock, U, lev


def optimal_weights(p: torch.Tensor, n: int, weighted: bool) -> torch.Tensor:
    """``1 / (n p_i)`` at the drawn rows' densities ``p`` (``E sum_k w_k a_k a_k^T = A^T A``),
    or ones for an unweighted fit."""
    return 1.0 / (n * p) if weighted else torch.ones_like(p)


def drawn(indices: torch.Tensor, weights: torch.Tensor, blocks: torch.Tensor, clock: Clock) -> WithInfo:
    """The method's output (``indices``, ``weights``, ``blocks``) and its measured phases."""
    info = {"setup_seconds": clock.times.get("setup", 0.0), "sampling_seconds": clock.times.get("sampling", 0.0)}
    return WithInfo({"indices": indices, "weights": weights, "blocks": blocks}, info)


def draws_of(A: Any, factor: float) -> tuple[int, int, int]:
    """``(N, m, n)`` of a problem."""
    N, m = A.shape
    return N, m, sample_size(m, factor)


def qr_flops(N: int, m: int) -> float:
    """Thin Householder QR with ``U`` formed (Golub and Van Loan, sections 5.2.2 and 5.1.6)."""
    return 4.0 * m * m * (N - m / 3.0)


def dpp_flops(N: int, m: int) -> float:
    """One projection DPP by the chain rule with Gram-Schmidt updates: ``m`` steps of a
    product ``U e_t`` (``2 N m``), the mass update (``2 N``), the CDF (``N``) and the
    twice-repeated Gram-Schmidt of ``e_t`` (``4 t m``)."""
    return m * (2.0 * N * m + 3.0 * N) + 2.0 * m ** 3
