"""Malformed suites exit 2 with the file and the line; nothing from them is executed."""

from __future__ import annotations

import textwrap

import pytest

GOOD = """\
name: probe-suite
task: probe
problems:
  generator: probe_gaussian
  params: {n: [4, 8]}
  task_params: {offset: [0.0, 1.0]}
  exclude:
    - {n: 8, offset: 1.0}
methods:
  - reference
  - sleep: {ms: [0.1, 0.2]}
dtypes: [float64, float32]
"""


def write(tmp_path, text, name="suite.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_good_suite_validates_and_counts_cells(run_cli, tmp_path):
    write(tmp_path, GOOD)
    res = run_cli("validate", "suite.yaml")
    assert res.returncode == 0, res.stderr
    # 3 problems (4x2 offsets, 8x1) x (1 + 2 methods) x 2 dtypes
    assert "18 cells" in res.stdout


CASES = {
    "yaml syntax": ("name: x\ntask: probe\nproblems: {generator: probe_gaussian\nmethods: [reference]\n", 4, "YAML error"),
    "unknown generator": (GOOD.replace("generator: probe_gaussian", "generator: probe_gausian"), 4, "did you mean 'probe_gaussian'"),
    "unknown method": (GOOD.replace("  - reference\n", "  - referense\n"), 10, "unknown method 'referense'"),
    "wrong type": (GOOD.replace("n: [4, 8]", "n: [4, 'eight']"), 5, "expected an integer"),
    "negative size": (GOOD.replace("n: [4, 8]", "n: [4, -8]"), 5, "found -8"),
    "unknown key": (GOOD + "colour: blue\n", 13, "unknown key 'colour'"),
    "unknown method param": (GOOD.replace("ms: [0.1, 0.2]", "msec: [0.1]"), 11, "unknown parameter 'msec'"),
    "bad dtype": (GOOD.replace("[float64, float32]", "[float64, float31]"), 12, "float31"),
    "gate on unknown metric": (GOOD + "gates: {rel_eror: {float64: 1.0e-8}}\n", 13, "did you mean 'rel_error'"),
    "duplicate key": (GOOD + "task: probe\n", 13, "duplicate key"),
    "python tag": (GOOD.replace("name: probe-suite", "name: !!python/object/apply:os.system ['touch PWNED']"), 1, "not allowed"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_suite_exits_2_with_file_and_line(cli_here, tmp_path, case):
    text, line, needle = CASES[case]
    write(tmp_path, text)
    for command in (["validate", "suite.yaml"], ["run", "suite.yaml"]):
        code, out, err = cli_here(*command)
        assert code == 2, (case, out, err)
        message = " ".join(err.split())
        assert f"suite.yaml:{line}" in message, (case, message)
        assert needle in message, (case, message)
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "results").exists(), "nothing may run from a bad suite"


def test_all_errors_reported_at_once(cli_here, tmp_path):
    write(tmp_path, GOOD.replace("n: [4, 8]", "n: [-4, 8]").replace("  - reference\n", "  - nope\n"))
    code, _, err = cli_here("validate", "suite.yaml")
    assert code == 2
    assert "suite.yaml:5" in err and "suite.yaml:10" in err


def test_unknown_suite_name_lists_known(cli_here):
    code, _, err = cli_here("validate", "no-such-suite")
    assert code == 2
    assert "no suite file 'no-such-suite'" in " ".join(err.split())


def test_multi_benchmark_suite(run_cli, tmp_path):
    body = textwrap.indent(GOOD, "    ").replace("    name: probe-suite", "  - name: first", 1)
    second = body.replace("  - name: first", "  - name: second", 1)
    write(tmp_path, "name: two\nbenchmarks:\n" + body + second)
    res = run_cli("validate", "suite.yaml")
    assert res.returncode == 0, res.stderr
    assert "2 benchmark(s), 18 cells" in res.stdout  # identical cells are planned once
