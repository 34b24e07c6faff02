"""``matrixbench merge``: one run from the shard files of one plan (:mod:`matrixbench.shard`).

What a merged run keeps:

- every cell once. A cell found in two files (a shard relaunched into a new file instead
  of resuming its own) keeps its complete record, else the one with more rounds, else the
  newer; the count of such duplicates is recorded;
- each record's origin: ``shard`` (run id, shard number, machine, the cores or device it
  had), and each shard's run metadata, environment and calibration under
  ``run.merged.shards``: nothing a shard measured is lost;
- the cells the plan has and no file does (``run.merged.missing``, named from the
  partition every shard file records, so a shard that never came back is listed too).
  The merged run is ``complete`` only when nothing is missing and every shard was.

What it refuses (:class:`MergeError`, exit 2), each unless told: files that are not shards
(no ``run.shard``), shards of different plans (the plan fingerprint: another suite, other
filters, a changed suite), and shards of different commits (``environment.git.commit``):
their cells would compare two codes as one.

Machines: shards may come from several machines. Records keep their machine; a merged run
of several machines gets the machine name ``mixed (a, b)``, so ``compare`` refuses it
against one machine's run unless told, and :func:`split_by_machine` gives the report one
run per machine (every table and plot keeps machines apart).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Sequence

from .record import CellResult
from .store import new_run_id


class MergeError(ValueError):
    """The files cannot be merged (exit 2)."""


def _machine(run: dict[str, Any]) -> str:
    return str(((run.get("environment") or {}).get("machine") or {}).get("name") or "unknown")


def _commit(run: dict[str, Any]) -> str | None:
    return ((run.get("environment") or {}).get("git") or {}).get("commit")


def _better(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Of two records of one cell: the complete one, else the one with more rounds, else the newer."""
    ra, rb = CellResult.from_dict(a), CellResult.from_dict(b)
    rank_a = (ra.complete, ra.rounds_done, a.get("finished") or "")
    rank_b = (rb.complete, rb.rounds_done, b.get("finished") or "")
    return a if rank_a >= rank_b else b


def merge_runs(runs: Sequence[tuple[str, dict[str, Any]]], *, allow_plans: bool = False,
               allow_commits: bool = False, command: list[str] | None = None) -> dict[str, Any]:
    """The merged run of ``runs`` ((path, run data) pairs); raises :class:`MergeError`."""
    if not runs:
        raise MergeError("no run files to merge")
    not_shards = [p for p, r in runs if not r["run"].get("shard")]
    if not_shards and not allow_plans:
        raise MergeError(f"not a shard file (made without --shard): {', '.join(not_shards)}; merge takes the shard "
                         "files of one plan (--allow-different-plans merges any run files)")
    plans = {p: (r["run"].get("shard") or {}).get("plan") for p, r in runs}
    if len(set(plans.values())) > 1 and not allow_plans:
        lines = "; ".join(f"{p}: plan {str(v)[:12]} ({', '.join(s['name'] for s in r['run']['suites'])})"
                          for (p, r), v in zip(runs, plans.values()))
        raise MergeError(f"the files are shards of different plans (other suites, filters, or a suite changed "
                         f"between shards): {lines}; --allow-different-plans merges them anyway")
    commits = {p: _commit(r) for p, r in runs}
    if len(set(commits.values())) > 1 and not allow_commits:
        lines = "; ".join(f"{p}: commit {(c or 'unknown')[:12]}" for p, c in commits.items())
        raise MergeError(f"the files were measured on different commits: {lines}; their cells would compare two "
                         "codes as one (--allow-different-commits merges them anyway)")
    ordered = sorted(runs, key=lambda pr: ((pr[1]["run"].get("shard") or {}).get("index", 0), pr[1]["run"]["started"]))
    results: dict[str, dict[str, Any]] = {}
    duplicates = 0
    shards_meta = []
    for path, run in ordered:
        shard = run["run"].get("shard") or {}
        origin = {"run": run["run"]["id"], "index": shard.get("index"), "count": shard.get("count"),
                  "machine": _machine(run), **({"placement": run["run"]["placement"]} if run["run"].get("placement") else {})}
        shards_meta.append({"path": str(path), "id": run["run"]["id"], "index": shard.get("index"),
                            "count": shard.get("count"), "machine": _machine(run), "complete": run["run"]["complete"],
                            "started": run["run"]["started"], "finished": run["run"]["finished"],
                            "cells": len(run["results"]), "placement": run["run"].get("placement"),
                            "environment": run["environment"], "calibration": run.get("calibration") or {}})
        for record in run["results"]:
            record = {**copy.deepcopy(record), "shard": origin}
            if record["key"] in results:
                duplicates += 1
                record = _better(results[record["key"]], record)
            results[record["key"]] = record
    seen: dict[str, None] = {}
    for _, run in ordered:  # every key the plan has, from the partitions the shards recorded
        for part in (run["run"].get("shard") or {}).get("shards") or []:
            seen.update(dict.fromkeys(part))
    planned = list(seen)
    planned_set = set(planned)
    keys = [k for k in planned if k in results] + [k for k in results if k not in planned_set]
    complete = {k for k, r in results.items() if CellResult.from_dict(r).complete}
    missing = [k for k in planned if k not in complete]
    indices = {(r["run"].get("shard") or {}).get("index") for _, r in ordered}
    count = max(((r["run"].get("shard") or {}).get("count") or 0) for _, r in ordered)
    absent = [k for k in range(1, count + 1) if k not in indices]
    first = ordered[0][1]
    machines = sorted({_machine(r) for _, r in ordered})
    environment = copy.deepcopy(first["environment"])
    if len(machines) > 1:
        environment.setdefault("machine", {})["name"] = f"mixed ({', '.join(machines)})"
    suites = {(s["path"], s["sha256"]): s for _, r in ordered for s in r["run"]["suites"]}
    options = {k: v for k, v in first["run"]["options"].items() if k not in ("shard", "cores", "run_file")}
    metrics: dict[str, Any] = {}
    for _, r in ordered:
        for task, ms in (r.get("metrics") or {}).items():
            metrics.setdefault(task, {}).update(ms)
    started = min(r["run"]["started"] for _, r in ordered)
    ends = [r["run"]["finished"] for _, r in ordered]
    merged = {
        "schema": first["schema"], "schema_version": first["schema_version"],
        "run": {"id": new_run_id(), "started": started, "finished": None if None in ends else max(ends),
                "complete": not missing and not absent and all(r["run"]["complete"] for _, r in ordered),
                "interrupted": any(r["run"].get("interrupted") for _, r in ordered),
                "suites": list(suites.values()), "command": command or ["matrixbench", "merge"], "options": options,
                "planned": len(planned) or len(results),
                "merged": {"plan": (first["run"].get("shard") or {}).get("plan"), "count": count, "machines": machines,
                           "shards": shards_meta, "missing": missing, "absent_shards": absent,
                           "duplicates": duplicates}},
        "environment": environment,
        "metrics": metrics,
        "results": [results[k] for k in keys],
    }
    if len(machines) == 1 and first.get("calibration"):
        merged["calibration"] = copy.deepcopy(first["calibration"])
    return merged


def split_by_machine(run: dict[str, Any]) -> list[dict[str, Any]]:
    """A merged run of several machines as one run per machine (each with that machine's
    environment and calibration, its records only); any other run as itself."""
    merged = run["run"].get("merged") or {}
    if len(merged.get("machines") or []) < 2:
        return [run]
    out = []
    for machine in merged["machines"]:
        shard = next(s for s in merged["shards"] if s["machine"] == machine)
        part = copy.deepcopy({k: v for k, v in run.items() if k != "results"})
        part["run"]["id"] = f"{run['run']['id']}-{machine}"
        part["environment"] = copy.deepcopy(shard["environment"])
        part["calibration"] = copy.deepcopy(shard.get("calibration") or {})
        part["results"] = [r for r in run["results"] if (r.get("shard") or {}).get("machine") == machine]
        out.append(part)
    return out


def default_output(paths: Sequence[str], run_id: str) -> Path:
    return Path(paths[0]).parent / f"{run_id}.json"
