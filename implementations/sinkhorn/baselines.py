"""Third-party solvers: POT (Flamary et al., "POT: Python Optimal Transport", JMLR 2021)
and GeomLoss (Feydy et al., AISTATS 2019).

POT's entropic solvers, on NumPy arrays or torch tensors (its backend follows the input):

- ``pot_sinkhorn``: ``ot.sinkhorn(method="sinkhorn")``, the scaling iteration
  (``sinkhorn_knopp``), which stops at the first numerical error and returns the previous
  iterate with a warning;
- ``pot_sinkhorn_log``: ``method="sinkhorn_log"``, the log domain;
- ``pot_stabilized``: ``method="sinkhorn_stabilized"`` (Schmitzer 2019): scalings
  absorbed into the potentials whenever they pass ``tau = 1e3``;
- ``pot_eps_scaling``: ``ot.bregman.sinkhorn_epsilon_scaling``: stabilized runs of at most
  ``100`` iterations along ``reg_k = (1e4 - reg) e^-k + reg``, at most
  ``max(41, ceil(max_iter / 100))`` of them (POT checks its stop only at every 10th run
  past its minimum of 35: a cap of 40 or fewer never stops); ``iterations`` counts those runs
  (POT does not report the inner iterations). Float64 only: on NumPy input it computes in
  float64 whatever the input's dtype, and in float32 its squared threshold is out of reach;
- ``pot_greenkhorn``: ``ot.bregman.greenkhorn`` (one row or column a step, chosen by the
  largest absolute violation; ``iterations``: steps / (n + m), at most ``max_iter (n + m)``).

POT's stopping rules are not the task's: ``sinkhorn``, ``sinkhorn_log`` and
``sinkhorn_stabilized`` stop when ``||G^T 1 - b||_2 < stopThr`` (checked every 10, 10
and 20 iterations), Greenkhorn when the largest violation of either marginal is below it,
epsilon scaling when the sum of both squared 2-norms is. ``rule: l1`` (the default) passes
the ``stopThr`` that makes POT's test imply the task's ``max(||G 1 - a||_1, ||G^T 1 -
b||_1) <= tol`` (``tol / sqrt(m)``, ``tol / max(n, m)``, ``tol^2 / max(n, m)``): the
times compare at one accuracy. ``rule: pot`` passes ``stopThr = tol`` as POT's own
benchmark does. A POT warning of numerical errors; with ``rule: l1`` a plan whose
measured 1-norm error is above ``tol``; with ``rule: pot`` a run to its iteration cap:
each makes the cell ``inaccurate`` with the reason.

``geomloss``: GeomLoss's ``geomloss.ot.solve`` on the cost matrix, symmetric Sinkhorn
along an annealing schedule of ``iterations`` steps (``reg`` from the cost's range down
to the target) with a final extrapolation. It has no stopping tolerance (its ``tol`` is
not used in 0.3.1): its marginal error is what that schedule gives, recorded as measured
and judged by the suites' gates only. Its entropy term is ``KL(G, a b^T)``, which differs
from ``-H(G)`` by a constant on the plans with marginals ``a``, ``b``: the same optimum.

A package that is not installed skips its methods with the reason (``pip install pot``,
``pip install geomloss``; GeomLoss is pure Python and uses the torch installed).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

from matrixbench.params import Param
from matrixbench.registry import WithInfo, method

from .task import tolerance

POT = dict(kind="baseline", backends=("numpy", "torch"), devices=("cpu", "cuda"), dtypes=("float32", "float64"),
           requires=("ot",))
RULE = Param(str, "l1", choices=("l1", "pot"), doc="stopThr: implies the task's 1-norm tol (l1), or tol as given (pot)")


def l1_errors(G: Any, a: Any, b: Any) -> float:
    """``max(||G 1 - a||_1, ||G^T 1 - b||_1)`` in the plan's own library."""
    return max(float(abs(G.sum(1) - a).sum()), float(abs(G.sum(0) - b).sum()))


def run_pot(name: str, solve: Callable[[float], tuple[Any, dict]], a: Any, b: Any, C: Any, tol: float,
            threshold: Callable[[float, int, int], float], rule: str, count: Callable[[dict], float],
            cap: float) -> WithInfo:
    """Call POT's solver with the ``stopThr`` of ``rule``. It failed when it warned of
    numerical errors, when (``l1``) the measured error is above ``tol``, or when (``pot``)
    it ran to its cap of ``cap`` iterations. Its "did not converge" warnings are not used:
    epsilon scaling's inner runs warn at every coarse stage."""
    target = tolerance(tol, C.dtype)
    n, m = C.shape
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        G, log = solve(threshold(target, n, m) if rule == "l1" else target)
    iterations = count(log)
    err = l1_errors(G, a, b)
    numerical = [str(w.message) for w in caught if "umerical" in str(w.message)]
    failure = None
    if numerical:
        failure = f"POT's {name} warned: {numerical[0]} (marginal error {err:.2e})"
    elif rule == "l1" and not err <= target:
        failure = f"POT's {name} stopped at marginal error {err:.2e} > tol {target:.0e} after {iterations:g} iterations"
    elif rule == "pot" and iterations >= cap:
        failure = f"POT's {name} did not converge in {cap:g} iterations (marginal error {err:.2e})"
    return WithInfo(G, {"iterations": iterations}, failure)


def two_norm(tol: float, n: int, m: int) -> float:
    return tol / math.sqrt(m)


@method("sinkhorn", "pot_sinkhorn", **POT, params={"rule": RULE})
def pot_sinkhorn(a: Any, b: Any, C: Any, reg: float, tol: float = 1e-7, max_iter: int = 1000,
                 rule: str = "l1") -> WithInfo:
    """POT's ``sinkhorn_knopp`` (module docstring)."""
    import ot

    return run_pot("sinkhorn", lambda thr: ot.sinkhorn(a, b, C, reg, method="sinkhorn", numItermax=max_iter,
                                                      stopThr=thr, log=True),
                   a, b, C, tol, two_norm, rule, lambda log: log["niter"] + 1, max_iter)


@method("sinkhorn", "pot_sinkhorn_log", **POT, params={"rule": RULE})
def pot_sinkhorn_log(a: Any, b: Any, C: Any, reg: float, tol: float = 1e-7, max_iter: int = 1000,
                     rule: str = "l1") -> WithInfo:
    """POT's ``sinkhorn_log`` (module docstring)."""
    import ot

    return run_pot("sinkhorn_log", lambda thr: ot.sinkhorn(a, b, C, reg, method="sinkhorn_log",
                                                          numItermax=max_iter, stopThr=thr, log=True),
                   a, b, C, tol, two_norm, rule, lambda log: log["niter"] + 1, max_iter)


@method("sinkhorn", "pot_stabilized", **POT, params={"rule": RULE})
def pot_stabilized(a: Any, b: Any, C: Any, reg: float, tol: float = 1e-7, max_iter: int = 1000,
                   rule: str = "l1") -> WithInfo:
    """POT's ``sinkhorn_stabilized`` (module docstring)."""
    import ot

    return run_pot("sinkhorn_stabilized", lambda thr: ot.sinkhorn(a, b, C, reg, method="sinkhorn_stabilized",
                                                                 numItermax=max_iter, stopThr=thr, log=True),
                   a, b, C, tol, two_norm, rule, lambda log: log["n_iter"] + 1, max_iter)


def eps_runs(max_iter: int) -> int:
    """POT's outer cap: ``max_iter / 100`` runs, at least 41 (POT forces 35 and tests its
    stop only at every 10th run past 35: with fewer it never stops and always warns)."""
    return max(41, math.ceil(max_iter / 100))


@method("sinkhorn", "pot_eps_scaling", **{**POT, "dtypes": ("float64",)}, params={"rule": RULE})
def pot_eps_scaling(a: Any, b: Any, C: Any, reg: float, tol: float = 1e-7, max_iter: int = 1000,
                    rule: str = "l1") -> WithInfo:
    """POT's ``sinkhorn_epsilon_scaling`` (module docstring)."""
    import ot

    return run_pot("sinkhorn_epsilon_scaling",
                   lambda thr: ot.bregman.sinkhorn_epsilon_scaling(a, b, C, reg, numItermax=eps_runs(max_iter),
                                                                   stopThr=thr, log=True),
                   a, b, C, tol, lambda t, n, m: t**2 / max(n, m), rule, lambda log: log["niter"] + 1,
                   eps_runs(max_iter))


@method("sinkhorn", "pot_greenkhorn", **POT, params={"rule": RULE})
def pot_greenkhorn(a: Any, b: Any, C: Any, reg: float, tol: float = 1e-7, max_iter: int = 1000,
                   rule: str = "l1") -> WithInfo:
    """POT's ``greenkhorn`` (module docstring)."""
    import ot

    n, m = C.shape
    return run_pot("greenkhorn", lambda thr: ot.bregman.greenkhorn(a, b, C, reg, numItermax=max_iter * (n + m),
                                                                  stopThr=thr, log=True),
                   a, b, C, tol, lambda t, n, m: t / max(n, m), rule, lambda log: (log["n_iter"] + 1) / (n + m),
                   max_iter)


@method("sinkhorn", "geomloss", kind="baseline", backends=("torch",), devices=("cpu", "cuda"),
        dtypes=("float32", "float64"), requires=("geomloss",),
        params={"iterations": Param(int, 1000, min=1, doc="length of GeomLoss's annealing schedule")})
def geomloss(a: Any, b: Any, C: Any, reg: float, tol: float = 1e-7, max_iter: int = 1000,
             iterations: int = 1000) -> WithInfo:
    """GeomLoss's annealed symmetric Sinkhorn on the cost matrix (module docstring)."""
    from geomloss import ot as gl

    plan = gl.solve(C, reg=reg, a=a, b=b, max_iter=iterations).plan
    return WithInfo(plan, {"iterations": iterations})
