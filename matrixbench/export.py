"""Run files as flat rows: one row per cell, for a spreadsheet, a notebook or a database.

A run file nests (problem parameters, method parameters, metrics, time statistics); a
row flattens them with prefixes, so that the columns of one task line up across runs:

- provenance: ``run_id``, ``machine``, ``started``, ``commit``, ``suite``, ``entry``;
- the cell: ``key``, ``task``, ``generator``, ``seed``, ``problem.<param>``,
  ``task.<param>``, ``method``, ``kind``, ``backend``, ``param.<param>``, ``dtype``,
  ``device``, ``status``, ``reason``;
- time (seconds per call): ``time_median``, ``time_iqr``, ``time_min``, ``time_mean``,
  ``time_max``, ``time_count`` (samples), ``time_number`` (calls per sample),
  ``time_median_low``/``time_median_high`` (the 95% interval of the median, where
  recorded), ``timer``, ``contended``;
- work: ``flops``, ``gflops``, ``peak_bytes``; accuracy: ``metric.<name>``; trials:
  ``trials`` and, per metric, ``metric.<name>.p10``/``.p90`` where the record has them.

:func:`load` returns the rows of run files as a pandas DataFrame (pandas is an optional
extra); :func:`write` stores them as CSV, JSON lines or Parquet.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable

from .store import read_run

FORMATS = ("csv", "jsonl", "parquet")


def _flat(prefix: str, values: dict[str, Any] | None) -> dict[str, Any]:
    return {f"{prefix}.{k}": v for k, v in sorted((values or {}).items())}


def cell_row(record: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """One flat row of a cell's record (see the module docstring for the columns)."""
    meta, env = run["run"], run.get("environment") or {}
    problem, method = record["problem"], record["method"]
    t = record.get("time") or {}
    row: dict[str, Any] = {
        "run_id": meta.get("id"), "machine": (env.get("machine") or {}).get("name"),
        "started": meta.get("started"), "commit": (env.get("git") or {}).get("commit"),
        "suite": record.get("suite"), "entry": record.get("entry"), "key": record["key"], "task": record["task"],
        "generator": problem.get("generator"), "seed": problem.get("seed"),
        **_flat("problem", problem.get("params")), **_flat("task", problem.get("task_params")),
        "method": method["name"], "kind": method.get("kind"), "backend": method.get("backend"),
        **_flat("param", method.get("params")),
        "dtype": record["dtype"], "device": record["device"], "status": record["status"], "reason": record.get("reason", ""),
    }
    for stat in ("median", "iqr", "min", "mean", "max", "count", "number"):
        row[f"time_{stat}"] = t.get(stat)
    ci = t.get("median_ci") or [None, None]
    row["time_median_low"], row["time_median_high"] = ci[0], ci[1]
    row["timer"] = t.get("timer")
    row["contended"] = bool((record.get("contention") or {}).get("contended"))
    row["flops"], row["gflops"] = record.get("flops"), record.get("gflops")
    row["peak_bytes"] = (record.get("memory") or {}).get("peak_bytes")
    row.update(_flat("metric", record.get("metrics")))
    trials = record.get("trials") or {}
    if trials:
        row["trials"] = trials.get("count")
        for name, spread in sorted((trials.get("spread") or {}).items()):
            row[f"metric.{name}.p10"], row[f"metric.{name}.p90"] = spread.get("p10"), spread.get("p90")
    return row


def rows(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Every cell of every run file, in file order (a bad file raises ``RunFileError``)."""
    out: list[dict[str, Any]] = []
    for path in paths:
        run = read_run(path)
        out += [cell_row(r, run) for r in run["results"]]
    return out


def columns(table: list[dict[str, Any]]) -> list[str]:
    """All columns, in first-seen order (tasks differ in parameters and metrics)."""
    return list(dict.fromkeys(k for row in table for k in row))


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError("pandas is needed for this: pip install 'matrixbench[data]' (or pip install pandas)") from None
    return pandas


def load(paths: str | Path | Iterable[str | Path]) -> Any:
    """The cells of run files as a pandas DataFrame, one row per cell::

        import matrixbench
        df = matrixbench.load(["results/vm/20261201T040324Z-2e5b13.json"])
        df[df.status == "ok"].groupby("method").time_median.median()
    """
    pd = _pandas()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    table = rows(paths)
    return pd.DataFrame(table, columns=columns(table))


def write(table: list[dict[str, Any]], path: Path, fmt: str) -> None:
    """Write rows as ``csv`` (empty cell for a missing value), ``jsonl`` or ``parquet``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns(table), restval="")
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in table)
    elif fmt == "jsonl":
        with open(path, "w") as fh:
            for row in table:
                fh.write(json.dumps(row) + "\n")
    elif fmt == "parquet":
        pd = _pandas()
        try:
            pd.DataFrame(table, columns=columns(table)).to_parquet(path)
        except ImportError as exc:
            raise ImportError(f"{exc}; pip install 'matrixbench[data]' (or pip install pyarrow)") from None
    else:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
