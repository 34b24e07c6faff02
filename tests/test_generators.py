"""Tests of the problem generators against independent computations.

Expected values come from closed forms written out here (binomial coefficients,
``1/(i+j-1)``, the eigenvalue formulas), from exact identities (``det P = 1``, the
integer inverse of the Hilbert matrix, ``numpy.cov``), or from properties (symmetry,
Cholesky, the Marchenko-Pastur support), never from the generators' own helpers.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import pytest
import scipy.linalg
import yaml
from threadpoolctl import threadpool_limits

import matrixbench.generators  # noqa: F401  (registers the generators)
from matrixbench.generators import real_data
from matrixbench.generators.classical import hilbert, lehmer, pascal
from matrixbench.generators.covariance import DATASETS, covariance
from matrixbench.generators.gram import gram
from matrixbench.generators.real_data import DatasetError, load_dataset
from matrixbench.generators.spd import spd
from matrixbench.params import resolve
from matrixbench.registry import GENERATORS

EPS = np.finfo(np.float64).eps
OURS = sorted(
    name for name, g in GENERATORS.items() if g.fn.__module__.startswith(("matrixbench.generators", "implementations."))
)
REPO_DATASETS = Path(__file__).resolve().parents[1] / "datasets"


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_spd(a: np.ndarray) -> None:
    assert a.dtype == np.float64 and a.flags.c_contiguous
    assert np.array_equal(a, np.swapaxes(a, -1, -2)), "not exactly symmetric"
    np.linalg.cholesky(a)  # raises LinAlgError unless positive definite


# --------------------------------------------------------------------------- registry


SPD = {"spd", "gram", "hilbert", "lehmer", "pascal", "covariance", "tridiagonal", "grad_stats"}
RECTANGULAR = {"singular", "lowrank_noise", "gaussian", "weights"}
# Generators whose values are tested with their tasks (test_svd_topk, test_svd_update,
# test_lstsq, test_sketch, test_matmul_approx); here only their registration and specs.
TALL_AND_SPARSE = {"lowrank_decay", "sparse_lowrank", "sparse_stream", "lstsq_coherent", "lstsq_embeddings",
                   "lstsq_gaussian", "lstsq_planted", "lstsq_sparse", "product_pair", "tall_coherent",
                   "tall_gaussian", "tall_sparse"}
# The reader of your own matrices: tested in test_researcher.py.
FILES = {"file"}
# Tested with their task in test_trace_logdet.py, test_top_eig.py and test_spd_solve.py
# (spectra, Jacobian by finite differences, the Laplacian's closed-form eigenvalues).
OPERATOR_TASKS = {"trace_spectrum", "ggn_factor", "rbf_kernel", "gap_spectrum", "krr_system", "laplacian_2d"}
# Kernels given by their points, tested with their tasks in test_nystrom_cur.py and
# test_kernel_matvec.py.
ENTRY_TASKS = {"kernel_curve", "kernel_data", "kernel_mixture", "kernel_embeddings"}
# A real data set's feature matrix, tested with its task in test_completion.py.
COMPLETION = {"data_matrix"}
# Tested with their tasks in test_lowp_matmul.py, test_ihvp.py and test_sinkhorn.py.
LATER_TASKS = {"outlier_product", "minilm_product", "gradient_spectrum", "digits_gradients", "pot_benchmark",
               "point_clouds", "token_clouds", "gaussian_graph", "real_features",
               "dpp_gaussian", "dpp_coherent", "dpp_embeddings", "dpp_polynomial",
               "param_diffusion", "param_kernel", "param_graph_reg"}


def test_all_generators_registered():
    assert set(OURS) == (SPD | RECTANGULAR | TALL_AND_SPARSE | FILES | OPERATOR_TASKS | ENTRY_TASKS | COMPLETION
                         | LATER_TASKS) & set(GENERATORS)
    assert TALL_AND_SPARSE <= set(OURS)
    assert {"spd", "gram", "hilbert", "lehmer", "pascal", "covariance", "singular", "lowrank_noise", "gaussian",
            "weights"} <= set(OURS)
    for name in OURS:
        assert GENERATORS[name].description, name


def test_task_generators_live_in_their_task_folder():
    """A generator that names its task lives in that task's folder; the engine's
    generators are the generic ones, each used by the suites of more than one task or
    by another task's generators (no engine generator serves one task only)."""
    for name in OURS:
        g = GENERATORS[name]
        in_engine = g.fn.__module__.startswith("matrixbench.generators")
        assert in_engine == (g.task is None), (name, g.fn.__module__, g.task)
        if g.task is not None:
            assert g.fn.__module__.startswith(f"implementations.{g.task}."), (name, g.fn.__module__)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_param_specs_reject_bad_values(name):
    specs = GENERATORS[name].params
    for pname, spec in specs.items():
        if name in OURS:
            assert spec.doc, f"{name}.{pname} has no doc"
        if not spec.required:
            assert spec.coerce(spec.default) == spec.default
        if spec.min is not None:
            with pytest.raises(ValueError):
                spec.coerce(spec.type(spec.min - 1))
        if spec.max is not None:
            with pytest.raises(ValueError):
                spec.coerce(spec.type(spec.max + 1))
        if spec.choices is not None:
            with pytest.raises(ValueError):
                spec.coerce("no-such-choice")
    if "n" in specs:
        with pytest.raises(ValueError):
            specs["n"].coerce(-1)
        with pytest.raises(ValueError):
            specs["n"].coerce(0)
        with pytest.raises(ValueError):
            specs["n"].coerce(2.5)


@pytest.mark.parametrize("name", OURS)
def test_every_generator_smoke(name):
    gen = GENERATORS[name]
    missing = [m for m in gen.requires if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{name} needs {', '.join(missing)}")
    given = SMALL.get(name, {k: v for k, v in {"n": 5, "m": 4, "rank": 2}.items() if k in gen.params})
    params = resolve(gen.params, given)
    a = gen.fn(rng(3), **params)
    b = gen.fn(rng(3), **params)
    assert _parts_equal(a, b)  # deterministic, bit for bit
    for part in _parts(a):
        values = part.data if sp.issparse(part) else np.asarray(part)
        assert np.all(np.isfinite(values))
    if name in SPD | RECTANGULAR:
        assert a.ndim == (3 if "batch" in gen.params else 2)
    if name in SPD:
        assert_spd(a)


#: Small parameters for the generators whose defaults or required sizes are large.
SMALL = {
    "file": {"path": "digits_knn.mtx"},  # the shipped sparse matrix of datasets/
    "weights": {"layer": 0, "name": "attention.query"},
    "lowrank_decay": {"m": 20, "n": 10},
    "sparse_lowrank": {"m": 50, "n": 20, "density": 0.2, "rank": 2},
    "sparse_stream": {"m": 50, "n": 20, "nnz": 200, "rank": 2, "updates": 2, "block": 5},
    "lstsq_coherent": {"m": 20, "n": 5},
    "lstsq_gaussian": {"m": 20, "n": 5},
    "lstsq_sparse": {"m": 20, "n": 5, "s": 2},
    "lstsq_planted": {"m": 50, "n": 10, "n_large": 3},
    "product_pair": {"n": 20, "d": 5, "m": 4},
    "tall_coherent": {"n": 20, "d": 5},
    "tall_gaussian": {"n": 20, "d": 5},
    "tall_sparse": {"n": 20, "d": 5, "s": 2},
    "kernel_curve": {"n": 20},
    "kernel_data": {"n": 20},
    "kernel_mixture": {"n": 20},
    "kernel_embeddings": {"n": 20},
}


def _parts(value):
    """The arrays and sparse matrices of a generator's output (a dict or list of them, or one)."""
    if isinstance(value, dict):
        return [p for v in value.values() for p in _parts(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _parts(v)]
    if isinstance(value, (str, int, float)):  # a kernel's name and bandwidth
        return []
    return [value]


def _parts_equal(a, b) -> bool:
    pa, pb = _parts(a), _parts(b)
    return len(pa) == len(pb) and all(
        (x != y).nnz == 0 if sp.issparse(x) else np.array_equal(x, y) for x, y in zip(pa, pb))


# --------------------------------------------------------------------------- spd


def expected_spectrum(n: int, cond: float, spectrum: str) -> np.ndarray:
    """The documented spectra, written out independently of the module."""
    if spectrum == "geometric":
        return np.geomspace(1.0 / cond, 1.0, n)
    if spectrum == "linear":
        return 1.0 / cond + (1.0 - 1.0 / cond) * np.arange(n) / (n - 1)
    k = max(1, n // 10)
    cluster = [(1.0 / cond) * min(1.1, cond) ** (i / (k - 1)) if k > 1 else 1.0 / cond for i in range(k)]
    return np.array(cluster + [1.0] * (n - k))


@pytest.mark.parametrize("spectrum", ["geometric", "linear", "clustered"])
@pytest.mark.parametrize("n", [2, 3, 17, 40])
@pytest.mark.parametrize("cond", [1.0, 10.0, 1.0e4])
def test_spd_spectrum_and_condition(spectrum, n, cond):
    a = spd(rng(n), n, cond=cond, spectrum=spectrum, batch=2)
    assert a.shape == (2, n, n)
    assert_spd(a)
    lam = np.linalg.eigvalsh(a)
    want = expected_spectrum(n, cond, spectrum)
    np.testing.assert_allclose(lam, np.broadcast_to(want, lam.shape), rtol=0, atol=50 * n * EPS)
    np.testing.assert_allclose(lam[:, -1] / lam[:, 0], cond, rtol=1e-10)
    np.testing.assert_allclose(lam[:, -1], 1.0, rtol=1e-13)


def test_spd_clustered_counts():
    lam = np.linalg.eigvalsh(spd(rng(), 50, cond=1e3, spectrum="clustered")[0])
    assert np.sum(lam < 1.1e-3 * (1 + 1e-9)) == 5  # n // 10 small ones ...
    np.testing.assert_allclose(lam[5:], 1.0, atol=1e-13)  # ... and the rest at 1


def test_spd_large_condition_is_accurate_to_eps_cond():
    lam = np.linalg.eigvalsh(spd(rng(), 64, cond=1e12)[0])
    assert abs(lam[-1] / lam[0] / 1e12 - 1) < 1e-4


def test_spd_n1_and_determinism():
    np.testing.assert_array_equal(spd(rng(), 1, cond=1e6, batch=3), np.ones((3, 1, 1)))
    a, b, c = spd(rng(5), 8, batch=4), spd(rng(5), 8, batch=4), spd(rng(6), 8, batch=4)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    assert not np.allclose(a[0], a[1])  # each batch member has its own rotation


@pytest.mark.parametrize("name", ["spd", "gram", "covariance"])
def test_bits_do_not_depend_on_blas_threads(name):
    # n = 300: OpenBLAS on 2 threads rounds differently there (n = 200 happens not to)
    params = {"batch": 2} if name == "covariance" else {"n": 300}
    fn = GENERATORS[name].fn
    outs = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            outs.append(fn(rng(8), **params))
    assert np.array_equal(outs[0], outs[1])


def test_spd_rotation_is_haar_on_average():
    # Haar invariance: E[Q D Q^T] = (tr D / n) I. The sample mean of 4000 draws is
    # within a few 1/sqrt(4000) of it.
    a = spd(rng(11), 3, cond=10.0, spectrum="linear", batch=4000)
    mean = a.mean(axis=0)
    target = np.mean(np.linspace(0.1, 1.0, 3)) * np.eye(3)
    np.testing.assert_allclose(mean, target, atol=0.03)


# --------------------------------------------------------------------------- gram


def test_gram_properties():
    a = gram(rng(), 6, batch=3)
    assert a.shape == (3, 6, 6)
    assert_spd(a)
    assert np.array_equal(a, gram(rng(), 6, batch=3))
    assert not np.allclose(a, gram(rng(1), 6, batch=3))


def test_gram_marchenko_pastur_support():
    n, d = 200, 800  # ratio 1/4: spectrum in [(1 - 1/2)^2, (1 + 1/2)^2] = [0.25, 2.25]
    lam = np.linalg.eigvalsh(gram(rng(), n, samples=d)[0])
    assert 0.25 - 0.08 < lam[0] and lam[-1] < 2.25 + 0.15
    assert abs(lam.mean() - 1.0) < 0.02  # E[X X^T / d] = I


def test_gram_rank_deficient_needs_ridge():
    with pytest.raises(ValueError, match="ridge"):
        gram(rng(), 10, samples=4)
    a = gram(rng(), 10, samples=4, ridge=1e-3)[0]
    assert_spd(a)
    lam = np.linalg.eigvalsh(a)
    np.testing.assert_allclose(lam[:6], 1e-3, atol=1e-13)  # n - d eigenvalues at ridge
    assert lam[6] > 1e-2


# --------------------------------------------------------------------------- classical


@pytest.mark.parametrize("n", [1, 2, 7, 12])
def test_hilbert_entries(n):
    h = hilbert(None, n)
    want = np.array([[1.0 / (i + j - 1) for j in range(1, n + 1)] for i in range(1, n + 1)])
    assert h.shape == (n, n)
    np.testing.assert_array_equal(h, want)  # each entry a single correctly rounded division


def test_hilbert_inverse_is_the_integer_matrix():
    n = 6
    inv = np.linalg.inv(hilbert(None, n))
    exact = scipy.linalg.invhilbert(n, exact=True).astype(np.float64)
    assert np.all(exact == np.round(exact))
    cond = np.linalg.cond(hilbert(None, n))
    np.testing.assert_allclose(inv, exact, rtol=0, atol=10 * cond * EPS * np.abs(exact).max())


@pytest.mark.parametrize("n", [1, 2, 9, 30])
def test_lehmer_entries_and_tridiagonal_inverse(n):
    a = lehmer(None, n)
    want = np.array([[min(i, j) / max(i, j) for j in range(1, n + 1)] for i in range(1, n + 1)])
    np.testing.assert_array_equal(a, want)
    assert_spd(a)
    inv = np.linalg.inv(a)
    band = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1
    assert np.abs(inv[~band]).max(initial=0.0) < 1e-10 * np.abs(inv).max()


@pytest.mark.parametrize("n", [1, 2, 5, 10, 29])
def test_pascal_binomials(n):
    p = pascal(None, n)
    want = np.array([[math.comb(i + j, i) for j in range(n)] for i in range(n)], dtype=np.float64)
    np.testing.assert_array_equal(p, want)  # exact: all entries below 2^53 up to n = 29


def test_pascal_factorization_determinant_inverse():
    n = 8
    p = pascal(None, n)
    low = np.array([[math.comb(i, j) for j in range(n)] for i in range(n)], dtype=np.float64)
    np.testing.assert_array_equal(low @ low.T, p)  # P = L L^T, exact in integers
    assert abs(np.linalg.det(p) - 1.0) < 1e-6
    inv = np.linalg.inv(p)
    np.testing.assert_allclose(inv, np.round(inv), atol=1e-5)  # integer inverse
    assert_spd(p)


def test_pascal_large_is_correctly_rounded_and_capped():
    p = pascal(None, 60)
    for i, j in [(59, 59), (40, 57), (33, 12)]:
        assert p[i, j] == float(math.comb(i + j, i))
    assert np.isfinite(pascal(None, 515)).all()
    with pytest.raises(ValueError):
        GENERATORS["pascal"].params["n"].coerce(516)


# --------------------------------------------------------------------------- data sets


@pytest.fixture
def clean_cache():
    real_data.clear_cache()
    yield
    real_data.clear_cache()


def test_catalog_matches_generator_choices_and_files():
    catalog = yaml.safe_load((REPO_DATASETS / "catalog.yaml").read_text())["datasets"]
    tables = {k: v for k, v in catalog.items() if v["format"] == "csv"}
    assert sorted(tables) == sorted(DATASETS)
    total = 0
    for name, entry in catalog.items():
        assert entry["license"] == "CC-BY-4.0"
        if name in tables:
            assert entry["provenance"]["doi"].startswith("10.24432/")
        else:  # a matrix derived from one of the tables, for the file generator
            assert entry["provenance"]["made_by"].startswith("scripts/") and "10.24432/" in entry["citation"]
        total += (REPO_DATASETS / entry["file"]).stat().st_size
    assert total < 1_000_000


@pytest.mark.parametrize(
    "name, shape", [("digits", (1797, 64)), ("wine", (178, 13)), ("breast_cancer", (569, 30))]
)
def test_load_dataset(name, shape):
    x = load_dataset(name)
    assert x.shape == shape and x.dtype == np.float64 and x.flags.c_contiguous
    assert not x.flags.writeable
    assert load_dataset(name) is x  # cached


def test_load_dataset_first_rows_match_the_files():
    # First data row of each file, read as text here.
    assert load_dataset("wine")[0, :3].tolist() == [14.23, 1.71, 2.43]
    assert load_dataset("breast_cancer")[0, -1] == 0.1189
    digits = load_dataset("digits")
    assert digits.min() == 0 and digits.max() == 16 and np.all(digits == np.round(digits))


def test_checksum_mismatch_missing_file_and_unknown_name(tmp_path, monkeypatch, clean_cache):
    original = load_dataset("wine")
    folder = tmp_path / "data"
    shutil.copytree(REPO_DATASETS, folder)
    monkeypatch.setenv(real_data.ENV_VAR, str(folder))
    copy = load_dataset("wine")  # an intact copy elsewhere loads the same
    assert copy is not original
    np.testing.assert_array_equal(copy, original)
    real_data.clear_cache()

    text = (folder / "wine_data.csv").read_text()
    (folder / "wine_data.csv").write_text(text.replace("14.23", "14.24", 1))  # one digit
    with pytest.raises(DatasetError, match="sha256"):
        load_dataset("wine")

    (folder / "breast_cancer.csv").unlink()
    with pytest.raises(DatasetError, match="missing"):
        load_dataset("breast_cancer")

    with pytest.raises(DatasetError, match="unknown data set 'iris'"):
        load_dataset("iris")

    with pytest.raises(DatasetError, match="sha256"):
        covariance(rng(), "wine")  # the generator refuses it too


def test_catalog_rejects_path_in_file_name(tmp_path, monkeypatch, clean_cache):
    folder = tmp_path / "data"
    shutil.copytree(REPO_DATASETS, folder)
    catalog = yaml.safe_load((folder / "catalog.yaml").read_text())
    catalog["datasets"]["wine"]["file"] = "../wine_data.csv"
    (folder / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    monkeypatch.setenv(real_data.ENV_VAR, str(folder))
    with pytest.raises(DatasetError, match="bare file name"):
        load_dataset("digits")
    monkeypatch.setenv(real_data.ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="no data catalog"):
        load_dataset("digits")


# --------------------------------------------------------------------------- covariance


@pytest.mark.parametrize("name", DATASETS)
def test_covariance_equals_numpy_cov(name):
    x = load_dataset(name)
    c = covariance(rng(), name, standardize=False, shrinkage=0.0)
    assert c.shape == (1, x.shape[1], x.shape[1])
    want = np.cov(x, rowvar=False)
    np.testing.assert_allclose(c[0], want, rtol=1e-11, atol=1e-13 * np.abs(want).max())


@pytest.mark.parametrize("name", ["wine", "breast_cancer"])
def test_correlation_equals_numpy_corrcoef(name):
    c = covariance(rng(), name, standardize=True, shrinkage=0.0)[0]
    np.testing.assert_allclose(c, np.corrcoef(load_dataset(name), rowvar=False), atol=1e-13)
    np.testing.assert_array_equal(np.diag(c), 1.0)


def test_digits_correlation_constant_pixels():
    x = load_dataset("digits")
    const = np.ptp(x, axis=0) == 0
    assert const.sum() == 3
    c = covariance(rng(), "digits", standardize=True, shrinkage=0.0)[0]
    assert np.all(c[const] == 0) and np.all(c[:, const] == 0)
    live = ~const
    np.testing.assert_allclose(c[np.ix_(live, live)], np.corrcoef(x[:, live], rowvar=False), atol=1e-13)
    assert np.linalg.matrix_rank(c) == 61  # singular without shrinkage


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("standardize", [True, False])
def test_covariance_shrinkage_target_and_spd(name, standardize):
    s = 1e-3
    x = load_dataset(name)
    c = covariance(rng(), name, standardize=standardize, shrinkage=s)[0]
    raw = np.cov(x, rowvar=False)
    if standardize:
        d = np.sqrt(np.diag(raw))
        d[d == 0] = 1.0
        raw = raw / np.outer(d, d)
        np.fill_diagonal(raw, np.where(np.ptp(x, axis=0) == 0, 0.0, 1.0))
    p = raw.shape[0]
    mu = np.trace(raw) / p
    want = (1 - s) * raw + s * mu * np.eye(p)
    np.testing.assert_allclose(c, want, rtol=1e-10, atol=1e-12 * np.abs(want).max())
    assert_spd(c)
    assert np.linalg.eigvalsh(c)[0] >= s * mu * (1 - 1e-8)


def test_covariance_batch_is_bootstrap():
    a = covariance(rng(4), "wine", batch=3)
    assert a.shape == (3, 13, 13)
    assert_spd(a)
    assert np.array_equal(a, covariance(rng(4), "wine", batch=3))
    assert not np.allclose(a, covariance(rng(5), "wine", batch=3))
    assert not np.allclose(a[0], a[1])
    full = covariance(rng(4), "wine")[0]
    assert np.abs(a - full).max() < 0.5  # a resample is close to, not equal to, the full data
    assert not np.allclose(a[0], full)
    np.testing.assert_array_equal(full, covariance(rng(99), "wine")[0])  # batch 1: rng unused
