"""The statistics behind ``ab`` and the joint verdict, against independent computations:
the Wilcoxon interval inverts scipy's exact signed-rank test, the Hodges-Lehmann estimate
is the median of the Walsh averages, the three-way verdict and the joint verdict follow
their rules on constructed cases, and contention is read from the counters."""

from __future__ import annotations

import collections
import itertools
import math
import subprocess
import sys
import time

import numpy as np
import pytest
from scipy.stats import ttest_ind, wilcoxon

from matrixbench import contention
from matrixbench.compare import Change, compare_runs
from matrixbench.ab import block_order
from matrixbench.paired import RatioInterval, process_interval, ratio_interval
from matrixbench.tradeoff import judge, parse_fail_on


@pytest.mark.parametrize("n,seed", [(8, 0), (12, 1), (20, 2)])
def test_interval_is_the_inverted_exact_signed_rank_test(n, seed):
    rng = np.random.default_rng(seed)
    d = rng.standard_t(3, size=n) * 0.02 + 0.01
    ci = ratio_interval(d, confidence=0.95)
    walsh = sorted((d[i] + d[j]) / 2 for i, j in itertools.combinations_with_replacement(range(n), 2))
    assert math.log(ci.estimate) == pytest.approx(float(np.median(walsh)))
    # theta is inside the interval exactly when the exact two-sided test of d - theta does not reject
    lo, hi = math.log(ci.low), math.log(ci.high)
    for theta in np.linspace(lo - 0.03, hi + 0.03, 61):
        if min(abs(theta - lo), abs(theta - hi)) < 1e-9 or np.any(np.isclose(d, theta)):
            continue
        p = wilcoxon(d - theta, method="exact").pvalue
        assert (lo < theta < hi) == (p > 0.05), (theta, p, lo, hi)


def test_interval_coverage_and_small_samples():
    rng = np.random.default_rng(7)
    misses = sum(not (ci.low <= 1 <= ci.high) for ci in
                 (ratio_interval(rng.standard_t(3, size=10) * 0.02, 0.99) for _ in range(2000)))
    assert misses / 2000 < 0.02  # nominal 1%
    assert ratio_interval([0.01, 0.02, 0.0], 0.99).high == math.inf  # too few rounds to bound anything
    assert ratio_interval([], 0.99).n == 0


@pytest.mark.parametrize("k,seed", [(2, 0), (4, 1), (6, 2)])
def test_process_interval_inverts_the_pooled_t_test(k, seed):
    rng = np.random.default_rng(seed)
    base, head = rng.normal(0, 0.03, k), rng.normal(0.04, 0.03, k)
    ci = process_interval(base, head, confidence=0.95)
    assert math.log(ci.estimate) == pytest.approx(head.mean() - base.mean())
    lo, hi = math.log(ci.low), math.log(ci.high)
    for theta in np.linspace(lo - 0.05, hi + 0.05, 41):  # theta inside exactly when the t test does not reject
        if min(abs(theta - lo), abs(theta - hi)) < 1e-9:
            continue
        p = ttest_ind(head - theta, base, equal_var=True).pvalue
        assert (lo < theta < hi) == (p > 0.05), (theta, p, lo, hi)
    assert process_interval([0.1], [0.2, 0.3]).high == math.inf  # one process a side bounds nothing


def test_process_effects_are_not_a_regression():
    """Bimodal process effects (a process is fast or slow for its life, as MKL's buffers
    made them on the 2-core VM): identical code in 4 + 4 processes is called slower in at
    most 1% of runs, while a round-level interval that ignores the processes is wrong often."""
    rng = np.random.default_rng(3)
    false_t = false_rounds = 0
    for _ in range(2000):
        effect = np.where(rng.random(8) < 0.3, 0.2, 0.0)  # log time of each process: 30% of them 22% slower
        rounds = effect[:, None] + rng.normal(0, 0.02, (8, 40))
        medians = np.median(rounds, axis=1)
        ci = process_interval(medians[:4], medians[4:], 0.99)
        false_t += ci.low > 1 or ci.high < 1
        per_round = rounds[4:].mean(axis=0) - rounds[:4].mean(axis=0)
        r = ratio_interval(per_round, 0.99)
        false_rounds += r.low > 1 or r.high < 1
    assert false_t / 2000 < 0.015 and false_rounds / 2000 > 0.3, (false_t, false_rounds)


@pytest.mark.parametrize("k", [2, 4, 6])
def test_block_order_cancels_a_linear_drift(k):
    for r in range(2):
        order = block_order(k, r)
        assert sorted(order) == sorted([(s, i) for s in ("base", "head") for i in range(k)])
        position = {side: sum(p for p, (s, _) in enumerate(order) if s == side) for side in ("base", "head")}
        assert position["base"] == position["head"]
        # consecutive rounds swap each pair: every process at the same mean position
    assert [o[::-1] for o in zip(*[iter(block_order(k, 0))] * 2)] == list(zip(*[iter(block_order(k, 1))] * 2))


@pytest.mark.parametrize("low,high,verdict", [
    (0.99, 1.02, "same"), (1.01, 1.08, "slower"), (0.90, 0.97, "faster"), (0.97, 1.09, "inconclusive"),
    (1.002, 1.03, "same"), (1.06, 1.10, "slower"),
    # significant, past the threshold's edge, but estimated at under 70% of it (1.05^0.7 = 1.0347):
    # the size of a layout shift of unrelated code, not called a regression
    (1.011, 1.051, "inconclusive"), (0.951, 0.989, "inconclusive"), (1.02, 1.06, "slower")])
def test_three_way_verdict_at_five_percent(low, high, verdict):
    assert RatioInterval(math.sqrt(low * high), low, high, 10, 0.99).verdict(0.05) == verdict


def _acc(worse: bool) -> Change:
    return Change("k", "accuracy", "rel_error", 1e-6, 1e-4 if worse else 1e-8, ratio=100.0 if worse else 0.01,
                  regression=worse, improvement=not worse)


@pytest.mark.parametrize("time_state,acc,status,want", [
    ("slower", None, "same", "regressed"), ("faster", None, "same", "improved"),
    ("same", True, "same", "regressed"), ("same", False, "same", "improved"),
    ("faster", True, "same", "traded"), ("slower", False, "same", "traded"),
    ("unreliable", True, "same", "regressed"),  # contention does not excuse a loss of accuracy
    ("unreliable", None, "same", "unreliable"), ("inconclusive", None, "same", "inconclusive"),
    ("faster", None, "dropped", "regressed"), ("n/a", None, "missing", "regressed"),
    ("same", None, "rose", "improved"), ("same", None, "same", "unchanged")])
def test_joint_verdict(time_state, acc, status, want):
    changes = [] if acc is None else [_acc(acc)]
    assert judge("k", time_state, changes, status=status).verdict == want


def test_fail_on_names():
    assert parse_fail_on("regressed,traded") == ("regressed", "traded")
    with pytest.raises(ValueError, match="unknown verdict"):
        parse_fail_on("regresed")


def _record(key, seconds, *, contended=False, error=1e-6):
    samples = [seconds * (1 + 0.001 * i) for i in range(10)]
    return {"key": key, "task": "t", "status": "ok", "dtype": "float64", "metrics": {"rel_error": error},
            "method": {"version": "v"}, "time": {"min": min(samples), "median": samples[5], "samples": samples},
            "contention": {"others": 1.0 if contended else 0.0, "steal": 0.0, "seconds": 1.0, "contended": contended}}


def _run(records):
    return {"schema": "matrixbench.run", "schema_version": 2, "run": {"id": "r", "complete": True},
            "results": records}


def test_compare_does_not_judge_contended_times_but_does_judge_accuracy():
    base = _run([_record("a", 0.01), _record("b", 0.01), _record("c", 0.01)])
    head = _run([_record("a", 0.05, contended=True), _record("b", 0.05, contended=True, error=1e-3),
                 _record("c", 0.02)])
    cmp = compare_runs(base, head)
    verdicts = {c.key: c.verdict for c in cmp.cells}
    assert verdicts == {"a": "unreliable", "b": "regressed", "c": "regressed"}
    assert {c.key for c in cmp.unreliable} == {"a", "b"}
    assert cmp.failed
    # the faster-but-less-accurate trade fails only when asked to
    head = _run([_record("a", 0.005, error=1e-3), _record("b", 0.01), _record("c", 0.01)])
    assert [c.verdict for c in compare_runs(base, head).cells if c.key == "a"] == ["traded"]
    assert not compare_runs(base, head).failed
    assert compare_runs(base, head, fail_on=("regressed", "traded")).failed


def test_contention_from_the_counters(monkeypatch):
    """Others' CPU is the machine's busy time minus this run's; one tick per core is slack."""
    clock = {"wall": 0.0, "busy": 0.0, "steal": 0.0, "own": 0.0}
    monkeypatch.setattr(contention, "_system", lambda cpus=None: (clock["busy"], clock["steal"]))
    monkeypatch.setattr(contention, "_own", lambda pids: clock["own"])
    monkeypatch.setattr(contention.time, "perf_counter", lambda: clock["wall"])

    def window(wall, busy, own, steal=0.0):
        probe = contention.Probe(pids=(1,))
        probe.cores = 2
        for k, v in (("wall", wall), ("busy", busy), ("own", own), ("steal", steal)):
            clock[k] += v
        return probe.stop()

    idle = window(1.0, 1.0, 1.0)  # only this run worked
    assert idle.others == 0 and not idle.contended
    daemon = window(0.2, 0.23, 0.2)  # a 30 ms blip in a 0.2 s window: within the tick slack
    assert not daemon.contended
    busy = window(1.0, 2.0, 1.0)  # another process took a whole core
    assert busy.others == pytest.approx(1.0) and busy.contended
    stolen = window(1.0, 1.0, 1.0, steal=0.5)
    assert stolen.steal == pytest.approx(0.5) and stolen.contended
    merged = idle.merge(busy)
    assert merged.contended and merged.others == pytest.approx(0.5) and merged.seconds == 2.0


def test_two_busy_processes_are_seen():
    """The real counters: two spinning processes on this machine are contention."""
    spin = "import time\nend = time.time() + 5\nwhile time.time() < end: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    try:
        time.sleep(0.3)
        probe = contention.Probe()
        end = time.perf_counter() + 0.5
        while time.perf_counter() < end:
            sum(range(1000))
        c = probe.stop()
    finally:
        for p in procs:
            p.kill()
    assert c is not None and c.contended and c.others > 0.5, c


def test_a_pinned_run_counts_its_own_cores_only(monkeypatch):
    """Pinned to core 0 (a shard of ``--launcher local --cores 0,1``), the probe reads core
    0's counters only: a sibling busy on core 1 is not contention, a process on core 0 is.
    The per-CPU counters are stubbed: on the real ones, the tests' other xdist worker
    would be busy on either core."""
    import psutil

    Times = collections.namedtuple("Times", "user system nice irq softirq steal")
    busy = [0.0, 0.0]  # CPU-seconds per core
    clock = {"wall": 0.0}
    monkeypatch.setattr(psutil, "cpu_times", lambda percpu=False: [Times(b, 0, 0, 0, 0, 0) for b in busy] if percpu
                        else Times(sum(busy), 0, 0, 0, 0, 0))
    monkeypatch.setattr(contention, "_own", lambda pids: 0.0)  # this run idle during the windows
    monkeypatch.setattr(contention.time, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(contention.os, "cpu_count", lambda: 2)

    def window(allowed: set[int], core: int) -> contention.Contention:
        monkeypatch.setattr(contention.os, "sched_getaffinity", lambda pid: allowed)
        probe = contention.Probe(pids=(1,))
        clock["wall"] += 1.0
        busy[core] += 1.0  # another process spins on `core` for the whole second
        return probe.stop()

    assert not window({0}, core=1).contended  # the sibling shard's core
    intruder = window({0}, core=0)
    assert intruder.contended and intruder.others == pytest.approx(1.0)
    unpinned = window({0, 1}, core=1)  # a run on every core: any other process counts
    assert unpinned.contended and unpinned.others == pytest.approx(1.0)
    monkeypatch.setattr(contention.os, "sched_getaffinity", lambda pid: {0})
    assert contention.pinned_cpus() == (0,)
    monkeypatch.setattr(contention.os, "sched_getaffinity", lambda pid: {0, 1})
    assert contention.pinned_cpus() is None


def test_min_pairs_is_the_first_bounded_interval():
    from matrixbench.paired import min_pairs

    for confidence in (0.9, 0.95, 0.99):
        n = min_pairs(confidence)
        d = np.linspace(-0.01, 0.02, n)
        assert math.isfinite(ratio_interval(d, confidence).high)
        assert ratio_interval(d[:-1], confidence).high == math.inf


def _timing(base_ms: list[float], head_ms: list[float], rounds: int = 8):
    """A CellTiming whose processes took these medians (8 identical rounds each)."""
    from matrixbench.ab import CellTiming

    t = CellTiming(rounds=rounds, log_ratios=[0.0] * rounds)
    t.seconds = {"base": [[x / 1e3] * rounds for x in base_ms], "head": [[x / 1e3] * rounds for x in head_ms]}
    t.interval = t.judged(0.99)
    return t


@pytest.mark.parametrize("second,verdict", [
    (([10.0, 10.1, 9.9, 10.0], [10.0, 9.9, 10.1, 10.05]), "inconclusive"),  # not seen again: a false alarm
    (([10.0, 10.1, 9.9, 10.0], [11.0, 11.1, 10.9, 11.05]), "regressed"),    # seen again
    (([10.0, 10.1, 9.9, 10.0], [9.0, 9.1, 8.9, 9.05]), "inconclusive"),     # the other way: not confirmed
    (([10.0, 10.1, 9.9, 10.0], [10.2, 10.3, 10.1, 10.25]), "inconclusive"), # beyond 1 but 2%: under 70% of 5%
])
def test_a_slower_cell_keeps_its_verdict_only_if_fresh_processes_see_it_again(monkeypatch, tmp_path, second, verdict):
    """``ab``'s confirmation (point 7 of matrixbench.ab): the first timing is clearly slower
    (10%); the second, in restarted processes, decides. Processes and timings are stand-ins."""
    from matrixbench import ab
    from matrixbench.compare import Comparison

    timings = iter([_timing([10.0, 10.1, 9.9, 10.0], [11.0, 11.1, 10.9, 11.0]), _timing(*second)])
    restarts = []
    answer = {"status": "ok", "metrics": {"err": 1e-6}, "estimate": 0.01, "threads": 2}
    monkeypatch.setattr(ab, "_prepare_team", lambda team, key, cache, timeout: dict(answer))
    monkeypatch.setattr(ab, "time_cell", lambda *a, **k: next(timings))
    monkeypatch.setattr(ab, "restart", lambda sides: restarts.append(1))
    cmp = Comparison("base", "head", 0.05, 0.01, 0.5, "paired", title="ab")
    cell = {"key": "t/p/m/torch/float32/cpu", "task": "t", "dtype": "float32", "timing": {}, "regression": {}, "version": "1"}
    got, detail = ab._cell({"base": [], "head": []}, cell["key"], cell, dict(cell), ab.ABSettings(), tmp_path,
                           {"err": "lower"}, cmp)
    assert restarts == [1] and detail["confirmation"]["confidence"] == 0.9
    assert got.verdict == verdict, (got, detail["confirmation"])
    lo, hi = detail["confirmation"]["interval"]
    ratio = detail["confirmation"]["ratio"]
    assert detail["confirmation"]["confirmed"] == (verdict == "regressed") == (lo > 1 and ratio > 1.05**0.7)
    if verdict == "inconclusive":
        assert "not confirmed in fresh processes" in got.note and not cmp.failed
    # with the confirmation off the first timing alone decides
    timings = iter([_timing([10.0, 10.1, 9.9, 10.0], [11.0, 11.1, 10.9, 11.0])])
    monkeypatch.setattr(ab, "time_cell", lambda *a, **k: next(timings))
    got, detail = ab._cell({"base": [], "head": []}, cell["key"], cell, dict(cell),
                           ab.ABSettings(confirm_confidence=0), tmp_path, {"err": "lower"},
                           Comparison("base", "head", 0.05, 0.01, 0.5, "paired", title="ab"))
    assert got.verdict == "regressed" and "confirmation" not in detail


def test_an_accuracy_change_within_the_processes_own_spread_is_not_counted(monkeypatch, tmp_path):
    """hh3 of issue 13: identical code, torch_lstsq's linf_error 2.8e-13 in one process and
    5.6e-13 in another (rounding level, alignment-dependent BLAS): not a regression. A
    change every process shows is one."""
    from matrixbench import ab
    from matrixbench.compare import Comparison

    per = {"base": [2.78e-13, 5.57e-13, 2.78e-13, 2.78e-13], "head": [5.57e-13, 5.57e-13, 2.78e-13, 5.57e-13]}

    def team(sides_team, key, cache, timeout):
        name = sides_team[0]
        ms = [{"linf_error": v, "rel_error": 1e-6 * (10 if name == "head" else 1)} for v in per[name]]
        return {"status": "ok", "estimate": 0.01, "threads": 2, "metrics": ab._median_metrics(ms), "metrics_by_process": ms}

    monkeypatch.setattr(ab, "_prepare_team", team)
    monkeypatch.setattr(ab, "time_cell", lambda *a, **k: _timing([10.0, 10.1, 9.9, 10.0], [10.0, 10.1, 9.9, 10.05]))
    cmp = Comparison("base", "head", 0.05, 0.01, 0.5, "paired", title="ab")
    cell = {"key": "t/p/m/torch/float64/cpu", "task": "t", "dtype": "float64", "timing": {}, "regression": {}, "version": "1"}
    got, detail = ab._cell({"base": ["base"], "head": ["head"]}, cell["key"], cell, dict(cell), ab.ABSettings(), tmp_path,
                           {"linf_error": "lower", "rel_error": "lower"}, cmp)
    assert detail["accuracy_within_process_spread"] == ["linf_error"]
    names = [c.what for c in cmp.changes if c.kind == "accuracy"]
    assert names == ["rel_error"] and got.verdict == "regressed"  # 10x in every process: counted
    # medians per side are what the record shows
    assert detail["base"]["metrics"]["linf_error"] == 2.78e-13 and detail["head"]["metrics"]["linf_error"] == 5.57e-13
    # a NaN in one head process is a null metric: a regression, never averaged away
    assert ab._median_metrics([{"e": 1.0}, {"e": None}]) == {"e": None}
