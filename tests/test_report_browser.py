"""The report in a real browser (headless Chromium from file://): no console errors, no
request leaves the page, every plot is drawn, clicking a column header sorts the table.

Needs Debian's ``chromium`` and the ``playwright`` package (installed by the test extra;
``.ci/run`` installs chromium). Skips with the reason when either is missing.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from matrixbench.report import write_report
from synthetic_runs import many_runs, power_law_records

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium browser installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    rng = np.random.default_rng(0)
    runs = many_runs(3, power_law_records({"reference": 3.0, "fast": 2.5, "slow": 3.2}, [32, 64, 128, 256], rng), rng)
    out = tmp_path_factory.mktemp("report")
    write_report(runs, out)
    return out


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        yield b
        b.close()


def open_page(browser, path):
    page = browser.new_page()
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


@pytest.mark.parametrize("name", ["index.html", "task-synth_task.html"])
def test_page_loads_clean_and_draws_every_plot(report, browser, name):
    path = report / name
    page, errors, requests = open_page(browser, path)
    assert errors == []
    assert requests == [path.as_uri()], "the page requested something besides itself"
    expected = path.read_text().count("<svg")
    svgs = page.locator("svg")
    assert svgs.count() == expected
    for i in range(expected):
        box = svgs.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        assert svgs.nth(i).locator("path").count() > 3  # axes, lines, markers were drawn
    page.close()


def test_clicking_a_header_sorts(report, browser):
    page, errors, _ = open_page(browser, report / "task-synth_task.html")
    table = page.locator("table.sortable").first
    headers = [h.strip() for h in table.locator("th").all_inner_texts()]
    col = headers.index("median")

    def column():
        return [float(v) for v in table.locator(f"tbody tr td:nth-child({col + 1})").evaluate_all(
            "cells => cells.map(c => c.dataset.v)")]

    before = column()
    table.locator("th").nth(col).click()
    asc = column()
    assert asc == sorted(before) and asc != before
    table.locator("th").nth(col).click()
    assert column() == sorted(before, reverse=True)
    # a text column sorts too
    method = headers.index("method")
    table.locator("th").nth(method).click()
    names = table.locator(f"tbody tr td:nth-child({method + 1})").all_inner_texts()
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    assert errors == []
    page.close()
