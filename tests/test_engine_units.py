"""Unit tests of the engine's pieces, against independent computations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matrixbench import timing
from matrixbench.memory import cpu_peak
from matrixbench.params import Param, resolve
from matrixbench.plan import Problem, expand, fmt_params
from matrixbench.store import SCHEMA_VERSION, RunFile, RunFileError, read_run


class FakeTimer:
    """Each sample costs ``per_call * number`` seconds, with no real waiting."""

    name = "fake"

    def __init__(self, per_call: float):
        self.per_call = per_call
        self.numbers: list[int] = []

    def sample(self, call, number):
        self.numbers.append(number)
        for _ in range(number):
            call()
        return self.per_call * number


def test_summary_statistics_match_numpy():
    rng = np.random.default_rng(0)
    s = list(rng.lognormal(size=101))
    st = timing.summarize(s, number=3, timer="x", total=1.0)
    assert st.median == pytest.approx(np.median(s))
    assert st.iqr == pytest.approx(np.subtract(*np.percentile(s, [75, 25])))
    assert (st.min, st.max, st.count) == (min(s), max(s), 101)
    assert st.mean == pytest.approx(np.mean(s))


def test_calibration_makes_samples_longer_than_sample_time():
    calls = []
    t = FakeTimer(per_call=1e-5)
    settings = timing.TimingSettings(warmup=2, min_time=0.0, max_time=10, min_repeats=4, sample_time=0.01)
    st = timing.measure(lambda: calls.append(1), settings, t)
    assert t.numbers[:2] == [1, 1]  # warm-up: single calls
    assert st.number == 1000 and all(n == 1000 for n in t.numbers[2:])
    assert st.median == pytest.approx(1e-5)
    assert len(calls) == 2 + 1000 * st.count


def test_repeats_respect_min_repeats_and_max_time():
    import time

    settings = timing.TimingSettings(warmup=1, min_time=0.05, max_time=0.3, min_repeats=3, sample_time=0.001, iqr_stop=0)
    st = timing.measure(lambda: time.sleep(0.002), settings, timing.CpuTimer())
    assert st.count >= 3 and 0.05 <= st.total < 0.5
    st = timing.measure(lambda: time.sleep(0.2), settings, timing.CpuTimer())
    assert st.count == 2  # past max_time after the second sample, even below min_repeats


def test_param_coercion():
    assert Param(float).coerce(3) == 3.0
    assert Param(int).coerce(4.0) == 4
    with pytest.raises(ValueError):
        Param(int, min=1).coerce(-2)
    with pytest.raises(ValueError):
        Param(int).coerce(True)
    with pytest.raises(ValueError):
        Param(str, choices=("a", "b")).coerce("c")
    assert resolve({"a": Param(int, 1), "b": Param(str, "x")}, {"a": 5}) == {"a": 5, "b": "x"}
    with pytest.raises(KeyError):
        resolve({"a": Param(int, 1)}, {"z": 1})


def test_grid_expansion_and_stable_keys():
    assert expand({"a": [1, 2], "b": ["x", "y", "z"]}).__len__() == 6
    assert expand({}) == [{}]
    assert fmt_params({"b": 1e-6, "a": True, "c": 100.0}) == "a=true,b=1e-06,c=100"
    p1 = Problem("t", "g", (("n", 4), ("cond", 10.0)), 0, ())
    p2 = Problem("t", "g", (("n", 4), ("cond", 10.0)), 0, ())
    assert p1.key == p2.key == "t/g(cond=10,n=4;seed=0)"
    assert Problem.from_dict(p1.to_dict()) == Problem("t", "g", (("cond", 10.0), ("n", 4)), 0, ())


def test_cpu_peak_counts_touched_memory():
    out, peak, how = cpu_peak(lambda: np.ones(25 * 2**20 // 8))
    assert how == "rss_high_water_mark"
    assert out.nbytes == 25 * 2**20
    assert 0.97 * out.nbytes <= peak <= 1.05 * out.nbytes


def test_run_file_atomic_and_validated(tmp_path):
    run = RunFile.create(tmp_path, "m", {"suites": [], "command": [], "options": {}}, {})
    assert read_run(run.path)["run"]["complete"] is False
    assert not [p for p in run.path.parent.iterdir() if p.suffix == ".tmp"]
    data = json.loads(run.path.read_text())
    data["results"].append({"key": "k"})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(RunFileError, match="invalid run file at results/0"):
        read_run(bad)
    data["results"] = []
    data["schema_version"] = SCHEMA_VERSION + 1
    bad.write_text(json.dumps(data))
    with pytest.raises(RunFileError, match="upgrade matrixbench"):
        read_run(bad)


def test_a_run_calibrates_each_device_and_dtype_it_can_run_once(tmp_path, monkeypatch):
    """record_calibration measures the run's (device, dtype) pairs that the cache lacks: the
    CPU ones always, CUDA ones only where a GPU is present; the run file gets the cache."""
    from types import SimpleNamespace

    from matrixbench import calibrate
    from matrixbench.commands import calibrate as command

    monkeypatch.setenv("MATRIXBENCH_CACHE", str(tmp_path))
    measured: list[tuple[str, str]] = []

    def fake_measure(device, dtype, threads, settings=None):
        measured.append((device, dtype))
        return {"device": device, "dtype": dtype, "threads": threads, "matmul_gflops": 1.0}

    monkeypatch.setattr(calibrate, "measure_one", fake_measure)
    gpu = {"present": False}
    monkeypatch.setattr("matrixbench.backends.device_available",
                        lambda backend, device: None if device == "cpu" or gpu["present"] else "no CUDA device")
    cells = [SimpleNamespace(device=d, dtype=t) for d in ("cpu", "cuda") for t in ("float32", "bfloat16", "int8")]
    saved = []
    run_file = SimpleNamespace(data={}, save=lambda: saved.append(True))
    err = SimpleNamespace(print=lambda *a, **k: None)
    command.record_calibration(run_file, cells, True, 2, err)
    assert sorted(measured) == [("cpu", "bfloat16"), ("cpu", "float32")]
    assert set(run_file.data["calibration"]) == {"cpu/bfloat16/threads=2", "cpu/float32/threads=2"} and saved
    gpu["present"] = True
    command.record_calibration(run_file, cells, True, 2, err)  # the CPU pairs are cached: only CUDA is measured
    assert sorted(measured[2:]) == [("cuda", "bfloat16"), ("cuda", "float32")]
    assert "cuda/float32/threads=2" in run_file.data["calibration"]
