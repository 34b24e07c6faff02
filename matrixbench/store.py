"""Run files: one JSON document per run, written incrementally and atomically.

Every write goes to a temporary file in the same folder and is renamed over the run file,
so a reader (or a run killed midway) never sees a half-written file. The format is
described by :data:`RUN_SCHEMA` (JSON Schema) and in ``docs/results.md``; files are
validated when read, and a file from a newer schema version is refused, never misread.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import jsonschema

SCHEMA_NAME = "matrixbench.run"
SCHEMA_VERSION = 1
STATUSES = ("ok", "inaccurate", "nan", "error", "timeout", "crashed", "skipped")

_NUM = {"type": ["number", "null"]}
_TIME = {
    "type": ["object", "null"],
    "required": ["median", "iqr", "min", "mean", "max", "count", "number", "samples", "timer", "unit"],
    "properties": {
        "median": {"type": "number"}, "iqr": {"type": "number"}, "min": {"type": "number"},
        "mean": {"type": "number"}, "max": {"type": "number"}, "count": {"type": "integer", "minimum": 1},
        "number": {"type": "integer", "minimum": 1}, "samples": {"type": "array", "items": {"type": "number"}},
        "total": {"type": "number"}, "timer": {"type": "string"}, "unit": {"const": "s"},
        "rounds": {"type": "array", "items": {"type": "object", "required": ["median", "count", "number"]}},
    },
}
RESULT_SCHEMA = {
    "type": "object",
    "required": ["key", "task", "suite", "entry", "problem", "method", "dtype", "device", "status", "reason",
                 "metrics", "time", "memory", "flops", "gflops"],
    "properties": {
        "key": {"type": "string"},
        "task": {"type": "string"},
        "suite": {"type": "string"},
        "entry": {"type": "string"},
        "problem": {"type": "object", "required": ["generator", "params", "seed", "task_params", "key"]},
        "method": {"type": "object", "required": ["name", "kind", "backend", "params", "version"]},
        "dtype": {"type": "string"},
        "device": {"type": "string"},
        "status": {"enum": list(STATUSES)},
        "reason": {"type": "string"},
        "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
        "gates": {"type": "object", "additionalProperties": {"type": "number"}},
        "time": _TIME,
        "memory": {"type": ["object", "null"], "properties": {"peak_bytes": {"type": ["integer", "null"]}, "method": {"type": "string"}}},
        "io": {"type": "object", "properties": {"input_bytes": {"type": "integer"}, "output_bytes": {"type": "integer"},
                                                "sparse": {"type": "boolean"}}},
        "flops": _NUM,
        "gflops": _NUM,
        "threads": {"type": ["object", "null"]},
        "timing_settings": {"type": "object"},
        "wall": {"type": "number"},
        "finished": {"type": "string"},
    },
}
RUN_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "matrixbench run file",
    "type": "object",
    "required": ["schema", "schema_version", "run", "environment", "results"],
    "properties": {
        "schema": {"const": SCHEMA_NAME},
        "schema_version": {"type": "integer"},
        "run": {
            "type": "object",
            "required": ["id", "started", "finished", "complete", "suites", "command", "options"],
            "properties": {
                "id": {"type": "string"}, "started": {"type": "string"}, "finished": {"type": ["string", "null"]},
                "complete": {"type": "boolean"}, "interrupted": {"type": "boolean"},
                "suites": {"type": "array", "items": {"type": "object", "required": ["path", "name", "sha256"]}},
                "command": {"type": "array", "items": {"type": "string"}},
                "options": {"type": "object"},
                "planned": {"type": "integer"},
            },
        },
        "environment": {"type": "object"},
        "calibration": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["device", "dtype", "threads", "matmul_gflops", "bandwidth_gbs"]}},
        "results": {"type": "array", "items": RESULT_SCHEMA},
    },
}


class RunFileError(ValueError):
    """A run file that cannot be read: missing, not JSON, wrong schema, newer version."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_run(path: str | Path) -> dict[str, Any]:
    """Read and validate a run file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read the run file: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{path}: not a JSON run file (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_NAME:
        raise RunFileError(f"{path}: not a matrixbench run file (no \"schema\": \"{SCHEMA_NAME}\")")
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise RunFileError(f"{path}: written with run-file schema version {version}; this matrixbench reads "
                           f"up to version {SCHEMA_VERSION}: upgrade matrixbench to read it")
    errors = sorted(jsonschema.Draft202012Validator(RUN_SCHEMA).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise RunFileError(f"{path}: invalid run file at {where}: {err.message}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return data


class RunFile:
    """A run being written: each :meth:`add` rewrites the file atomically."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data
        self._index = {r["key"]: r for r in data["results"]}

    @classmethod
    def create(cls, results_dir: Path, machine: str, run_meta: dict[str, Any], environment: dict[str, Any]) -> RunFile:
        run_id = new_run_id()
        path = Path(results_dir) / machine / f"{run_id}.json"
        data = {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "run": {"id": run_id, "started": now(), "finished": None, "complete": False, **run_meta},
            "environment": environment,
            "results": [],
        }
        run = cls(path, data)
        run.save()
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunFile:
        return cls(Path(path), read_run(path))

    @property
    def keys(self) -> set[str]:
        return set(self._index)

    @property
    def complete_keys(self) -> set[str]:
        """Keys of cells that need no more rounds."""
        return {r["key"] for r in self.data["results"] if is_complete(r)}

    def record(self, key: str) -> dict[str, Any] | None:
        return self._index.get(key)

    def add(self, record: dict[str, Any]) -> None:
        """Add a cell's record, or replace the cell's earlier one in place (a new round)."""
        old = self._index.get(record["key"])
        if old is None:
            self.data["results"].append(record)
        else:
            results = self.data["results"]
            results[next(i for i, r in enumerate(results) if r is old)] = record
        self._index[record["key"]] = record
        self.save()

    def finish(self, complete: bool, interrupted: bool = False) -> None:
        self.data["run"].update(finished=now(), complete=complete, interrupted=interrupted)
        self.save()

    def save(self) -> None:
        atomic_write_json(self.path, self.data)


def rounds_done(record: dict[str, Any] | None) -> int:
    """Timing rounds a cell's record holds (0 for none; files without ``rounds`` had 1)."""
    if record is None:
        return 0
    if not record.get("time"):
        return 1
    return len(record["time"].get("rounds", [None]))


def is_complete(record: dict[str, Any]) -> bool:
    """True unless the cell is timed and has fewer rounds than its settings ask for."""
    if record["status"] not in ("ok", "inaccurate") or not record.get("time"):
        return True
    return rounds_done(record) >= record.get("timing_settings", {}).get("rounds", 1)


def statuses(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in results:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out
