"""Synthetic run files for report tests: known timings (power laws with noise), many runs."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from matrixbench.store import SCHEMA_NAME, SCHEMA_VERSION

METHODS = [("reference", "reference", {}), ("fast", "optimized", {"iters": 5}), ("fast", "optimized", {"iters": 10}),
           ("slow", "baseline", {})]


def record(task: str, gen_params: dict, method: tuple, dtype: str, seconds: float, error: float, rng: Any,
           status: str = "ok", reason: str = "", suite: str = "synthetic") -> dict[str, Any]:
    name, kind, params = method
    pkey = f"{task}/synth({','.join(f'{k}={v}' for k, v in sorted(gen_params.items()))};seed=0)/"
    inner = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
    key = f"{pkey}/{name}({inner})/{dtype}/cpu"
    samples = list(seconds * (1 + 0.02 * np.abs(rng.standard_normal(5))))
    time = {"median": float(np.median(samples)), "iqr": float(np.subtract(*np.percentile(samples, [75, 25]))),
            "min": min(samples), "mean": float(np.mean(samples)), "max": max(samples), "count": 5, "number": 1,
            "samples": samples, "total": sum(samples), "timer": "perf_counter_ns", "unit": "s"}
    timed = status in ("ok", "inaccurate")
    return {"key": key, "task": task, "suite": suite, "entry": suite,
            "problem": {"task": task, "generator": "synth", "params": dict(gen_params), "seed": 0, "task_params": {},
                        "key": pkey},
            "method": {"name": name, "kind": kind, "backend": "numpy", "params": dict(params), "version": "v1"},
            "dtype": dtype, "device": "cpu", "status": status, "reason": reason,
            "metrics": {"rel_error": error} if timed else {}, "gates": {}, "time": time if timed else None,
            "memory": None, "io": {"input_bytes": 8 * gen_params["n"] ** 2, "output_bytes": 8 * gen_params["n"] ** 2},
            "flops": 2.0 * gen_params["n"] ** 3 if timed else None,
            "gflops": 2.0 * gen_params["n"] ** 3 / time["median"] / 1e9 if timed else None,
            "threads": {"requested": 2}, "timing_settings": {}, "wall": 0.1, "finished": "2026-11-23T00:00:00+00:00"}


def make_run(run_id: str, records: list[dict], commit: str = "0" * 40, date: str = "2026-11-23T00:00:00+00:00",
             machine: str = "synthetic") -> dict[str, Any]:
    return {"schema": SCHEMA_NAME, "schema_version": SCHEMA_VERSION,
            "run": {"id": run_id, "started": date, "finished": date, "complete": True,
                    "suites": [{"path": "suites/synthetic.yaml", "name": "synthetic", "sha256": "0"}],
                    "command": ["matrixbench", "run"], "options": {}, "planned": len(records)},
            "environment": {"machine": {"name": machine, "cpu": "synthetic"}, "git": {"commit": commit, "date": date, "dirty": False}},
            "calibration": {"cpu/float64/threads=2": {"device": "cpu", "dtype": "float64", "threads": 2, "matmul_gflops": 100.0,
                                                      "bandwidth_gbs": 20.0, "measured": date, "method": "synthetic"}},
            "results": records}


def power_law_records(exponents: dict[str, float], sizes: list[int], rng: Any, noise: float = 0.05,
                      conds: tuple = (10,), batches: tuple = (1,), dtypes: tuple = ("float64",)) -> list[dict]:
    """One record per (size, cond, batch, method, dtype): time = 1e-9 * n^b * lognormal noise."""
    out = []
    for n in sizes:
        for cond in conds:
            for batch in batches:
                for method in METHODS:
                    b = exponents.get(method[0], 3.0)
                    for dtype in dtypes:
                        t = 1e-9 * n**b * float(np.exp(noise * rng.standard_normal()))
                        err = 0.0 if method[0] == "reference" else 10.0 ** -(3 + method[2].get("iters", 1))
                        out.append(record("synth_task", {"n": n, "cond": cond, "batch": batch}, method, dtype, t, err, rng))
    return out


def many_runs(count: int, records: list[dict], rng: Any) -> list[dict]:
    """``count`` runs of the same cells on one machine, commits a day apart, times drifting."""
    runs = []
    for i in range(count):
        recs = copy.deepcopy(records)
        for r in recs:
            if r["time"]:
                f = float(np.exp(0.03 * rng.standard_normal()))
                r["time"]["samples"] = [s * f for s in r["time"]["samples"]]
                for k in ("median", "min", "mean", "max"):
                    r["time"][k] *= f
        runs.append(make_run(f"run{i:02d}", recs, commit=f"{i:02d}" + "0" * 38, date=f"2026-11-{1 + i:02d}T00:00:00+00:00"))
    return runs
