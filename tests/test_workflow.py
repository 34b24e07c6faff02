"""The GitHub Actions recipe, run here: every shell step of ``.github/workflows/benchmarks.yml``
in order, in a scratch repository, read from the workflow file itself (so that this test
breaks when the recipe does).

What stands in for GitHub: ``${{ ... }}`` expressions are filled in from a small table
(the pull request's base, the repository variable that picks the suite: here a tiny
one); ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_WORKSPACE`` and ``GITHUB_SHA``
are files and values of the scratch repository; a step's ``if:`` is evaluated for the
forms the recipe uses; ``actions/checkout`` is the scratch repository itself and
``actions/upload-artifact`` checks that what it would upload exists. The set-up step
(``bash scripts/setup.sh``) is the one shell step not run: this test runs inside the
environment it builds (``.venv`` is linked), and running it would point that
environment's editable install at the scratch copy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from scratch import ROOT, git, scratch_repo

WORKFLOW = ROOT / ".github" / "workflows" / "benchmarks.yml"
TINY = """\
name: tiny
task: polar
problems:
  generator: gaussian
  params: {m: 64, n: 96}
methods: [torch_svd, {newton_schulz_quintic: {steps: 5}}]
dtypes: [float32]
threads: 1
timing: {min_time: 0.05, max_time: 0.2}
"""
SETUP = "bash scripts/setup.sh"


def _expressions(text: str, values: dict[str, str]) -> str:
    def fill(m: re.Match) -> str:
        expr = m.group(1).strip()
        if expr not in values:
            raise AssertionError(f"the workflow uses ${{{{ {expr} }}}}, which this test does not know: add it")
        return values[expr]
    return re.sub(r"\$\{\{(.*?)\}\}", fill, text)


def _condition(cond: str, outputs: dict[str, str], failed: bool) -> bool:
    cond = cond.strip()
    if cond == "always()":
        return True
    m = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) (==|!=) '(.*)'", cond)
    if m:
        value = outputs.get(f"{m.group(1)}.{m.group(2)}", "")
        return (value == m.group(4)) == (m.group(3) == "==")
    raise AssertionError(f"the workflow uses the condition {cond!r}, which this test does not know: add it")


def run_job(name: str, repo: Path, values: dict[str, str], extra_env: dict[str, str]) -> dict[str, object]:
    """Run job ``name``'s steps; returns the steps run, their outputs and the job summary."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"][name]
    env = {**os.environ, **extra_env}
    for key, value in (workflow.get("env") or {}).items():
        env[key] = _expressions(str(value), values)
    summary, output = repo / ".summary.md", repo / ".output"
    env.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output), GITHUB_WORKSPACE=str(repo), GITHUB_SHA=git(repo, "rev-parse", "HEAD").strip())
    outputs: dict[str, str] = {}
    ran, failed = [], False
    for step in job["steps"]:
        if "if" in step and not _condition(step["if"], outputs, failed):
            continue
        if failed and "if" not in step:
            continue
        uses = step.get("uses", "")
        if uses.startswith("actions/upload-artifact"):
            paths = [p for p in str(step["with"]["path"]).split() if p]
            assert all(list((repo / p).glob("*")) for p in paths), f"nothing to upload at {paths}"
            ran.append(uses)
            continue
        if uses:
            continue  # checkout: the scratch repository; setup-python: this interpreter
        script = _expressions(step["run"], values)
        if script.strip() == SETUP:
            continue
        output.write_text("")
        res = subprocess.run(["bash", "-e", "-c", script], cwd=repo / step.get("working-directory", "."), env=env,
                             capture_output=True, text=True, timeout=600)
        for line in output.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[f"{step.get('id', '')}.{key}"] = value
        ran.append((step.get("name") or script.splitlines()[0], res.returncode, res.stdout[-2000:] + res.stderr[-2000:]))
        failed = failed or res.returncode != 0
    return {"ran": ran, "outputs": outputs, "summary": summary.read_text() if summary.exists() else "", "failed": failed}


@pytest.fixture
def repo(tmp_path) -> Path:
    repo = scratch_repo(tmp_path / "repo", {"suites/tiny.yaml": TINY})
    os.symlink(ROOT / ".venv", repo / ".venv")
    return repo


ENV = {"MATRIXBENCH_CALIBRATE": "0"}


def test_pull_request_job_runs_ab_against_the_merge_base(repo):
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "NOTES.md").write_text("a change that touches no method\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-q", "-m", "notes")
    values = {"github.event.pull_request.base.sha": base, "vars.MATRIXBENCH_SUITE || 'ci'": "tiny"}
    job = run_job("ab", repo, values, {**ENV, "MATRIXBENCH_CACHE": str(repo / ".cache")})
    steps = {s[0]: s for s in job["ran"] if isinstance(s, tuple)}
    ab = steps["A/B against the merge base"]
    assert ab[1] == 0, ab[2]
    assert job["outputs"]["ab.status"] == "0", ab[2]
    assert "## matrixbench ab" in job["summary"] and "0 regressed" in job["summary"], job["summary"]
    assert "Fail on a regression" not in steps  # skipped: nothing regressed
    assert "actions/upload-artifact@v4" in job["ran"]
    assert (repo / "reports" / "ab" / "compare.html").is_file() and (repo / "reports" / "ab" / "ab.json").is_file()


def test_push_job_appends_the_run_to_the_history_branch(repo, tmp_path):
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    values = {"vars.MATRIXBENCH_SUITE || 'ci'": "tiny"}
    job = run_job("history", repo, values, {**ENV, "MATRIXBENCH_CACHE": str(repo / ".cache")})
    assert not job["failed"], job["ran"]
    history = subprocess.run(["git", "ls-tree", "-r", "--name-only", "benchmark-history"], cwd=origin,
                             capture_output=True, text=True, check=True).stdout.split()
    # filed under the recipe's stable machine name
    assert history and all(p.startswith("results/github-ubuntu-latest/") and p.endswith(".json") for p in history), history
    run_file = json.loads(subprocess.run(["git", "show", f"benchmark-history:{history[0]}"], cwd=origin,
                                         capture_output=True, text=True, check=True).stdout)
    assert run_file["environment"]["machine"]["name"] == "github-ubuntu-latest"
    assert "# matrixbench report" in job["summary"]
    assert (repo / "reports" / "history" / "index.html").is_file()
