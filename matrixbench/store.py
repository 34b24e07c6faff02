"""Run files: one JSON document per run, written incrementally and atomically.

Every write goes to a temporary file in the same folder and is renamed over the run file,
so a reader (or a run killed midway) never sees a half-written file; temporary files a
killed writer left behind are removed when the file is next opened for writing. A run
file being written is locked (``fcntl.flock`` on ``<file>.lock``, which names the
holder): a second writer is refused, never allowed to overwrite the first one's cells.
Numbers that JSON cannot hold (NaN, Inf) are written as null, never a crash. The format is
described by :data:`RUN_SCHEMA` (JSON Schema) and in ``docs/results.md``; files are
validated when read, and a file from a newer schema version is refused, never misread.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import secrets
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import jsonschema

from .migrate import upgrade
from .record import CellResult, now
from .verdict import STATUSES

SCHEMA_NAME = "matrixbench.run"
SCHEMA_VERSION = 2  # 2: cell keys name the backend (matrixbench.migrate reads version 1)

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
        "metrics": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        "gates": {"type": "object", "additionalProperties": {"type": "number"}},
        "time": _TIME,
        "memory": {"type": ["object", "null"], "properties": {"peak_bytes": {"type": ["integer", "null"]}, "method": {"type": "string"}}},
        "io": {"type": ["object", "null"], "properties": {"input_bytes": {"type": "integer"}, "output_bytes": {"type": "integer"},
                                                "sparse": {"type": "boolean"}}},
        "flops": _NUM,
        "gflops": _NUM,
        "threads": {"type": ["object", "null"]},
        "timing_settings": {"type": "object"},
        "wall": {"type": "number"},
        "finished": {"type": "string"},
        "input_checksum": {"type": "string"},
        "notes": {"type": "array", "items": {"type": "string"}},
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
                "migrated_from": {"type": "integer"},
            },
        },
        "metrics": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["direction"],
            "properties": {"direction": {"enum": ["lower", "higher"]}, "unit": {"type": "string"},
                           "scale": {"enum": ["error", "ratio", "score", "count", "value"]}}}}},
        "environment": {"type": "object"},
        "calibration": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["device", "dtype", "threads", "matmul_gflops", "bandwidth_gbs"]}},
        "results": {"type": "array", "items": RESULT_SCHEMA},
    },
}


class RunFileError(ValueError):
    """A run file that cannot be read: missing, not JSON, wrong schema, newer version."""


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def finite_json(value: Any) -> Any:
    """``value`` with every NaN or Inf float replaced by None (JSON null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = finite_json(data)
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
    """Read and validate a run file.

    Run files come from other machines and CI artifacts, so anything that is not one is a
    :class:`RunFileError` naming the file, never a traceback: bytes that are not UTF-8
    (a file re-saved as UTF-16), JSON nested past the interpreter's stack, integers too
    long to convert.
    """
    from .yamlsrc import decode_utf8  # the same wording for suites and run files

    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunFileError(f"{path}: cannot read the run file: {exc.strerror or exc}") from None
    text, bad = decode_utf8(raw)
    if bad is not None:
        offset, why = bad
        line = raw.count(b"\n", 0, offset) + 1
        raise RunFileError(f"{path}:{line}: not UTF-8 text (at byte {offset}): {why}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{path}: not a JSON run file (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:  # e.g. an integer past sys.get_int_max_str_digits()
        raise RunFileError(f"{path}: not a JSON run file ({exc})") from None
    except RecursionError:
        raise RunFileError(f"{path}: not a JSON run file (nested too deeply to read)") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA_NAME:
        raise RunFileError(f"{path}: not a matrixbench run file (no \"schema\": \"{SCHEMA_NAME}\")")
    version = data.get("schema_version")
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise RunFileError(f"{path}: written with run-file schema version {version}; this matrixbench reads "
                           f"up to version {SCHEMA_VERSION}: upgrade matrixbench to read it")
    try:
        errors = sorted(jsonschema.Draft202012Validator(RUN_SCHEMA).iter_errors(data),
                        key=lambda e: list(e.absolute_path))
    except RecursionError:
        raise RunFileError(f"{path}: invalid run file (nested too deeply to validate)") from None
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        raise RunFileError(f"{path}: invalid run file at {where}: {err.message}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    try:
        return upgrade(data)
    except ValueError as exc:
        raise RunFileError(f"{path}: cannot read this version-{version} run file: {exc}") from None


class RunFileLocked(RunFileError):
    """Another process is writing this run file."""


class _Lock:
    """An exclusive ``flock`` on ``<run file>.lock``, which records its holder."""

    def __init__(self, run_path: Path):
        self.path = run_path.with_name(run_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 500).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                raise RunFileLocked(f"{self.path.with_suffix('')}: another matrixbench is writing this run file "
                                    f"({holder}); wait for it to finish, or stop it first") from None
            try:  # the holder may have removed the file between our open and our flock
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {os.uname().nodename} since {now()}".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Temporary files of ``path`` left by a writer that was killed mid-save."""
    stale = list(path.parent.glob(f".{path.name}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


class RunFile:
    """A run being written: each :meth:`add` rewrites the file atomically.

    Opening one (``create``, ``open``) takes its lock; :meth:`close` (or the end of a
    ``with`` block) releases it. A run file's records are plain dicts (the JSON form of
    :class:`~matrixbench.record.CellResult`), so that readers need no engine classes.
    """

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data
        self._index = {r["key"]: r for r in data["results"]}
        self._lock: _Lock | None = None

    @classmethod
    def create(cls, results_dir: Path, machine: str, run_meta: dict[str, Any], environment: dict[str, Any],
               metrics: dict[str, Any] | None = None, path: Path | None = None) -> RunFile:
        """A new run file: ``<results_dir>/<machine>/<run id>.json``, or ``path`` (a launcher's shard file)."""
        run_id = new_run_id()
        path = path or Path(results_dir) / machine / f"{run_id}.json"
        data = {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "run": {"id": run_id, "started": now(), "finished": None, "complete": False, **run_meta},
            "environment": environment,
            "metrics": metrics or {},
            "results": [],
        }
        run = cls(path, data)
        run._take_lock()
        run.save()
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunFile:
        """Open a run file to add to it (``--resume``): locked first, then read."""
        lock = _Lock(Path(path))
        lock.acquire()
        try:
            run = cls(Path(path), read_run(path))
        except BaseException:
            lock.release()
            raise
        run._lock = lock
        remove_stale_temporaries(run.path)
        return run

    def _take_lock(self) -> None:
        self._lock = _Lock(self.path)
        self._lock.acquire()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> RunFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def keys(self) -> set[str]:
        return set(self._index)

    @property
    def complete_keys(self) -> set[str]:
        """Keys of cells that need no more rounds."""
        return {r["key"] for r in self.data["results"] if CellResult.from_dict(r).complete}

    def record(self, key: str) -> dict[str, Any] | None:
        return self._index.get(key)

    def result(self, key: str) -> CellResult | None:
        """The cell's record as a :class:`CellResult`, or None."""
        record = self._index.get(key)
        return None if record is None else CellResult.from_dict(record)

    def add(self, result: CellResult | dict[str, Any]) -> None:
        """Add a cell's record, or replace the cell's earlier one in place (a new round)."""
        record = finite_json(result.to_dict() if isinstance(result, CellResult) else result)
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


def statuses(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in results:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out
