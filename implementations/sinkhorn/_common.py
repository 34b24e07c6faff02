"""What the torch methods share: the stopping rule, the marginal errors, the parameters.

**Stopping** (every method): at every ``check_every``-th iteration the marginal errors
``err_b = ||G^T 1 - b||_1`` and ``err_a = ||G 1 - a||_1`` of the current plan ``G``
(free for the scaling methods: the products they need anyway give both sums). The method
stops

- at ``max(err_a, err_b) <= tol`` (the task's ``tol``, default ``1e-7``; both marginals,
  whereas POT's rule looks at ``b``'s alone, in the 2-norm: :mod:`.task`);
- with a failure (the cell is ``inaccurate``, the error in the reason, never a silent
  answer) at ``max_iter`` iterations; when the error has made no new low in ``PATIENCE``
  checks (it wanders at its rounding floor: float32 cannot reach every ``tol``; or its
  progress is too slow to show through the rounding, as on a Sinkhorn plateau); and when
  an iterate stops being finite (``exp(-C / reg)`` underflows: the scaling form divides
  by zero), then the last finite iterate is returned, as POT's ``sinkhorn_knopp`` does.

A check costs one device synchronization (the error must reach Python), hence
``check_every`` (POT checks every 10 iterations too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from matrixbench.params import Param

#: backends, devices and dtypes of every torch method
TORCH = dict(backends=("torch",), devices=("cpu", "cuda"), dtypes=("float32", "float64"))
CHECK_EVERY = Param(int, 10, min=1, doc="iterations between two checks of the stopping rule (a device sync each)")
#: checks without a new lowest error after which the iteration has stalled
PATIENCE = 10


def l1(x: torch.Tensor) -> float:
    """``||x||_1`` over the last axis, the largest over a batch."""
    return float(x.abs().sum(dim=-1).max())


def finite(*tensors: torch.Tensor) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in tensors)


@dataclass
class Stopping:
    """The stopping rule of the module docstring; ``update`` returns True to stop."""

    tol: float
    max_iter: int
    errors: list[float] = field(default_factory=list)
    reason: str = ""
    failure: str | None = None
    #: apply the no-new-low rule (off where the error may rise on the way, as in Newton's
    #: damped phase: the method then judges progress itself)
    stall: bool = True

    def update(self, err_a: float, err_b: float, iterations: int) -> bool:
        """Record the errors after ``iterations`` iterations; True when the method stops."""
        err = max(err_a, err_b)
        self.errors.append(err)
        if err <= self.tol:
            self.reason = "tol"
        elif err != err:
            self.reason, self.failure = "nan", f"the marginal error is NaN at iteration {iterations}"
        elif self.stall and len(self.errors) > PATIENCE and min(self.errors[-PATIENCE:]) >= min(self.errors[:-PATIENCE]):
            self.reason = "stall"
            self.failure = (f"stalled at marginal error {err:.2e} above tol {self.tol:.0e}: no new low in "
                            f"{PATIENCE} checks up to iteration {iterations} (the rounding floor of the dtype, or progress "
                            "too slow to show through it)")
        elif iterations >= self.max_iter:
            self.reason = "cap"
            self.failure = (f"did not reach tol {self.tol:.0e} in {self.max_iter} iterations: marginal errors "
                            f"||G 1 - a||_1 = {err_a:.2e}, ||G^T 1 - b||_1 = {err_b:.2e}")
        return bool(self.reason)

    def stalled(self, iterations: int, why: str) -> None:
        """The method itself found no progress: stop with the reason."""
        self.reason = "stall"
        self.failure = (f"stalled at marginal error {self.errors[-1]:.2e} above tol {self.tol:.0e} at iteration "
                        f"{iterations}: {why}")

    def underflow(self, iterations: int, what: str) -> None:
        """The iterate stopped being finite at ``iterations``: stop with the reason."""
        self.reason = "underflow"
        self.failure = (f"numerical underflow at iteration {iterations}: {what}; the last finite iterate is "
                        f"returned (reg too small for the scaling form in this dtype: use the log domain)")

    def due(self, iterations: int, every: int) -> bool:
        """A check is due after ``iterations`` iterations."""
        return iterations % every == 0 or iterations >= self.max_iter

