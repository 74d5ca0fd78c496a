"""Take the README screenshots: start the app, drive it in headless Chromium, save PNGs to docs/.

Usage: python scripts/screenshots.py   (needs Debian's chromium and the playwright package)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.app_server import ARGS, AppServer  # noqa: E402

OUT = ROOT / "docs"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    app = AppServer()
    url = app.url
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = b.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(url)
            page.get_by_text(re.compile(r"Compute device of this server: (CPU|CUDA)")).wait_for(timeout=60_000)
            page.get_by_text("ready").first.wait_for(timeout=60_000)  # the engine's workers
            page.wait_for_timeout(1500)
            page.screenshot(path=str(OUT / "home.png"))
            page.goto(url + "/playground")
            page.get_by_role("button", name="Train").wait_for(timeout=60_000)
            page.get_by_role("button", name="Train").click()
            page.get_by_text("live: argmax q and samples").first.wait_for(timeout=120_000)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(OUT / "playground_live.png"))
            page.get_by_role("heading", name="Results").wait_for(timeout=300_000)
            page.set_viewport_size({"width": 1400, "height": 2300})
            page.wait_for_timeout(2500)
            page.screenshot(path=str(OUT / "playground_results.png"))
            page.get_by_role("radio", name="Baselines", exact=True).click()
            page.get_by_test_id("stPlotlyChart").filter(has_text="GaussianMixture").first.wait_for(timeout=60_000)  # built when picked
            page.wait_for_timeout(2000)
            page.screenshot(path=str(OUT / "playground_baselines.png"))
            page.get_by_role("radio", name="Replay", exact=True).click()
            page.wait_for_timeout(2000)
            page.get_by_text("Download the replay").scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(OUT / "playground_replay.png"))
            # a second run (init random), then both side by side
            page.get_by_label("Seed", exact=True).fill("1")
            page.get_by_label("Seed", exact=True).press("Enter")
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Train").click()
            page.get_by_text(re.compile(r"Run history \(2 of")).wait_for(timeout=300_000)
            for _ in range(2):
                picker = page.get_by_test_id("stMultiSelect").filter(has_text="Pick runs")
                picker.scroll_into_view_if_needed()
                try:
                    picker.locator("input").click()
                    page.get_by_role("option").first.click(timeout=15_000)
                except Exception:
                    page.screenshot(path=str(OUT / "debug_compare.png"), full_page=True)
                    raise
                page.keyboard.press("Escape")
                page.wait_for_timeout(1500)
            page.get_by_text(re.compile(r"^#1 pinwheel")).last.wait_for(timeout=60_000)
            page.wait_for_timeout(3000)
            page.get_by_role("heading", name=re.compile("Run history")).evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(OUT / "playground_compare.png"))
            dark = b.new_context(viewport={"width": 1400, "height": 1100}, color_scheme="dark").new_page()
            dark.goto(url + "/playground?dataset=circles&init=spectral")
            dark.get_by_role("button", name="Train").click(timeout=60_000)
            dark.get_by_role("heading", name="Results").wait_for(timeout=300_000)
            dark.wait_for_timeout(3000)
            dark.get_by_role("heading", name="Results").scroll_into_view_if_needed()
            dark.screenshot(path=str(OUT / "playground_dark.png"))
            dark.context.close()
            page.set_viewport_size({"width": 1400, "height": 2600})
            page.goto(url + "/two_circles")
            page.get_by_role("button", name="Train without labels").click()
            page.get_by_role("button", name="Rerun it").click(timeout=120_000)  # the random start's stored run, live
            caption = page.get_by_text(re.compile(r"^Rerun of random weights"))
            caption.wait_for(timeout=120_000)
            page.wait_for_timeout(2000)
            caption.scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / "two_circles_rerun.png"))
            page.get_by_role("button", name="Next: add labels").click(timeout=120_000)
            page.get_by_role("button", name=re.compile("Label 16 points per circle")).click(timeout=60_000)
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Train with labels").click()
            page.get_by_role("heading", name="4. Summary").wait_for(timeout=180_000)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(OUT / "two_circles.png"), full_page=True)
            page.set_viewport_size({"width": 1400, "height": 1300})
            page.goto(url + "/mnist")
            page.get_by_text("The training images").wait_for(timeout=120_000)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(OUT / "mnist.png"))
            b.close()
    finally:
        app.stop()


if __name__ == "__main__":
    main()
