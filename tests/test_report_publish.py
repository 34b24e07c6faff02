"""Issue 19 on a real run of the default suite (``tests/data/run-default.json.gz``: 512
cells made by ``matrixbench run`` on this project's 2-core CI-class machine, commit fca6245).

- The answer-first summaries are recomputed here from the raw records, independently of
  :mod:`matrixbench.report.summary`: every stated winner, time and speedup must match.
- Accuracy levels follow each metric's scale (a ratio is ranked by ``|ratio - 1|``).
- ``report --format latex`` is a booktabs document that ``pdflatex`` compiles (where installed).
- ``report --figures DIR`` writes every figure of the pages as SVG and PDF.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from matrixbench import registry
from matrixbench.discovery import load_plugins
from matrixbench.fmt import fmt_time
from matrixbench.report import build_model
from matrixbench.report.tables import latex_escape, problem_table, to_markdown

DATA = Path(__file__).parent / "data" / "run-default.json.gz"


@pytest.fixture(scope="module")
def run():
    load_plugins([])
    return json.loads(gzip.decompress(DATA.read_bytes()))


@pytest.fixture(scope="module")
def model(run):
    return build_model([run])


def _distance(scale: str, v: float) -> float:
    return {"ratio": abs(v - 1), "score": 1 - v}.get(scale, abs(v))


def _usable(r: dict) -> bool:
    return (r["status"] == "ok" and r["time"] and r["time"]["median"] > 0
            and not (r.get("contention") or {}).get("contended"))


def _label(r: dict) -> str:
    params = ",".join(f"{k}={v}" for k, v in sorted(r["method"]["params"].items()))
    mode = r["method"].get("mode", "forward")
    return r["method"]["name"] + (f"({params})" if params else "") + (f" [{mode}]" if mode != "forward" else "")


def test_summary_sentences_match_the_winners_recomputed_from_the_run_file(run, model):
    by_task: dict[str, list[dict]] = {}
    for r in run["results"]:
        by_task.setdefault(r["task"], []).append(r)
    checked = 0
    for task in model.tasks:
        spec = registry.TASKS[task.name]
        primary, scale = spec.metrics[0].name, spec.metrics[0].scale
        records = by_task[task.name]
        regimes = {(rg.generator, repr(sorted(rg.task_params.items())), rg.dtype, rg.device): rg for rg in task.summary}
        # every regime with a usable cell has a summary, and no other regime has one
        expected = {(r["problem"]["generator"], repr(sorted(r["problem"]["task_params"].items())), r["dtype"], r["device"])
                    for r in records if _usable(r)}
        assert set(regimes) == expected, task.name
        for key, rg in regimes.items():
            cells = [r for r in records if (r["problem"]["generator"], repr(sorted(r["problem"]["task_params"].items())),
                                            r["dtype"], r["device"]) == key]
            assert rg.levels[0].label == "any", "the first sentence is the fastest ok cell"
            for level in rg.levels:
                bound = None if level.label == "any" else float(level.label.split()[-1])
                stated = {p: s for s in level.stretches for p in s.problems}
                for pkey in rg.problems:
                    ok = [r for r in cells if r["problem"]["key"] == pkey and _usable(r)
                          and (bound is None or primary in r["metrics"] and r["metrics"][primary] is not None
                               and math.isfinite(r["metrics"][primary])
                               and _distance(scale, r["metrics"][primary]) <= bound)]
                    if not ok:
                        assert pkey in level.missing
                        continue
                    best = min(ok, key=lambda r: r["time"]["median"])
                    s = stated[pkey]
                    assert s.winner.split(" (")[0] == _label(best) or s.winner == _label(best), (task.name, pkey)
                    i = s.problems.index(pkey)
                    assert s.times[i] == best["time"]["median"]
                    refs = [r for r in records if r["problem"]["key"] == pkey and r["method"]["kind"] == "reference"
                            and r["time"] and r["time"]["median"]]
                    same = [r for r in refs if r["dtype"] == best["dtype"] and r["device"] == best["device"]]
                    ref = (same or [r for r in refs if r["dtype"] == "float64" and r["device"] == "cpu"] or refs or [None])[0]
                    if ref is None:
                        assert s.vs_reference[i] is None
                    else:
                        assert s.vs_reference[i] == pytest.approx(ref["time"]["median"] / best["time"]["median"])
                    text = " ".join(rg.sentences(task.accuracy_axis))
                    assert _label(best) in text
                    times = sorted(s.times)
                    assert fmt_time(times[0]) in text and fmt_time(times[-1]) in text
                    checked += 1
    assert checked > 60  # the default suite's regimes have one to four levels each


def test_a_ratio_metric_is_ranked_by_its_distance_from_one(model):
    (svd,) = [t for t in model.tasks if t.name == "svd_topk"]
    assert svd.scales["optimality_ratio"] == "ratio" and svd.accuracy_axis == "|optimality_ratio - 1|"
    # before, levels compared the ratio itself (about 1) with 1e-1 ... 1e-12: only "any" was ever filled
    assert len(svd.levels) >= 3
    filled = {lv for w in svd.winners.values() for lv, x in w.items() if x is not None}
    assert len(filled) >= 3
    for pv in svd.problems:
        ratios = sorted(max(abs(r.record["metrics"]["optimality_ratio"] - 1), 1e-17) for r in pv.rows
                        if r.time and "optimality_ratio" in r.record["metrics"])
        assert sorted(y for s in pv.accuracy for _, y, _ in s.points) == pytest.approx(ratios)  # plotted: the distance


def test_counts_and_values_get_no_accuracy_level():
    from matrixbench.report.model import accuracy_of

    record = {"metrics": {"loglik": -3.5, "iterations": 12.0, "rel_error": -2e-3}}
    assert accuracy_of(record, "loglik", "value") is None and accuracy_of(record, "iterations", "count") is None
    assert accuracy_of(record, "rel_error", "error") == 2e-3  # an error is ranked by its size
    assert registry.Metric("loglik", "higher", scale="value").scale == "value"
    with pytest.raises(ValueError, match="is not one of"):
        registry.Metric("loglik", scale="likelihood")


def test_skipped_cells_collapse_and_empty_columns_drop(model):
    (polar,) = [t for t in model.tasks if t.name == "polar"]
    table = problem_table(polar.problems[0])
    assert all(row[table.header.index("status")].text.split()[0] != "skipped" for row in table.rows)
    hidden = sum(h.count for h in table.hidden)
    assert hidden == sum(1 for row in polar.problems[0].rows if row.record["status"] == "skipped") > 0
    assert "method" in table.header and "median" in table.header
    for task in model.tasks:
        for pv in task.problems:
            t = problem_table(pv)
            for i, name in enumerate(t.header):  # no column is empty in every shown row
                assert any(row[i].text not in ("", "-") for row in t.rows), (pv.key, name)
    (lstsq,) = [t for t in model.tasks if t.name == "lstsq"]
    assert "95% CI" not in problem_table(lstsq.problems[0]).header  # quick timing, no interval: dropped, not a column of -
    md = to_markdown(table).splitlines()
    assert len(md) >= 2 + len(table.rows) and md[0].count("|") == len(table.header) + 1


def test_latex_escape():
    assert latex_escape("a_b & 50% ±1 ≤ x^2 {y} $ #") == (r"a\_b \& 50\% \ensuremath{\pm}1 \ensuremath{\le} "
                                                         r"x\textasciicircum{}2 \{y\} \$ \#")


def test_report_format_latex_compiles(run_cli, tmp_path):
    run_file = tmp_path / "run.json"
    run_file.write_bytes(gzip.decompress(DATA.read_bytes()))
    out = run_cli("report", str(run_file), "--format", "latex", "-o", "report.tex")
    assert out.returncode == 0, out.stderr
    tex = (tmp_path / "report.tex").read_text()
    assert tex.count(r"\toprule") == tex.count(r"\bottomrule") > 30 and r"\usepackage{booktabs}" in tex
    assert "Fastest ok cell" in tex
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-recommended): the document was not compiled")
    done = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "report.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_report_figures_dir_holds_every_figure_as_svg_and_pdf(run_cli, run, tmp_path):
    run_file = tmp_path / "run.json"  # two tasks of the run: accuracy, speedup and roofline figures
    part = {**run, "results": [r for r in run["results"] if r["task"] in ("polar", "kernel_matvec")]}
    run_file.write_text(json.dumps(part))
    out = run_cli("report", str(run_file), "-o", "rep", "--figures", "figs", "--jobs", "1")
    assert out.returncode == 0, out.stderr
    svgs = sorted((tmp_path / "figs").rglob("*.svg"))
    assert svgs and len(svgs) == len(list((tmp_path / "figs").rglob("*.pdf")))
    inline = sum(p.read_text().count('<figure class="plot"') for p in (tmp_path / "rep").glob("task-*.html"))
    assert len(svgs) == inline
    for svg in svgs:
        ET.parse(svg)  # well-formed
        assert svg.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    # the pages link the files in DIR
    page = (tmp_path / "rep" / "task-polar.html").read_text()
    assert 'href="../figs/polar/polar-p0-accuracy.pdf"' in page
    refused = run_cli("report", str(run_file), "--format", "md", "-o", "s.md", "--figures", "figs")
    assert refused.returncode == 2 and "--figures" in refused.stderr
