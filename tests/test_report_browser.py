"""The report in a real browser (headless Chromium from file://): no console errors, no
request leaves the page, every plot is drawn, clicking a column header sorts the table.

Needs Debian's ``chromium`` and the ``playwright`` package (installed by the test extra;
``.ci/run`` installs chromium). Skips with the reason when either is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

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
def browser(tmp_path_factory):
    # chromium keeps its crash-report settings and dconf cache under HOME: a scratch one,
    # so that the tests write nothing outside the repository and the temporary folder
    home = tmp_path_factory.mktemp("browser-home")
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache")}
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"], env=env)
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


# ---------------------------------------------------------------- issue 19: the default run's report

#: every <text> of each SVG on the page, as rendered boxes; pairs that overlap by more than
#: a pixel in both directions (matplotlib's tick labels touch at their edges, never more)
OVERLAPS = """() => {
  const out = [];
  document.querySelectorAll("figure.plot svg").forEach((svg, s) => {
    const boxes = Array.from(svg.querySelectorAll("text")).map(t => [t.textContent.trim(), t.getBoundingClientRect()])
      .filter(([txt, b]) => txt && b.width > 0 && b.height > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i][1], b = boxes[j][1];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left), h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) out.push(svg.closest("figure").id + ": " + boxes[i][0] + " / " + boxes[j][0]);
    }
    const frame = svg.getBoundingClientRect();  // and no text outside its figure
    boxes.forEach(([txt, b]) => { if (b.left < frame.left - 1 || b.right > frame.right + 1 || b.top < frame.top - 1
                                      || b.bottom > frame.bottom + 1) out.push(svg.closest("figure").id + ": " + txt + " outside"); });
  });
  return out;
}"""


@pytest.fixture(scope="module")
def default_report(tmp_path_factory):
    import gzip
    import json
    from pathlib import Path

    from matrixbench.discovery import load_plugins

    load_plugins([])
    run = json.loads(gzip.decompress((Path(__file__).parent / "data" / "run-default.json.gz").read_bytes()))
    out = tmp_path_factory.mktemp("default-report")
    write_report([run], out, workers=2)
    return out


def test_default_report_pages_fit_and_no_text_overlaps(default_report, browser):
    """Every page at 1400 and then 800 px wide (one load, the viewport resized)."""
    pages = sorted(default_report.glob("*.html"))
    assert len(pages) >= 17  # the index and a page per task
    for path in pages:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        assert errors == [], path.name
        for width in (1400, 800):
            page.set_viewport_size({"width": width, "height": 900})
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path.name} scrolls sideways at {width} px"
            assert page.evaluate(OVERLAPS) == [], (path.name, width)
            assert all(box["width"] <= width for box in page.locator("figure.plot svg").evaluate_all(
                "svgs => svgs.map(s => s.getBoundingClientRect().toJSON())"))
        figures = page.locator("figure.plot")
        for i in range(figures.count()):
            hrefs = figures.nth(i).locator("a[download]").evaluate_all("as => as.map(a => a.href)")
            assert [h.rsplit(".", 1)[1] for h in hrefs] == ["svg", "pdf"]
            for href in hrefs:  # the files behind the links (file:// URLs resolved by the browser)
                data = Path(unquote(urlparse(href).path)).read_bytes()
                assert data[:5] == b"%PDF-" if href.endswith(".pdf") else b"<svg" in data[:2000]
        page.close()


@pytest.fixture(scope="module")
def served(default_report):
    """The report served over HTTP, as a published report is (from file:// a browser may
    open a linked file instead of downloading it)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(default_report))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_default_report_downloads_toggles_and_table_export(served, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{served}/task-polar.html")
    for nth, magic in ((0, b"<?xml"), (1, b"%PDF-")):  # the first figure's SVG and PDF
        with page.expect_download() as info:
            page.locator("figure.plot a[download]").nth(nth).click()
        assert Path(info.value.path()).read_bytes()[:5] == magic
    toggle = page.locator("details.hidden-cells").first
    assert not toggle.locator("table").is_visible()
    toggle.locator("summary").click()
    assert toggle.locator("table").is_visible()
    rows = toggle.locator("tbody tr").count()
    assert str(rows) in toggle.locator("summary").inner_text()
    tools = page.locator(".table-tools").first
    tools.locator("button[data-export=latex]").click()
    latex = tools.locator("textarea").input_value()
    body = page.locator("table.sortable").first.locator("tbody tr").count()
    assert latex.count("\\\\") == body + 1 and "\\toprule" in latex and "\\_" in latex
    tools.locator("button[data-export=markdown]").click()
    md = tools.locator("textarea").input_value().splitlines()
    assert len(md) == body + 2 and md[1].startswith("|---")
    page.close()


@pytest.mark.parametrize("width", [1400, 800])
def test_scaling_and_history_figures_fit_without_overlaps(report, browser, width):
    """The synthetic report has the figures the default run's lacks: scaling fits and history."""
    for name in ("index.html", "task-synth_task.html"):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto((report / name).as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate(OVERLAPS) == [], name
        page.close()
