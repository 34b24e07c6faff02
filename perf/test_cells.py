"""Each cell: check its accuracy gates on one call, then let pytest-benchmark time the call.

The call synchronizes the device (CUDA) before returning, so the timing covers completed
work. Metrics, status, FLOPs and the cell key go to ``extra_info`` (saved with
``--benchmark-autosave`` / ``--benchmark-json``).
"""

from __future__ import annotations

import pytest

from matrixbench.execute import prepare_cell, set_threads
from matrixbench.runner import default_threads
from matrixbench.verdict import Verdict, check


def test_cell(benchmark, cell, cache_dir):
    verdict = check(cell)
    if verdict:
        pytest.skip(verdict.reason)
    set_threads(cell.threads or default_threads())
    prepared = prepare_cell(cell, cache_dir)
    if isinstance(prepared, Verdict):  # skipped (a sparse problem, a method that does not apply) or invalid
        if prepared.status == "skipped":
            pytest.skip(prepared.reason)
        pytest.fail(f"{cell.key}: {prepared.status}: {prepared.reason}")
    verdict, metrics, _ = prepared.evaluate(prepared.call())
    benchmark.group = cell.problem.key
    benchmark.extra_info.update(key=cell.key, status=verdict.status, metrics=metrics, flops=prepared.flops(),
                                dtype=cell.dtype, device=cell.device)
    assert verdict.status == "ok", f"{cell.key}: {verdict.status}: {verdict.reason}"
    benchmark(prepared.call)
