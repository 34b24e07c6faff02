"""Reading run files written by earlier versions: their cell keys, in today's form.

Schema version 1 keys had no backend, and a method's NumPy and torch versions were two
methods (``gaussian`` and ``gaussian_numpy``)::

    v1: sketch/tall_gaussian(...)/gaussian_numpy(k=64,seed=0)/float32/cpu
    v2: sketch/tall_gaussian(...)/gaussian(k=64,seed=0)/numpy/float32/cpu

A v1 record names its method's backend (``method.backend``); the method's registration
says which former names it absorbed (``renamed_from={"gaussian_numpy": "numpy"}``).
:func:`upgrade` rewrites keys and method names with that table when a file is read, so
``compare``, ``report`` and ``--resume`` match cells across the change. A method that no
longer exists keeps its name and only gains its backend.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import registry


def renames() -> dict[tuple[str, str], tuple[str, str]]:
    """``(task, old method name) -> (new name, backend)`` from every registration."""
    return {(m.task, old): (m.name, backend) for m in registry.METHODS.values() for old, backend in m.renamed_from.items()}


def v1_key(record: Mapping[str, Any], table: Mapping[tuple[str, str], tuple[str, str]]) -> tuple[str, str, str]:
    """``(new key, new method name, backend)`` of a schema-1 result record."""
    key, old = record["key"], record["method"]["name"]
    name, backend = table.get((record["task"], old), (old, record["method"]["backend"]))
    tail = f"/{record['dtype']}/{record['device']}"
    head = f"{record['problem']['key']}/{old}("
    if not (key.startswith(head) and key.endswith(tail)):
        raise ValueError(f"cell key {key!r} does not have the form problem/method(params)/dtype/device")
    params = key[len(head) - 1:len(key) - len(tail)]
    return f"{record['problem']['key']}/{name}{params}/{backend}{tail}", name, backend


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A run file's data in the current schema (in place): keys of v1 files gain the backend."""
    if data.get("schema_version", 1) >= 2:
        return data
    if not registry.METHODS:  # the renames are in the registrations
        from .discovery import load_plugins

        load_plugins()
    table = renames()
    for record in data.get("results", []):
        record["key"], record["method"]["name"], record["method"]["backend"] = v1_key(record, table)
    data["schema_version"] = 2
    data.setdefault("run", {})["migrated_from"] = 1
    return data
