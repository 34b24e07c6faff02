"""compare judges only what it can: a broken head (incomplete, empty, all NaN, cells that
now fail or vanished) fails the comparison; runs that cannot be compared are refused with
the reason; null times and metrics never crash it. Synthetic run files only."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from matrixbench.compare import check_comparable, compare_runs, run_directions
from synthetic_runs import make_run, record

METHOD = ("fast", "optimized", {"iters": 5})


def cells(count: int, seconds: float = 0.01, error: float = 1e-10, status: str = "ok") -> list[dict]:
    rng = np.random.default_rng(0)
    return [record("synth_task", {"n": 8 + i}, METHOD, "float64", seconds, error, rng, status=status)
            for i in range(count)]


def base_and_head(count: int = 6) -> tuple[dict, dict]:
    base = make_run("base", cells(count))
    return base, make_run("head", copy.deepcopy(base["results"]))


def broken(r: dict, status: str, reason: str) -> dict:
    """A head record as the engine writes a cell that did not produce a timed answer."""
    r.update(status=status, reason=reason, time=None, gflops=None, metrics={})
    return r


def test_identical_runs_pass() -> None:
    base, head = base_and_head()
    assert check_comparable(base, head) is None
    cmp = compare_runs(base, head)
    assert not cmp.failed and not cmp.problems and not cmp.regressions and cmp.compared == 6


def test_incomplete_head_fails_and_lists_missing_cells() -> None:
    base = make_run("base", cells(42))
    head = make_run("head", copy.deepcopy(base["results"][:18]))
    head["run"].update(complete=False, finished=None, planned=42)
    assert check_comparable(base, head) is None  # comparable: judged, and failed
    cmp = compare_runs(base, head)
    assert cmp.failed
    assert any(p.startswith("head run is incomplete: 18 of 42 cells") for p in cmp.problems), cmp.problems
    missing = [c for c in cmp.regressions if c.kind == "missing"]
    assert len(missing) == 24 and all("incomplete" in c.note for c in missing)
    assert [c.kind for c in cmp.regressions][0] == "run"  # run-level findings first
    # fewer results than planned is incomplete even when the file says complete
    head["run"]["complete"] = True
    assert any("18 of 42 cells" in p for p in compare_runs(base, head).problems)


def test_empty_head_fails() -> None:
    base = make_run("base", cells(4))
    head = make_run("head", [])
    head["run"].update(planned=4, complete=False)
    assert check_comparable(base, head) is None
    cmp = compare_runs(base, head)
    assert cmp.failed and cmp.problems[0].startswith("head run has no results")
    assert len(cmp.problems) == 1  # one clear message, not "incomplete" as well
    assert {c.key for c in cmp.regressions if c.kind == "missing"} == {r["key"] for r in base["results"]}


def test_all_nan_head_fails_without_crashing() -> None:
    base, head = base_and_head()
    for r in head["results"]:  # an engine bug: "ok" with null/NaN times and metrics
        r["time"].update(median=None, min=float("nan"), samples=[float("nan")] * 5)
        r["metrics"] = {"rel_error": None}
    cmp = compare_runs(base, head)
    assert cmp.failed
    assert any(p.startswith("head run has no finite time: all 6 timed cells") for p in cmp.problems), cmp.problems
    assert any(p.startswith("head run has no finite metric") for p in cmp.problems), cmp.problems
    kinds = {(c.kind, c.what) for c in cmp.regressions}
    assert ("time", "time (min)") in kinds and ("accuracy", "rel_error") in kinds
    assert not cmp.time_ratios and np.isnan(cmp.geomean_ratio)


def test_head_whose_cells_all_failed_fails() -> None:
    base = make_run("base", cells(3, status="error"))  # a base broken the same way: no status change
    head = make_run("head", [broken(r, "error", "boom") for r in copy.deepcopy(base["results"])])
    cmp = compare_runs(base, head)
    assert cmp.failed and cmp.problems == ["head run has no timed cell: of its 3 cells that ran, 3 error"]


@pytest.mark.parametrize("status", ["error", "crashed", "timeout", "nan", "invalid", "inaccurate"])
def test_ok_to_failure_is_a_status_regression_with_the_head_reason(status: str) -> None:
    base, head = base_and_head()
    reason = f"the head's reason for {status}"
    if status == "inaccurate":
        head["results"][2].update(status=status, reason=reason)
    else:
        broken(head["results"][2], status, reason)
    cmp = compare_runs(base, head)
    assert cmp.failed and not cmp.problems
    [c] = cmp.regressions
    assert (c.kind, c.key, c.base, c.head, c.note) == ("status", head["results"][2]["key"], "ok", status, reason)


def test_status_ranks() -> None:
    base, head = base_and_head(3)
    base["results"][0].update(status="inaccurate", reason="gate")  # inaccurate -> crashed: a regression
    broken(head["results"][0], "crashed", "worker died")
    broken(base["results"][1], "error", "was broken")  # error -> ok: an improvement
    broken(base["results"][2], "error", "raised")  # error -> timeout: both failures, no change
    broken(head["results"][2], "timeout", "slow")
    cmp = compare_runs(base, head)
    assert [(c.kind, c.base, c.head) for c in cmp.regressions] == [("status", "inaccurate", "crashed")]
    assert [(c.kind, c.base, c.head, c.note) for c in cmp.improvements] == [("status", "error", "ok", "was broken")]


def test_ok_cell_missing_from_a_complete_head_is_a_regression() -> None:
    base, head = base_and_head()
    gone = head["results"].pop(4)
    head["run"]["planned"] = 5
    cmp = compare_runs(base, head)
    assert cmp.failed and not cmp.problems
    [c] = cmp.regressions
    assert (c.kind, c.key, c.base, c.head) == ("missing", gone["key"], "ok", "missing")
    assert c.note.startswith("not in the head run")
    # a base cell that was not measured (skipped, error) may vanish: nothing to lose
    base["results"][4].update(status="skipped", reason="no GPU")
    assert not compare_runs(base, head).failed


def test_missing_cells_name_a_different_selection() -> None:
    base, head = base_and_head()
    head["results"] = head["results"][:3]
    head["run"]["options"] = {"filter": ["*n=8*"]}
    head["run"]["planned"] = 3
    cmp = compare_runs(base, head)
    assert all("--filter" in c.note for c in cmp.regressions) and any("--filter" in n for n in cmp.notes)


def test_ok_to_skipped_is_a_note_but_skipping_everything_fails() -> None:
    base, head = base_and_head()
    broken(head["results"][0], "skipped", "method 'fast' needs sklearn, which is not installed")
    cmp = compare_runs(base, head)
    assert not cmp.failed
    [c] = cmp.skipped
    assert (c.kind, c.base, c.head, c.regression) == ("skipped", "ok", "skipped", False) and "sklearn" in c.note
    assert any("skipped in the head" in n for n in cmp.notes)
    for r in head["results"]:
        broken(r, "skipped", "no GPU")
    cmp = compare_runs(base, head)
    assert cmp.failed and cmp.compared == 0
    assert cmp.problems == ["head run skipped all 6 cells that were ok in the base: nothing was compared "
                            "(first reason: no GPU)"]


def test_null_metrics_and_times_do_not_crash() -> None:
    base, head = base_and_head(4)
    base["results"][0]["metrics"] = {"rel_error": None}  # nothing to judge against
    head["results"][0]["metrics"] = {"rel_error": 1.0}
    base["results"][1]["metrics"] = {"rel_error": None}
    head["results"][1]["metrics"] = {"rel_error": None}
    head["results"][2]["metrics"] = {"rel_error": None}  # a number became null: worse
    base["results"][3]["time"] = None  # base timed cell without a time: not judged
    cmp = compare_runs(base, head)
    assert [(c.kind, c.what, c.key, c.head) for c in cmp.regressions] == [
        ("accuracy", "rel_error", head["results"][2]["key"], "null")]
    assert len(cmp.time_ratios) == 3


def test_different_machines_cannot_be_compared() -> None:
    base = make_run("base", cells(3), machine="vm-a")
    head = make_run("head", copy.deepcopy(base["results"]), machine="vm-b")
    head["environment"]["machine"]["cpu"] = "AMD EPYC 7763"
    why = check_comparable(base, head)
    assert why is not None and "different machines" in why
    assert "name 'vm-a' vs 'vm-b'" in why and "cpu 'synthetic' vs 'AMD EPYC 7763'" in why
    assert check_comparable(base, head, allow_different_machines=True) is None
    assert any("different machines" in n for n in compare_runs(base, head).notes)
    # a field recorded on one side only is not compared
    del head["environment"]["machine"]["cpu"]
    head["environment"]["machine"]["name"] = "vm-a"
    assert check_comparable(base, head) is None


def test_other_reasons_not_to_compare() -> None:
    base, head = base_and_head()
    head["schema_version"] = base["schema_version"] + 1
    assert "different run-file schemas" in check_comparable(base, head)
    _, head = base_and_head()
    assert "base run base has no results" in check_comparable(make_run("base", []), head)
    other = make_run("head", [record("other_task", {"n": 4}, METHOD, "float64", 0.01, 1e-9, np.random.default_rng(1))])
    assert "no cell in common" in check_comparable(base, other)


def test_directions_recorded_in_the_run_file_win() -> None:
    base, head = base_and_head(1)
    base["results"][0]["metrics"] = {"score": 0.9}
    head["results"][0]["metrics"] = {"score": 0.3}
    given = {"synth_task": {"score": "lower"}}  # what this matrixbench's registry would say
    assert compare_runs(base, head, directions=given).improvements  # lower: 0.3 is better
    table = {"synth_task": {"score": {"direction": "higher", "unit": ""}}}
    for run in (base, head):
        run["metrics"] = copy.deepcopy(table)
    assert run_directions(head) == {"synth_task": {"score": "higher"}}
    [c] = compare_runs(base, head, directions=given).regressions  # the files say higher
    assert (c.kind, c.what) == ("accuracy", "score")
    # files that disagree on a direction: that metric is not compared, a note says why
    head["metrics"]["synth_task"]["score"]["direction"] = "lower"
    cmp = compare_runs(base, head, directions=given)
    assert not cmp.changes and any("synth_task/score" in n for n in cmp.notes)
