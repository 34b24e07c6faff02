"""Each cell: check its accuracy gates on one call, then let pytest-benchmark time the call.

The call synchronizes the device (CUDA) before returning, so the timing covers completed
work. Metrics, status, FLOPs and the cell key go to ``extra_info`` (saved with
``--benchmark-autosave`` / ``--benchmark-json``).
"""

from __future__ import annotations

import pytest

from matrixbench.execute import CellSkipped, prepare_cell, set_threads
from matrixbench.runner import default_threads, skip_reason


def test_cell(benchmark, cell, cache_dir):
    reason = skip_reason(cell)
    if reason:
        pytest.skip(reason)
    set_threads(cell.threads or default_threads())
    try:
        prepared = prepare_cell(cell, cache_dir)
    except CellSkipped as exc:
        pytest.skip(str(exc))
    result = prepared.evaluate(prepared.call())
    benchmark.group = cell.problem.key
    benchmark.extra_info.update(key=cell.key, status=result["status"], metrics=result["metrics"], flops=prepared.flops(),
                                dtype=cell.dtype, device=cell.device)
    assert result["status"] == "ok", f"{cell.key}: {result['status']}: {result['reason']}"
    benchmark(prepared.call)
