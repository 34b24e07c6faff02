"""``file``: your own matrix, read from a file; its content hash is part of the problem key.

Formats, by suffix:

- ``.npy``: one array (``numpy.load``, pickles refused);
- ``.npz``: the array ``name`` (or the only one); a file written by
  ``scipy.sparse.save_npz`` is read as a sparse matrix;
- ``.mtx`` / ``.mtx.gz``: Matrix Market (``scipy.io.mmread``); a coordinate file stays
  sparse (CSR), an array file is dense;
- ``.safetensors``: the tensor ``name`` (or the only one); bfloat16 is widened.

Where the file is: ``path`` as given (relative to the current folder), else a file of
that name in the data folder (``datasets/``, see :mod:`.real_data`), where a catalog
entry with the same ``file`` is checked against its ``sha256``.

Identity: when a suite is planned, the generator's :func:`identity` reads the file and
fills in ``sha256`` (its first 16 hex digits) as a parameter, so the key reads
``file(name=,path=digits_knn.mtx,sha256=3f0c...;seed=0)``: a new content is a new
problem, never a stale reference (the reference cache is keyed by the inputs' checksum
too). A suite may give ``sha256`` itself to pin the content; a file that no longer
matches is refused when planned, and when generated (a file changed between planning
and running).
"""

from __future__ import annotations

import gzip
import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np

from ..params import Param
from ..registry import generator
from .real_data import DatasetError, datasets_dir, read_catalog

SUFFIXES = (".npy", ".npz", ".mtx", ".mtx.gz", ".safetensors")
HASH_DIGITS = 16


def locate(path: str) -> Path:
    """``path`` as given, else that file name in the data folder."""
    given = Path(path).expanduser()
    if given.is_file():
        return given
    shipped = datasets_dir() / given.name
    if given.name == path and shipped.is_file():
        return shipped
    raise FileNotFoundError(f"no file {path!r} (looked in {Path.cwd()} and {datasets_dir()})")


def content_hash(path: Path) -> str:
    """The sha256 of the file as stored (all 64 hex digits)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_catalog(path: Path, digest: str) -> None:
    """A file of the data folder that its catalog lists must have the catalog's sha256."""
    if path.resolve().parent != datasets_dir().resolve():
        return
    try:
        catalog = read_catalog()
    except DatasetError:
        return
    for name, entry in catalog.items():
        if entry.get("file") == path.name and entry.get("sha256") != digest:
            raise DatasetError(f"data set {name!r}: sha256 of {path} is {digest}, the catalog says "
                               f"{entry.get('sha256')}; the file is corrupted or was replaced")


def identity(params: dict[str, Any]) -> dict[str, Any]:
    """Plan-time parameters of a file problem: ``sha256`` from the file's content."""
    path = locate(str(params["path"]))
    digest = content_hash(path)
    _check_catalog(path, digest)
    short = digest[:HASH_DIGITS]
    pinned = str(params.get("sha256") or "")
    if pinned and not digest.startswith(pinned.lower()):
        raise ValueError(f"{path}: its sha256 is {short}, the suite pins {pinned}: the file changed")
    return {"sha256": short}


def _only(names: list[str], name: str, path: Path) -> str:
    if name:
        if name not in names:
            raise KeyError(f"{path} has no array {name!r}; it has {', '.join(names)}")
        return name
    if len(names) != 1:
        raise KeyError(f"{path} holds {len(names)} arrays ({', '.join(names)}): give `name`")
    return names[0]


def read_matrix(path: Path, name: str = "") -> Any:
    """The array (or SciPy sparse matrix) stored in ``path``, by its suffix."""
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(".mtx.gz") else path.suffix
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if {"format", "shape", "data"} <= set(z.files) and not name:
                import scipy.sparse

                return scipy.sparse.load_npz(path).tocsr()
            return z[_only(list(z.files), name, path)]
    if suffix in (".mtx", ".mtx.gz"):
        import scipy.io
        import scipy.sparse

        raw = path.read_bytes()
        if suffix == ".mtx.gz":
            raw = gzip.decompress(raw)
        value = scipy.io.mmread(io.BytesIO(raw))
        return scipy.sparse.csr_matrix(value) if scipy.sparse.issparse(value) else np.asarray(value)
    if suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            tensor = f.get_tensor(_only(list(f.keys()), name, path))
        return tensor.float().numpy() if tensor.is_floating_point() else tensor.numpy()
    raise ValueError(f"{path}: unknown format; the file generator reads {', '.join(SUFFIXES)}")


@generator(
    "file",
    params={
        "path": Param(str, doc="the file (.npy, .npz, .mtx, .mtx.gz, .safetensors); a bare name may be in datasets/"),
        "name": Param(str, "", doc="the array in an .npz or the tensor in a .safetensors file (default: the only one)"),
        "sha256": Param(str, "", doc="the content hash, filled in when planned; a given prefix pins the file"),
    },
    derive=identity,
)
def file(rng: np.random.Generator, path: str, name: str = "", sha256: str = "") -> Any:
    """A matrix from a file (``rng`` unused: the file is the problem)."""
    found = locate(path)
    digest = content_hash(found)
    if sha256 and not digest.startswith(sha256):
        raise ValueError(f"{found} changed since the suite was planned (sha256 {digest[:HASH_DIGITS]}, "
                         f"planned {sha256}): plan it again")
    return read_matrix(found, name)
