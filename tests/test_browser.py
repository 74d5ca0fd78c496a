"""Real-browser test: Playwright drives Debian's Chromium against `streamlit run app.py`.

Skipped when Chromium or Playwright is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(os.environ.get("VMONF_SCREENSHOTS", ROOT / "tests" / "artifacts"))

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"), reason="no chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


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
