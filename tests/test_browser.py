"""Real-browser test: Playwright drives Debian's Chromium against `streamlit run app.py`.

Skipped when Chromium or Playwright is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from browser_utils import ROOT, requires_browser

SHOTS = Path(os.environ.get("VMONF_SCREENSHOTS", ROOT / "tests" / "artifacts"))
pytestmark = requires_browser


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
    page.wait_for_timeout(1500)
    assert page.locator("text=Traceback").count() == 0
    assert page.get_by_text("ARI", exact=True).count() >= 1
    page.screenshot(path=str(SHOTS / "playground.png"), full_page=True)
    page.close()


def test_stop_answers_and_resume_continues_in_the_browser(browser, server):
    page = _page(browser, server + "/playground")
    page.get_by_role("heading", name="Playground").wait_for(timeout=60_000)
    epochs = page.get_by_label("Epochs")
    epochs.fill("3000")
    epochs.press("Enter")
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="Train").click()
    page.get_by_text(re.compile(r"running: epoch [1-9]")).first.wait_for(timeout=120_000)
    assert page.get_by_role("button", name="Train").is_disabled()  # the buttons follow the job, no other click needed
    page.get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"stopped: epoch")).first.wait_for(timeout=30_000)
    resume = page.get_by_role("button", name="Resume")
    assert resume.is_enabled() and page.get_by_role("button", name="Train").is_enabled()
    resume.click()
    page.get_by_text(re.compile(r"running: epoch")).first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"stopped: epoch")).first.wait_for(timeout=30_000)
    assert page.locator("text=Traceback").count() == 0
    page.close()
