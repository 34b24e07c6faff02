"""Hostile input is refused quickly, with the file and the line, before anything is allocated.

Issue 11: a 600-byte alias bomb grew to 2.9 GB, a 10^9-cell grid or ``n: 1000000`` ran
until memory ran out, and non-UTF-8 or deeply nested files ended in a traceback.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from matrixbench import registry
from matrixbench.limits import DEFAULT_MAX_BYTES, PlanTooLarge, check_plan, heuristic_bytes
from matrixbench.params import Param
from matrixbench.store import RunFileError, read_run
from matrixbench.suite import SuiteErrors, load_suite, load_suites
from matrixbench.yamlsrc import MAX_DEPTH, SuiteError, load_yaml

ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs" of the issue: each level lists the previous one ``width`` times."""
    names = "abcdefghijklmnopqrstuvwxyz"
    lines = [f"a: &a [{', '.join(['x'] * width)}]"]
    for prev, name in zip(names, names[1 : levels + 1]):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]")
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, content: str | bytes, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def refused(path: Path) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        load_yaml(path)
    return info.value


# ---------------------------------------------------------------- aliases


_MEASURE = """
import json, resource, sys, time
from matrixbench.yamlsrc import SuiteError, load_yaml
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    load_yaml(sys.argv[1])
    outcome = "loaded"
except SuiteError as exc:
    outcome = str(exc)
seconds = time.perf_counter() - start
grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"outcome": outcome, "seconds": seconds, "grown_kib": grown_kib}))
"""


def test_alias_bomb_refused_in_under_2s_and_200mb(tmp_path):
    path = write(tmp_path, alias_bomb())
    assert path.stat().st_size < 1000
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert "alias" in result["outcome"] and "100,000 nodes" in result["outcome"], result
    assert result["outcome"].startswith(f"{path}:"), result
    assert result["seconds"] < 2.0, result
    assert result["grown_kib"] < 200 * 1024, result


def test_alias_bomb_points_at_the_line_that_crosses_the_limit(tmp_path):
    err = refused(write(tmp_path, alias_bomb()))
    # levels a..e stand for 10, 91, 820, 7381 and 66430 nodes: the first *e on line 6 crosses 100,000
    assert err.line == 6


def test_wide_alias_fan_out_refused(tmp_path):
    text = "a: &a [" + ", ".join(["1"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 200) + "]\n"
    err = refused(write(tmp_path, text))
    assert err.line == 2 and "alias" in err.message


def test_recursive_alias_refused(tmp_path):
    err = refused(write(tmp_path, "a: &a [1, *a]\n"))
    assert err.line == 1 and "recursive" in err.message


def test_harmless_aliases_and_merge_keys_still_load(tmp_path):
    src = load_yaml(write(tmp_path, """\
        base: &b {n: 1, m: 2}
        pair: [*b, *b]
        derived:
          <<: *b
          n: 3
        """))
    assert src.data == {"base": {"n": 1, "m": 2}, "pair": [{"n": 1, "m": 2}] * 2, "derived": {"n": 3, "m": 2}}
    assert src.line(("pair", 1)) == 2
    assert src.line(("pair", 1, "n")) == 2  # inside an alias: the alias's line


def test_a_document_past_the_node_limit_is_refused_without_aliases(tmp_path):
    err = refused(write(tmp_path, "[" + ", ".join(["1"] * 100_001) + "]\n"))
    assert "more than 100,000 nodes" in err.message and "alias" not in err.message


def test_a_huge_file_is_refused_unread(tmp_path):
    err = refused(write(tmp_path, "# padding\n" * (MIB // 10 + 1)))
    assert "larger than" in err.message


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize("text", [
    "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "a: " + "{b: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "".join(" " * i + "-\n" for i in range(200)),
    "".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "1\n",
], ids=["flow lists", "flow mappings", "block lists", "block mappings"])
def test_deep_nesting_is_a_suite_error_not_a_recursion_error(tmp_path, text):
    err = refused(write(tmp_path, text))
    assert f"nested more than {MAX_DEPTH} deep" in err.message
    assert err.line is not None


def test_nesting_up_to_the_limit_loads(tmp_path):
    data = load_yaml(write(tmp_path, "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")).data
    depth = 0
    while isinstance(data, list):
        depth, data = depth + 1, (data[0] if data else None)
    assert depth == MAX_DEPTH


def test_the_pure_python_parser_is_bounded_too(tmp_path, monkeypatch):
    """Without libyaml, PyYAML's own parser feeds the same bounded composer."""
    from matrixbench import yamlsrc

    monkeypatch.setattr(yamlsrc, "_FastParser", None)
    monkeypatch.setattr(yamlsrc, "_Loader", yamlsrc._loader_class())
    assert "alias bomb" in refused(write(tmp_path, alias_bomb())).message
    assert "nested more than" in refused(write(tmp_path, "a: " + "[" * 10_000 + "]" * 10_000 + "\n")).message
    assert load_yaml(write(tmp_path, "x: &x {n: 1}\ny: [*x]\n")).data == {"x": {"n": 1}, "y": [{"n": 1}]}


# ---------------------------------------------------------------- encodings


@pytest.mark.parametrize("raw, byte, line", [
    ("task: probe\n".encode("utf-16"), 0, 1),
    ("task: probe\n".encode("utf-16-be"), 0, 1),
    ("task: probe\n".encode("utf-16-le"), 1, 1),
    ("task: probe\n".encode("utf-32"), 0, 1),
    ("task: probe\nname: caf\xe9\n".encode("latin-1"), 21, 2),
    (b"\xef\xbb\xbftask: probe\nname: caf\xe9\n", 24, 2),
    (bytes(range(256)), 0, 1),
    (b"task: probe\n" + bytes(random.Random(11).randrange(128, 256) for _ in range(4096)), 12, 2),
], ids=["utf-16", "utf-16-be no bom", "utf-16-le no bom", "utf-32", "latin-1", "utf-8 bom then latin-1",
        "all bytes", "binary garbage"])
def test_non_utf8_suite_names_the_byte(tmp_path, raw, byte, line):
    err = refused(write(tmp_path, raw))
    assert err.message.startswith(f"not UTF-8 text (at byte {byte})"), err.message
    assert err.line == line


def test_utf8_with_bom_loads(tmp_path):
    assert load_yaml(write(tmp_path, b"\xef\xbb\xbfname: caf\xc3\xa9\n")).data == {"name": "caf\u00e9"}


def test_control_character_refused_with_line(tmp_path):
    err = refused(write(tmp_path, b"task: probe\nname: a\x07b\n"))
    assert err.line == 2 and "U+0007" in err.message


# ---------------------------------------------------------------- odd scalars and keys


@pytest.mark.parametrize("text, line, needle", [
    ("task: probe\n1: x\n", 2, "key '1' is not text"),
    ("task: probe\non: x\n", 2, "YAML reads it as bool"),
    ("task: probe\n? [a]\n: x\n", 2, "a list as a key"),
    ("task: probe\nn: " + "9" * 5000 + "\n", 2, "5,000 digits"),
])
def test_odd_keys_and_scalars_are_suite_errors(tmp_path, text, line, needle):
    err = refused(write(tmp_path, text))
    assert err.line == line and needle in err.message, err


def test_oversized_number_for_a_float_param_is_a_suite_error(tmp_path, probe):
    path = write(tmp_path, f"""\
        task: probe
        problems: {{generator: probe_gaussian, params: {{n: 4, scale: {"9" * 400}}}}}
        methods: [reference]
        """)
    with pytest.raises(SuiteErrors) as info:
        load_suites([path])
    assert f"{path}:2" in str(info.value) and "too large" in str(info.value)


# ---------------------------------------------------------------- plan limits


def _grid_suite(tmp_path: Path, per_axis: int) -> Path:
    values = list(range(1, per_axis + 1))
    return write(tmp_path, f"""\
        task: probe
        problems:
          generator: probe_gaussian
          params: {{n: {values}, scale: {[v / 10 for v in values]}}}
        methods:
          - sleep: {{ms: {[v / 100 for v in values]}}}
        """)


def test_billion_cell_grid_refused_in_under_2s_and_200mb(tmp_path, probe):
    suite = load_suite(_grid_suite(tmp_path, 1000))
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(PlanTooLarge) as info:
            check_plan([suite])
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2.0 and peak < 200 * MIB, (seconds, peak)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.what == "cells" and err.estimate == 10**9 and err.limit == 100_000
    assert str(err).startswith(f"{suite.file}:1:") and "1,000,000,000 cells" in str(err)


def test_cell_limit_is_the_callers(tmp_path, probe):
    suite = load_suite(_grid_suite(tmp_path, 10))  # 1,000 cells
    check_plan([suite])
    with pytest.raises(PlanTooLarge):
        check_plan([suite], max_cells=999)
    check_plan([load_suite(_grid_suite(tmp_path, 1000))], max_cells=None)  # the byte check alone: fine


def test_exclusions_are_counted_when_the_grid_is_small(tmp_path, probe):
    suite = load_suite(write(tmp_path, """\
        task: probe
        problems:
          generator: probe_gaussian
          params: {n: [4, 8]}
          task_params: {offset: [0.0, 1.0]}
          exclude: [{n: 8, offset: 1.0}]
        methods: [reference, {sleep: {ms: [0.1, 0.2]}}]
        dtypes: [float64, float32]
        """))
    check_plan([suite], max_cells=18)
    with pytest.raises(PlanTooLarge, match="up to 18 cells"):
        check_plan([suite], max_cells=17)


def test_a_terabyte_matrix_is_refused_before_it_is_made(tmp_path, probe):
    path = write(tmp_path, """\
        task: sqrtm
        problems:
          generator: spd
          params: {n: [64, 1000000]}
        methods: [newton_schulz]
        """)
    suite = load_suite(path)
    start = time.perf_counter()
    with pytest.raises(PlanTooLarge) as info:
        check_plan([suite])
    assert time.perf_counter() - start < 2.0
    err = info.value
    assert err.what == "bytes" and err.estimate == 8 * 10**12 and err.limit == DEFAULT_MAX_BYTES
    assert str(err).startswith(f"{path}:2:") and "n=1000000" in str(err) and "7.28 TiB" in str(err)
    check_plan([suite], max_bytes=None)
    check_plan([suite], max_bytes=8 * 10**12)


def test_an_astronomical_size_is_reported_not_crashed_on(tmp_path, probe):
    suite = load_suite(write(tmp_path, f"""\
        task: probe
        problems: [{{generator: probe_gaussian, params: {{n: {"9" * 900}}}}},
                   {{generator: probe_sparse, params: {{n: {"9" * 900}, density: 0.5}}}}]
        methods: [reference]
        """))
    with pytest.raises(PlanTooLarge, match=r"about 10\^1800 bytes"):
        check_plan([suite])
    with pytest.raises(PlanTooLarge, match="probe_sparse"):
        check_plan([suite], max_bytes=10**1801)


def test_bytes_are_bounded_on_grids_too_large_to_enumerate(tmp_path, probe):
    values = list(range(1, 1001))
    suite = load_suite(write(tmp_path, f"""\
        task: sqrtm
        problems:
          generator: spd
          params: {{n: {values[:-1] + [1000000]}, cond: {[float(v) for v in values]}, batch: {values[:200]}}}
        methods: [newton_schulz]
        """))
    start = time.perf_counter()
    with pytest.raises(PlanTooLarge, match="n=1000000") as info:
        check_plan([suite], max_cells=None)
    assert time.perf_counter() - start < 2.0
    assert info.value.estimate == 8 * 10**12 * 200  # the largest n with the largest batch


def test_a_generator_may_estimate_its_own_size(tmp_path, probe, monkeypatch):
    fn = registry.GENERATORS["probe_gaussian"].fn
    monkeypatch.setattr(fn, "estimate_bytes", lambda n, scale: n * 10**12, raising=False)
    suite = load_suite(_grid_suite(tmp_path, 2))
    with pytest.raises(PlanTooLarge, match="probe_gaussian") as info:
        check_plan([suite])
    assert info.value.estimate == 2 * 10**12


def test_heuristic_reads_dimensions_batch_and_sparsity():
    square = {"n": Param(int), "batch": Param(int, 1)}
    assert heuristic_bytes(square, {"n": 10, "batch": 3}) == 8 * 10 * 10 * 3
    rect = {"m": Param(int), "n": Param(int), "kappa": Param(float, 1.0)}
    assert heuristic_bytes(rect, {"m": 1000, "n": 10, "kappa": 1e6}) == 8 * 1000 * 10
    pair = {"n": Param(int), "d": Param(int), "m": Param(int)}
    assert heuristic_bytes(pair, {"n": 1000, "d": 10, "m": 20}) == 8 * 1000 * 30
    sparse = {"m": Param(int), "n": Param(int), "density": Param(float, 0.1)}
    assert heuristic_bytes(sparse, {"m": 1024, "n": 1024, "density": 1 / 1024}) == 24 * 1024
    counted = {"m": Param(int), "n": Param(int), "nnz": Param(int)}
    assert heuristic_bytes(counted, {"m": 1000, "n": 1000, "nnz": 500}) == 24 * 500
    assert heuristic_bytes({"model": Param(str, "x")}, {"model": "x"}) == 0


def test_shipped_suites_load_and_pass_the_default_limits(probe):
    paths = sorted((ROOT / "suites").glob("*.yaml"))
    assert paths
    suites = load_suites(paths)
    for suite in suites:
        check_plan([suite])


# ---------------------------------------------------------------- run files


@pytest.mark.parametrize("raw, needle", [
    (json.dumps({"schema": "matrixbench.run"}).encode("utf-16"), "not UTF-8 text (at byte 0)"),
    (json.dumps({"schema": "matrixbench.run"}).encode("utf-16-le"), "not UTF-8 text (at byte 1)"),
    ('{"schema": "caf\xe9"}'.encode("latin-1"), "not UTF-8 text (at byte 15)"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"schema": ' + b"9" * 5000 + b"}", "not a JSON run file"),
], ids=["utf-16", "utf-16-le no bom", "latin-1", "deep nesting", "huge integer"])
def test_unreadable_run_file_is_a_run_file_error(tmp_path, raw, needle):
    path = write(tmp_path, raw, "run.json")
    with pytest.raises(RunFileError) as info:
        read_run(path)
    assert str(info.value).startswith(str(path)) and needle in str(info.value)


# ---------------------------------------------------------------- through the CLI


CLI_CASES = {
    "alias bomb": (alias_bomb().encode(), 6, "alias bomb"),
    "deep nesting": (b"task: probe\nproblems: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", 2, "nested more than"),
    "utf-16": ("task: probe\n".encode("utf-16"), 1, "not UTF-8 text (at byte 0)"),
    "latin-1": ("task: probe\nname: caf\xe9\n".encode("latin-1"), 2, "not UTF-8 text (at byte 21)"),
    "binary": (b"task: probe\n" + bytes(range(256)), 2, "not UTF-8 text (at byte 12)"),
}


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_validate_exits_2_with_file_and_line(cli_here, tmp_path, case):
    raw, line, needle = CLI_CASES[case]
    write(tmp_path, raw)
    code, out, err = cli_here("validate", "suite.yaml")
    assert code == 2, (case, out, err)
    message = " ".join(err.split())
    assert f"suite.yaml:{line}" in message and needle in message, (case, message)
