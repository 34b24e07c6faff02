"""Real data sets from ``datasets/``: catalog, checksum verification, loading.

The folder holds small data files and ``catalog.yaml``, which gives for every data set
its file, layout, shape, sha256 checksum, provenance and license. The folder is
``$MATRIXBENCH_DATASETS`` when that variable is set, else ``datasets/`` beside the
``matrixbench`` package (the repository root). Nothing is downloaded: a file that is
missing or whose checksum differs from the catalog's is an error, never a silent
substitute.

Catalog entries (under the top-level ``datasets:`` mapping)::

    digits:
      file: digits.csv.gz     # a bare file name inside the folder; .gz means gzip
      format: csv             # comma-separated numbers, one sample a row
      header_rows: 0          # lines skipped before the data
      label_columns: 1        # trailing columns that are not features (class labels)
      shape: [1797, 64]       # (samples, features) of the loaded feature matrix
      sha256: 09f6...         # of the file as stored
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ENV_VAR = "MATRIXBENCH_DATASETS"
CATALOG = "catalog.yaml"

_REQUIRED_KEYS = ("file", "format", "shape", "sha256")
_TABLE_KEYS = ("header_rows", "label_columns")
#: formats of matrices (read by the ``file`` generator, :mod:`.files`), not feature tables
MATRIX_FORMATS = ("mtx", "npy", "npz", "safetensors")
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class DatasetError(RuntimeError):
    """A data set that cannot be used: unknown, missing, corrupted or malformed."""


def datasets_dir() -> Path:
    """The data folder: ``$MATRIXBENCH_DATASETS``, else ``<repository root>/datasets``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[2] / "datasets"


def read_catalog(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """The validated ``catalog.yaml`` of ``directory`` (default :func:`datasets_dir`)."""
    directory = datasets_dir() if directory is None else Path(directory)
    path = directory / CATALOG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(
            f"no data catalog at {path}; set {ENV_VAR} to the folder holding {CATALOG}"
        ) from None
    doc = yaml.safe_load(text)
    entries = doc.get("datasets") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        raise DatasetError(f"{path}: expected a top-level 'datasets:' mapping")
    for name, entry in entries.items():
        _check_entry(path, str(name), entry)
    return {str(name): entry for name, entry in entries.items()}


def _check_entry(path: Path, name: str, entry: Any) -> None:
    where = f"{path}: datasets.{name}"
    if not isinstance(entry, dict):
        raise DatasetError(f"{where}: expected a mapping, found {entry!r}")
    table = entry.get("format") == "csv"
    missing = [k for k in _REQUIRED_KEYS + (_TABLE_KEYS if table else ()) if k not in entry]
    if missing:
        raise DatasetError(f"{where}: missing key(s) {missing}")
    file = entry["file"]
    if not isinstance(file, str) or not _SAFE_FILE.match(file):
        raise DatasetError(f"{where}.file: expected a bare file name, found {file!r}")
    if not table and entry["format"] not in MATRIX_FORMATS:
        raise DatasetError(f"{where}.format: expected 'csv' or a matrix format "
                           f"({', '.join(MATRIX_FORMATS)}), found {entry['format']!r}")
    for key in _TABLE_KEYS if table else ():
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DatasetError(f"{where}.{key}: expected an integer >= 0, found {value!r}")
    shape = entry["shape"]
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)
    ):
        raise DatasetError(f"{where}.shape: expected [samples, features], found {shape!r}")
    if not isinstance(entry["sha256"], str) or not _SHA256.match(entry["sha256"]):
        raise DatasetError(f"{where}.sha256: expected 64 lowercase hex digits")


def load_dataset(name: str) -> np.ndarray:
    """The feature matrix of data set ``name``: float64, shape ``(samples, features)``.

    The file's sha256 is checked against the catalog before it is parsed, once per
    process and folder; the array is cached and returned read-only (copy it to
    modify it). Raises :class:`DatasetError` for an unknown name, a missing file, a
    checksum mismatch, or contents that do not match the catalog's shape.
    """
    return _load(str(datasets_dir()), name)[0]


def load_labels(name: str) -> np.ndarray:
    """The label columns of data set ``name`` (its ``label_columns`` trailing columns, the
    class of each sample): float64, shape ``(samples, label_columns)``, read-only; checked
    as :func:`load_dataset` checks the features."""
    return _load(str(datasets_dir()), name)[1]


@functools.lru_cache(maxsize=None)
def _load(directory: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    folder = Path(directory)
    catalog = read_catalog(folder)
    if name not in catalog:
        raise DatasetError(f"unknown data set {name!r}; known: {sorted(catalog)} (in {folder})")
    entry = catalog[name]
    if entry["format"] != "csv":
        raise DatasetError(f"data set {name!r} is a matrix ({entry['format']}): read it with the "
                           f"file generator (path: {entry['file']})")
    path = folder / entry["file"]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"data set {name!r}: file {path} is missing") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"]:
        raise DatasetError(
            f"data set {name!r}: sha256 of {path} is {digest}, the catalog says "
            f"{entry['sha256']}; the file is corrupted or was replaced"
        )
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    table = np.loadtxt(
        io.StringIO(raw.decode("utf-8")),
        delimiter=",",
        skiprows=entry["header_rows"],
        dtype=np.float64,
        ndmin=2,
    )
    rows, features = entry["shape"]
    expected = (rows, features + entry["label_columns"])
    if table.shape != expected:
        raise DatasetError(
            f"data set {name!r}: {path} holds a {table.shape[0]} x {table.shape[1]} table, "
            f"the catalog implies {expected[0]} x {expected[1]}"
        )
    data = np.ascontiguousarray(table[:, :features])
    labels = np.ascontiguousarray(table[:, features:])
    data.setflags(write=False)
    labels.setflags(write=False)
    return data, labels


#: Forget loaded data sets (for tests that swap folders or files).
clear_cache = _load.cache_clear
