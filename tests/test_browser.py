"""Real-browser test: Playwright drives Debian's Chromium against `streamlit run app.py`.

Skipped when Chromium or Playwright is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from browser_utils import ROOT, requires_browser

SHOTS = Path(os.environ.get("VMONF_SCREENSHOTS", ROOT / "tests" / "artifacts"))
pytestmark = requires_browser
APP_ENV = {"VMONF_WORKERS": "1"}  # one worker (the default on 2 cores): a second tab's run queues behind the first


def _page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    return page


def test_home_renders(browser, server):
    page = _page(browser, server)
    page.get_by_role("heading", name="VMoNF Explorer").wait_for(timeout=60_000)
    page.get_by_text("Compute device").wait_for(timeout=60_000)
    assert page.locator("text=Traceback").count() == 0
    page.close()


def test_playground_trains_pinwheel_and_draws_the_partition(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser, server + "/playground")
    page.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    # the pinwheel is the default dataset; make the run short
    epochs = page.get_by_label("Epochs")
    epochs.fill("8")
    epochs.press("Enter")
    restarts = page.get_by_label("Restarts")
    restarts.fill("2")
    restarts.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Train").click()
    page.get_by_role("heading", name="Results").wait_for(timeout=180_000)
    page.get_by_text("argmax q(k|x) with samples from each component").first.wait_for(timeout=60_000)
    # the metrics are drawn by a component the browser loads on first use: wait for the metric itself
    page.get_by_test_id("stMetricLabel").filter(has_text="ARI").first.wait_for(timeout=120_000)
    assert page.locator("text=Traceback").count() == 0
    value = page.get_by_test_id("stMetric").filter(has_text="ARI").first.get_by_test_id("stMetricValue").inner_text()
    assert 0 <= float(value) <= 1
    # picking another view builds it and replaces the figure, in place
    page.get_by_role("radio", name="Components", exact=True).click()
    page.get_by_text("q(1|x)").first.wait_for(timeout=60_000)
    assert page.get_by_role("radiogroup", name="View", exact=True).count() == 1
    page.get_by_role("radio", name="Thesis figure", exact=True).click()
    page.get_by_text("argmax q(k|x) with samples from each component").first.wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "playground.png"), full_page=True)
    page.close()


def _start_a_long_run(browser, server):
    """A Playground tab training a 3,000-epoch run, once its first epochs show."""
    page = _page(browser, server + "/playground")
    page.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    epochs = page.get_by_label("Epochs")
    epochs.fill("3000")
    epochs.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Train").click()
    page.get_by_text(re.compile(r"running: epoch [1-9]")).first.wait_for(timeout=120_000)
    return page


def test_stop_answers_and_resume_continues_in_the_browser(browser, server):
    page = _start_a_long_run(browser, server)
    assert page.get_by_role("button", name="Train").is_disabled()  # the buttons follow the job, no other click needed
    page.locator(".st-key-pg_stop button").first.click()  # by key: the header has a "Stop" of its own while a rerun runs
    page.get_by_text(re.compile(r"stopped: epoch")).first.wait_for(timeout=30_000)
    resume = page.get_by_role("button", name="Resume")
    assert resume.is_enabled() and page.get_by_role("button", name="Train").is_enabled()
    resume.click()
    page.get_by_text(re.compile(r"running: epoch")).first.wait_for(timeout=60_000)
    page.locator(".st-key-pg_stop button").first.click()  # by key: the header has a "Stop" of its own while a rerun runs
    page.get_by_text(re.compile(r"stopped: epoch")).first.wait_for(timeout=30_000)
    assert page.locator("text=Traceback").count() == 0
    page.close()


def _nav(page, name: str) -> None:
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name=name).click()
    page.get_by_role("heading", name=name).first.wait_for(timeout=60_000)


def _data_title(page) -> str:
    title = page.get_by_text(re.compile(r"training points, \d+ held out, \d+ labeled")).first
    title.wait_for(timeout=60_000)
    return title.text_content()


def test_setup_survives_page_switches_and_the_link_reproduces_it(browser, server):
    """Two circles and 32 labels survive a visit to another page; the page's URL opens the same setup elsewhere."""
    page = _page(browser, server + "/playground")
    page.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name="circles").click()
    page.get_by_text(re.compile(r"^circles: 800 training points")).wait_for(timeout=60_000)
    page.get_by_text("Label points for a semi-supervised run").click()
    page.get_by_role("button", name=re.compile("Label 16 points per true class")).click()
    page.get_by_text(re.compile(r"circles: .* 32 labeled")).wait_for(timeout=60_000)
    assert page.get_by_label("Components K").input_value() == "2"  # K followed the dataset

    _nav(page, "Two circles lesson")
    _nav(page, "Playground")
    assert re.match(r"circles: 800 training points, 200 held out, 32 labeled", _data_title(page))
    assert page.get_by_label("Components K").input_value() == "2"
    assert page.get_by_text("The dataset changed").count() == 0

    url = page.url
    assert "dataset=circles" in url
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    fresh.goto(url)
    fresh.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    assert re.match(r"circles: 800 training points, 200 held out, 0 labeled", _data_title(fresh))  # labels: CSV, not URL
    assert fresh.get_by_label("Components K").input_value() == "2"
    fresh.context.close()
    page.close()


def test_a_single_click_labels_one_point(browser, server):
    """In the labeling chart's default (lasso) mode, one click on a point labels exactly that point."""
    page = _page(browser, server + "/playground")
    page.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    page.get_by_text("Label points for a semi-supervised run").click()
    chart = page.get_by_test_id("stPlotlyChart").first
    chart.locator(".scatterlayer .trace .points path").first.wait_for(timeout=60_000)
    assert _data_title(page).endswith(" 0 labeled")
    point = chart.locator(".scatterlayer .trace .points path").nth(100)
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text(re.compile(r"held out, 1 labeled$")).wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "click_label.png"), full_page=True)
    page.close()


def test_a_link_with_an_unusable_number_costs_only_that_setting(browser, server):
    """`K=inf` or `seed=1e400` in a shared link made Streamlit's number widget raise (an error page); now the value
    is dropped with one sentence, the page renders, and the link's other settings still apply."""
    for url, kept in (("/playground?K=inf", None), ("/playground?seed=1e400&K=3", "3"), ("/mnist?mn_seed=inf", None)):
        page = _page(browser, server + url)
        page.get_by_text("is not a number the app can use").wait_for(timeout=60_000)
        page.get_by_role("button", name="Train").first.wait_for(timeout=60_000)
        assert page.get_by_text("This app has encountered an error").count() == 0, url
        assert page.locator("text=Traceback").count() == 0
        if kept is not None:  # the link's other setting applies (the widget may settle after the first paint)
            box = page.get_by_label("Components K")
            for _ in range(30):
                if box.input_value() == kept:
                    break
                page.wait_for_timeout(500)
            assert box.input_value() == kept, url
        page.close()


def test_a_closed_tab_frees_its_worker_for_the_run_queued_behind_it(browser, server):
    """Issue 25 row 11: tab A trains a long run on the only worker, tab B's run queues behind it, A is closed. B's
    run starts within seconds (the session's disconnect is seen; the 60 s lease is not waited for)."""
    a = _start_a_long_run(browser, server)
    b = _page(browser, server + "/playground")
    b.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    for label, value in (("Epochs", "2"), ("Restarts", "1")):
        box = b.get_by_label(label)
        box.fill(value)
        box.press("Enter")
    b.wait_for_timeout(1500)
    b.get_by_role("button", name="Train").click()
    b.get_by_text(re.compile(r"queued: position 1")).first.wait_for(timeout=30_000)
    a.context.close()
    t = time.monotonic()
    b.get_by_text(re.compile(r"(running|done): epoch")).first.wait_for(timeout=60_000)
    started = time.monotonic() - t
    assert started < 10, f"the queued run started {started:.1f} s after the other tab was closed"
    b.get_by_role("heading", name="Results").wait_for(timeout=120_000)
    b.context.close()
