"""The README cannot drift: every shell command and every code block in it runs here.

- Every command of a ``bash`` block is listed in :data:`COMMANDS`, either with how it
  runs here (shortened with ``--quick``, an entry or a filter) or with why it does not
  (it is this test's own setup, or another test runs it). A new or edited command that is
  not listed fails the test.
- The ``Add a task`` example (``# mytasks/...`` blocks) is written into a temporary folder
  and validated and run as the README says: a new task with a reference, one method on
  two backends, one generator and one suite, with no change to any file of the repository.
- The method example is imported as a plugin and listed; the suite example validates; the
  run-file snippet runs on the run files the commands wrote.
- Every option of every command's ``--help`` is in the command synopsis, every
  ``MATRIXBENCH_*`` variable the code reads is in the table, the cell counts quoted are
  today's plan's, and the sample output carries ``scripts/readme_sample.py``'s command and
  counts.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from matrixbench.cli import build_parser
from matrixbench.plan import plan
from matrixbench.suite import load_suite

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", README, re.S)]

sys.path.insert(0, str(ROOT / "scripts"))
import readme_sample  # noqa: E402

#: each README command (comment stripped) -> the argv that runs it here (``matrixbench``
#: is ``python -m matrixbench``; ``{newest}``, ``{base}``, ``{head}`` are run files), or
#: ``None`` with the reason it does not run here
SHARD_CELLS = ["--quick", "--entry", "polar-classics", "--filter", "*kappa=100,m=256,n=256*", "--methods", "torch_svd,newton"]
COMMANDS: dict[str, tuple[list[str] | None, str]] = {
    "bash scripts/setup.sh && .venv/bin/matrixbench run": (
        ["run", "--quick", "--filter", readme_sample.FILTER, "--results", "results"],
        "setup.sh made this environment; the default suite, one problem"),
    "bash scripts/setup.sh && .venv/bin/python -m pytest -q -n 2": (None, "this is the test command itself (.ci/run)"),
    ".venv/bin/matrixbench validate mytasks/trace.yaml --tasks mytasks": (
        ["validate", "mytasks/trace.yaml", "--tasks", "mytasks"], "as written"),
    ".venv/bin/matrixbench run mytasks/trace.yaml --tasks mytasks --quick": (
        ["run", "mytasks/trace.yaml", "--tasks", "mytasks", "--quick"], "as written"),
    ".venv/bin/matrixbench run polar --launcher local --shards 2 --cores 0,1": (
        ["run", "polar", "--launcher", "local", "--shards", "2", "--cores", "0,1", *SHARD_CELLS, "--results", "local/"],
        "quick, two problems and two methods of one entry"),
    ".venv/bin/matrixbench run polar --shard 1/2 --results shards": (
        ["run", "polar", "--shard", "1/2", *SHARD_CELLS, "--results", "shards"], "quick, two problems and two methods of one entry"),
    ".venv/bin/matrixbench run polar --shard 2/2 --results shards": (
        ["run", "polar", "--shard", "2/2", *SHARD_CELLS, "--results", "shards"], "quick, two problems and two methods of one entry"),
    ".venv/bin/matrixbench merge shards/*/*.json -o merged.json": (["merge", "{shards}", "-o", "merged.json"], "as written"),
    ".venv/bin/matrixbench run ci --results base/": (
        ["run", "ci", "--results", "base/", "--entry", "ci-sketch", "--quick", "--rounds", "1"], "one entry, quick"),
    ".venv/bin/matrixbench run ci --results head/": (
        ["run", "ci", "--results", "head/", "--entry", "ci-sketch", "--quick", "--rounds", "1"], "one entry, quick"),
    ".venv/bin/matrixbench compare base/*/*.json head/*/*.json": (["compare", "{base}", "{head}"], "as written"),
    ".venv/bin/matrixbench ab main HEAD": (
        None, "needs a repository with those commits: tests/test_tracking.py runs ab on a scratch repository"),
    ".venv/bin/matrixbench ab main HEAD sqrtm --methods newton_schulz --report reports/ab": (
        None, "tests/test_tracking.py runs ab with --report on a scratch repository"),
    ".venv/bin/matrixbench report": (["report"], "as written"),
    ".venv/bin/matrixbench report results/*/*.json -o reports/history": (
        ["report", "{all}", "-o", "reports/history"], "as written"),
    ".venv/bin/matrixbench report RUN --format md -o summary.md": (
        ["report", "{newest}", "--format", "md", "-o", "summary.md"], "RUN: the newest run file"),
    ".venv/bin/matrixbench report RUN --format latex -o tables.tex": (
        ["report", "{newest}", "--format", "latex", "-o", "tables.tex"], "RUN: the newest run file"),
    ".venv/bin/matrixbench report RUN --figures figures": (
        ["report", "{newest}", "--figures", "figures", "-o", "reports/figs"], "RUN: the newest run file; -o keeps it apart"),
    ".venv/bin/matrixbench compare BASE HEAD --report reports/cmp": (
        ["compare", "{base}", "{head}", "--report", "reports/cmp"], "BASE, HEAD: the two ci runs"),
    ".venv/bin/matrixbench calibrate [--device cuda] [--dtype float32] [--force]": (
        ["calibrate", "--dtype", "float32"], "the CPU, float32 only"),
    '.venv/bin/pip install -e ".[track]"': (None, "installs packages; .ci/run installs what the tests need"),
    ".venv/bin/asv machine --yes": (None, "tests/test_tracking.py runs asv on a scratch repository"),
    ".venv/bin/asv check --python=same": (None, "tests/test_tracking.py runs asv on a scratch repository"),
    ".venv/bin/asv run --python=same --quick": (None, "tests/test_tracking.py runs asv on a scratch repository"),
    ".venv/bin/asv continuous main HEAD": (None, "tests/test_tracking.py runs asv continuous on a scratch repository"),
    ".venv/bin/asv publish && .venv/bin/asv preview": (None, "serves a web site"),
    "MATRIXBENCH_ASV_SUITE=suites/sqrtm.yaml .venv/bin/asv run --python=same": (
        None, "tests/test_tracking.py runs asv with MATRIXBENCH_ASV_SUITE"),
    ".venv/bin/python -m pytest perf --benchmark-only --benchmark-autosave": (
        None, "tests/test_tracking.py runs the pytest-benchmark front end on both commits"),
    ".venv/bin/python -m pytest perf --benchmark-only --benchmark-compare --benchmark-compare-fail=median:10%": (
        None, "tests/test_tracking.py runs the pytest-benchmark front end on both commits"),
}


def readme_commands() -> list[str]:
    out = []
    for lang, body in BLOCKS:
        if lang == "bash":
            out += [line.split("  #")[0].strip() for line in body.splitlines() if line.strip() and not line.startswith("#")]
    return out


def named_files() -> dict[str, str]:
    """The ``# mytasks/...`` blocks of the "Add a task" example, by path."""
    files = {}
    for _, body in BLOCKS:
        first = body.splitlines()[0] if body.strip() else ""
        if first.startswith("# mytasks/"):
            files[first[2:].strip()] = body
    return files


def env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "MATRIXBENCH_CALIBRATE": "0", "MATRIXBENCH_REPORT": "0", "COLUMNS": "150",
            "MATRIXBENCH_CACHE": str(workdir / ".cache"), "MATRIXBENCH_PLUGINS": "", "MATRIXBENCH_TASKS": ""}


def test_every_command_is_listed():
    listed, found = set(COMMANDS), set(readme_commands())
    assert found - listed == set(), f"README commands this test does not know: {sorted(found - listed)}"
    assert listed - found == set(), f"commands no longer in the README: {sorted(listed - found)}"


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every runnable README command, in README order, in one scratch folder."""
    work = tmp_path_factory.mktemp("readme")
    for path, text in named_files().items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    out = {}
    for command in readme_commands():
        argv, _ = COMMANDS[command]
        if argv is None:
            continue
        runs = {"base": glob.glob(str(work / "base/*/*.json")), "head": glob.glob(str(work / "head/*/*.json")),
                "all": sorted(glob.glob(str(work / "results/*/*.json"))),
                "shards": sorted(glob.glob(str(work / "shards/*/*.json")))}
        args: list[str] = []
        for a in argv:
            if a in ("{all}", "{shards}"):
                args += runs[a[1:-1]]
            elif a == "{newest}":
                args.append(runs["all"][-1])
            elif a in ("{base}", "{head}"):
                args.append(runs[a[1:-1]][0])
            else:
                args.append(a)
        out[command] = subprocess.run([sys.executable, "-m", "matrixbench", *args], cwd=work, env=env(work),
                                      capture_output=True, text=True, timeout=600)
    out["__work__"] = work  # type: ignore[assignment]
    return out


@pytest.mark.parametrize("command", [c for c, (argv, _) in COMMANDS.items() if argv is not None])
def test_command_runs(ran, command):
    res = ran[command]
    # compare may find a time regression between two quick runs taken seconds apart
    allowed = (0, 1) if " compare " in command else (0,)
    assert res.returncode in allowed, (command, res.stdout[-2000:], res.stderr[-2000:])


def test_new_task_from_the_readme_runs_on_two_backends(ran):
    """The acceptance test of the layout: the README's task, in a folder of its own."""
    work: Path = ran["__work__"]  # type: ignore[assignment]
    assert set(named_files()) == {"mytasks/trace/task.py", "mytasks/trace/reference.py", "mytasks/trace/hutchinson.py",
                                  "mytasks/trace/generators.py", "mytasks/trace.yaml"}
    assert "ok (1 benchmark(s), 40 cells)" in ran[".venv/bin/matrixbench validate mytasks/trace.yaml --tasks mytasks"].stdout
    import json

    runs = [json.loads(Path(p).read_text()) for p in glob.glob(str(work / "results/*/*.json"))]
    trace = next(r for r in runs if any(x["task"] == "trace" for x in r["results"]))["results"]
    hutch = [r for r in trace if r["method"]["name"] == "hutchinson"]
    assert len(trace) == 40 and len(hutch) == 32
    assert {r["method"]["backend"] for r in hutch} == {"torch", "numpy"}
    assert all(r["status"] == "ok" for r in hutch), [(r["key"], r["status"], r["reason"]) for r in hutch]
    # the estimate is the independent float64 trace within Hutchinson's spread
    assert all(r["metrics"]["rel_error"] < 0.5 for r in hutch)
    assert sum(r["status"] == "skipped" for r in trace) == 4  # the reference's float32 cells


def test_method_example_imports_as_a_plugin(tmp_path):
    body = next(b for _, b in BLOCKS if b.startswith("# implementations/sqrtm/my_method.py"))
    (tmp_path / "my_method.py").write_text(body)
    res = subprocess.run([sys.executable, "-m", "matrixbench", "list", "methods", "--plugin", "my_method"], cwd=tmp_path,
                         env={**env(tmp_path), "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "my_method" in res.stdout


def test_suite_example_validates_and_runs(tmp_path):
    """The suite example plans 336 cells; its well-conditioned float64 CPU part (28 cells) runs ``ok``."""
    body = next(b for lang, b in BLOCKS if lang == "yaml" and b.startswith("name: my-study"))
    (tmp_path / "my-study.yaml").write_text(body)
    assert len(plan([load_suite(tmp_path / "my-study.yaml")])) == 336
    res = subprocess.run([sys.executable, "-m", "matrixbench", "run", "my-study.yaml", "--quick", "--device", "cpu",
                          "--filter", "*cond=100,n=64*/float64/cpu", "--no-table"], cwd=tmp_path, env=env(tmp_path),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "28 of 28 planned cells: 28 ok" in res.stdout


def test_run_file_snippet_runs(ran):
    work: Path = ran["__work__"]  # type: ignore[assignment]
    body = next(b for lang, b in BLOCKS if lang == "python" and "read_run" in b)
    res = subprocess.run([sys.executable, "-c", body], cwd=work, env=env(work), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() and ("/numpy/" in res.stdout or "/torch/" in res.stdout), res.stdout


def test_load_snippet_runs(ran):
    """The notebook example: every run file made by the README commands as one DataFrame."""
    work: Path = ran["__work__"]  # type: ignore[assignment]
    body = next(b for lang, b in BLOCKS if lang == "python" and "matrixbench.load" in b)
    res = subprocess.run([sys.executable, "-c", body], cwd=work, env=env(work), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "time_median" in res.stdout or "method" in res.stdout, res.stdout


def test_every_option_and_variable_is_documented():
    synopsis = next(b for lang, b in BLOCKS if not lang and b.startswith("matrixbench [--plugin"))
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = []
    for name, p in sub.choices.items():
        assert f"matrixbench {name}" in synopsis, name
        for action in p._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help" and opt not in synopsis:
                    missing.append(f"{name} {opt}")
    assert not missing, f"options missing from the README's command synopsis: {missing}"
    used = set()
    for folder in ("matrixbench", "benchmarks", "perf", "implementations"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"MATRIXBENCH_[A-Z_]+", path.read_text()))
    table = README[README.index("### Environment variables"):README.index("## How it measures")]
    assert {v for v in used if f"`{v}`" not in table} == set()


def test_quoted_counts_are_todays():
    default = len(plan([load_suite(ROOT / "suites" / "default.yaml")]))
    ci = len(plan([load_suite(ROOT / "suites" / "ci.yaml")]))
    assert f"2-core CPU ({default} cells" in README
    assert f"`{default} of {default} planned cells" in README
    assert f"{ci} today" in README


def test_sample_output_is_generated():
    begin, end = README.index(readme_sample.BEGIN), README.index(readme_sample.END)
    block = README[begin:end]
    assert f"`{readme_sample.shown()}`" in block
    assert "(made by `scripts/readme_sample.py`)" in block
    n = len(plan([load_suite(ROOT / "suites" / "default.yaml")], patterns=[readme_sample.FILTER]))
    assert f"{n} of {n} planned cells" in block
    assert "backend" in block and "vs ref" in block
