"""How long each step a student takes needs to settle, in headless Chromium against `streamlit run app.py`.

*Settled* is the time of the last DOM change after the action, once the page has not changed for 0.8 s and
Streamlit's running indicator is gone. Every step is repeated (each repeat on a fresh server, so the first-load and
first-click rows are what a new user meets) and reported as p50 and p95, with where the time goes:

* ``server``: action -> the last websocket message of the step (what the server computes and sends);
* ``KB``: bytes received over the websocket during the step;
* ``script`` / ``layout``: the browser's main-thread JavaScript and layout+style time during the step (Chrome's
  Performance domain over CDP).

Usage: python bench/ui_latency.py [--repeats 5] [--pages playground,lesson,mnist] [--json out.json]
Targets: issue 20 (README, "Benchmarks").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.app_server import ARGS, AppServer  # noqa: E402

QUIET_MS = 800
TARGETS = {  # seconds, p50 (p95 may be 1.5x); issue 20
    "first request -> Home ready": 3.0, "server start -> Home ready": None, "Home -> Playground": 1.0, "change the dataset": 1.0, "a slider": 1.0,
    "a number input": 1.0, "first Train -> first epoch": 2.0, "later Train -> first epoch": 1.0, "Stop -> stopped shown": 1.0,
    "done -> results settled": 1.0, "Train -> results minus train time": 2.0, "back to Playground with results": 1.0,
    "Playground -> lesson": 1.0, "lesson: rerun a start -> first epoch": 2.0, "lesson: label 16 per circle": 1.0,
    "Playground -> MNIST": 1.0, "MNIST: change digits": 1.0, "MNIST: Train -> first epoch": 2.0,
}

# the page's last DOM change, and (for steps that end when a text shows) the first change after which the text is there:
# timed in the page, so Playwright's locator polling (up to 0.5 s apart) is not part of any figure
WATCH = """
window.__last = performance.now(); window.__want = null; window.__hit = null;
new MutationObserver(() => {
  const t = performance.now(); window.__last = t;
  if (window.__want !== null && window.__hit === null && window.__want.test(document.body.textContent)) window.__hit = t;
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


class Probe:
    """One browser page with a DOM-change watcher, websocket byte counts and CDP main-thread timings."""

    def __init__(self, browser) -> None:
        self.page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        self.page.add_init_script(WATCH)
        self.frames: list[tuple[float, int]] = []  # (perf_counter, bytes) of every websocket message received
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        self.cdp = self.page.context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable")

    def _frame(self, payload) -> None:
        self.frames.append((time.perf_counter(), len(payload)))

    def _metrics(self) -> dict[str, float]:
        return {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}

    def settle(self, timeout: float = 300.0, since: float = 0.0) -> float:
        """Wait until the page has not changed for ``QUIET_MS`` since ``since`` (page time) and no script runs;
        return the page time of its last change."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            quiet = self.page.evaluate(f"performance.now() - Math.max(window.__last, {since})")
            running = self.page.locator('[data-testid="stStatusWidget"]').count() > 0
            if quiet >= QUIET_MS and not running:
                break
            self.page.wait_for_timeout(100)
        return self.page.evaluate("window.__last")

    def now(self) -> float:
        return self.page.evaluate("performance.now()")

    def step(self, action, until=None, timeout: float = 180.0, settle: bool = True, text: str | None = None,
             navigates: bool = False) -> dict[str, float]:
        """Run ``action``; wait for ``until`` (a locator, if given), then for the page to settle; return the timings.

        The step's time is the page's last DOM change after the action (timed in the page). With ``settle=False`` (a
        live job keeps changing the page) the step ends when ``text`` (a JavaScript regex source) first shows in the
        page, timed in the page too; ``until`` is then only what the driver waits for. An action that ``navigates``
        (a first visit) starts a new document, whose clock starts at the request: its times count from there.
        """
        m0, n0 = self._metrics(), len(self.frames)
        self.page.evaluate(f"window.__hit = null; window.__want = {('new RegExp(' + json.dumps(text) + ')') if text else 'null'}")
        t0 = time.perf_counter()
        p0 = self.now()
        action()
        if navigates:
            p0 = 0.0  # performance.now() of the new document counts from its navigation's start
        if until is not None:
            until.first.wait_for(timeout=timeout * 1000)
        reached = time.perf_counter() - t0
        if not settle:
            hit = self.page.evaluate("window.__hit")
            reached = (hit - p0) / 1000 if hit is not None else reached
        last = self.settle(timeout, since=p0) if settle else p0 + reached * 1000
        m1, frames = self._metrics(), self.frames[n0:]
        frames = [f for f in frames if f[0] <= t0 + (last - p0) / 1000.0]
        return {
            "settled": (last - p0) / 1000.0,
            "reached": reached,
            "server": (frames[-1][0] - t0) if frames else 0.0,
            "KB": sum(b for _, b in frames) / 1024,
            "script": m1.get("ScriptDuration", 0) - m0.get("ScriptDuration", 0),
            "layout": (m1.get("LayoutDuration", 0) - m0.get("LayoutDuration", 0)
                       + m1.get("RecalcStyleDuration", 0) - m0.get("RecalcStyleDuration", 0)),
        }

    def nav(self, name: str):
        return lambda: self.page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()


def set_number(page, label: str, value: str):
    def act() -> None:
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
    return act


def train_seconds(page) -> float:
    txt = page.locator('[data-testid="stMetric"]').filter(has_text="Train time (s)").inner_text()
    return float(txt.split()[-1])


def one_session(browser, which: list[str]) -> dict[str, dict[str, float]]:
    """Every step once, on a fresh server, as a new user meets them."""
    server = AppServer(timeout=60)
    out: dict[str, dict[str, float]] = {}
    try:
        pr = Probe(browser)
        pg = pr.page
        def home_ready():
            pg.goto(server.url)
            pg.get_by_text(re.compile(r"workers? ready")).wait_for(timeout=120_000)
        asked = time.perf_counter()
        out["first request -> Home ready"] = pr.step(home_ready, pg.get_by_text(re.compile(r"Compute device of this server: (CPU|CUDA)")),
                                                     navigates=True)
        out["server start -> Home ready"] = {"settled": asked - server.started + out["first request -> Home ready"]["settled"]}
        if "playground" in which:
            out["Home -> Playground"] = pr.step(pr.nav("Playground"), pg.get_by_role("button", name="Train"))
            sb = pg.get_by_test_id("stSidebar")

            def pick_circles() -> None:
                sb.get_by_role("combobox", name="Dataset").click()
                pg.get_by_role("option", name="circles").click()
            out["change the dataset"] = pr.step(pick_circles, pg.get_by_text(re.compile(r"^circles: \d+ training points")))
            slider = sb.get_by_role("slider", name="Points")

            def nudge() -> None:
                slider.focus()
                slider.press("ArrowRight")
            out["a slider"] = pr.step(nudge, pg.get_by_text(re.compile(r"^circles: 880 training points")))
            out["a number input"] = pr.step(set_number(pg, "Epochs", "60"))
            train = lambda: pg.locator(".st-key-pg_train button").first.click()  # noqa: E731
            first_epoch = pg.get_by_text(re.compile(r"running: epoch [1-9]"))
            EPOCH = r"running: epoch [1-9]"
            p_click = pr.now()
            out["first Train -> first epoch"] = pr.step(train, first_epoch, settle=False, text=EPOCH)
            pg.get_by_text(re.compile(r"done: epoch")).first.wait_for(timeout=300_000)
            out["done -> results settled"] = pr.step(lambda: None, pg.get_by_text("Train time (s)"), timeout=300)
            total = (pr.page.evaluate("window.__last") - p_click) / 1000  # click -> the page's last change
            out["Train -> results minus train time"] = {"settled": total - train_seconds(pg), "train": train_seconds(pg)}
            out["later Train -> first epoch"] = pr.step(train, first_epoch, settle=False, text=EPOCH)
            pg.get_by_text(re.compile(r"done: epoch")).first.wait_for(timeout=300_000)
            pg.get_by_text("Train time (s)").first.wait_for(timeout=300_000)
            pr.settle()
            pr.step(pr.nav("Home"), pg.get_by_role("heading", name="VMoNF Explorer"))
            out["back to Playground with results"] = pr.step(pr.nav("Playground"), pg.get_by_text("Train time (s)"))
            pr.step(set_number(pg, "Epochs", "3000"))
            pr.step(train, first_epoch, settle=False, text=EPOCH)
            pg.wait_for_timeout(1500)
            out["Stop -> stopped shown"] = pr.step(lambda: pg.locator(".st-key-pg_stop button").first.click(),
                                                   pg.get_by_text(re.compile(r"stopped: epoch")), settle=False,
                                                   text=r"stopped: epoch")
            pr.settle()
        if "lesson" in which:
            out["Playground -> lesson"] = pr.step(pr.nav("Two circles lesson"),
                                                  pg.get_by_role("button", name="Train without labels"))
            pr.step(lambda: pg.get_by_role("button", name="Train without labels").click(),
                    pg.get_by_role("button", name="Rerun it"), timeout=300)
            pg.get_by_text(re.compile(r"done: epoch")).first.wait_for(timeout=300_000)
            pr.settle()
            out["lesson: rerun a start -> first epoch"] = pr.step(
                lambda: pg.get_by_role("button", name="Rerun it").click(), pg.get_by_text(re.compile(r"running: epoch [1-9]")),
                settle=False, text=r"running: epoch [1-9]")
            pg.get_by_text(re.compile(r"^Rerun of ")).first.wait_for(timeout=300_000)
            pr.settle()
            pg.get_by_role("button", name="Next: add labels").click()
            pg.get_by_role("button", name=re.compile(r"Label 16 points per circle")).wait_for(timeout=60_000)
            pr.settle()
            out["lesson: label 16 per circle"] = pr.step(
                lambda: pg.get_by_role("button", name=re.compile(r"Label 16 points per circle")).click())
        if "mnist" in which:
            out["Playground -> MNIST"] = pr.step(pr.nav("MNIST digits"), pg.get_by_role("button", name="Train"))
            def add_five() -> None:
                box = pg.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").locator("input")
                box.click()
                box.fill("5")
                box.press("Enter")
                box.press("Escape")
            out["MNIST: change digits"] = pr.step(add_five)
            out["MNIST: Train -> first epoch"] = pr.step(lambda: pg.locator(".st-key-mn_train button").first.click(),
                                                         pg.get_by_text(re.compile(r"running: epoch [1-9]")), timeout=300,
                                                         settle=False, text=r"running: epoch [1-9]")
            pg.locator(".st-key-mn_stop button").first.click()
        if pg.locator("text=Traceback").count():
            raise SystemExit("a traceback on the page")
    finally:
        server.stop()
    return out


def pct(v: list[float], q: float) -> float:
    v = sorted(v)
    return v[max(0, min(len(v) - 1, int(round(q * len(v))) - 1))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--pages", default="playground,lesson,mnist")
    p.add_argument("--json", default=None)
    a = p.parse_args()
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, dict[str, float]]] = []
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=ARGS)
        for i in range(a.repeats):
            runs.append(one_session(b, a.pages.split(",")))
            print(f"repeat {i + 1}: " + ", ".join(f"{k} {v['settled']:.2f}" for k, v in runs[-1].items()), file=sys.stderr,
                  flush=True)
        b.close()
    print(f"| step | p50 s | p95 s | target | server s | KB | browser script s | layout s |  ({a.repeats} fresh servers)")
    print("|---|---|---|---|---|---|---|---|")
    for step in runs[0]:
        v = [r[step] for r in runs if step in r]
        s = [x["settled"] for x in v]
        med = lambda k, v=v: statistics.median(x.get(k, 0.0) for x in v)  # noqa: E731
        tgt = TARGETS.get(step)
        ok = "" if tgt is None else (" ✓" if pct(s, 0.5) <= tgt and pct(s, 0.95) <= 1.5 * tgt else " ✗")
        print(f"| {step} | {pct(s, 0.5):.2f} | {pct(s, 0.95):.2f} | {tgt if tgt is not None else '-'}{ok} | {med('server'):.2f} "
              f"| {med('KB'):.0f} | {med('script'):.2f} | {med('layout'):.2f} |")
    if a.json:
        from vmonf_core.runtime import provenance

        made_on = {**provenance(), "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv)}
        Path(a.json).write_text(json.dumps({"made_on": made_on, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
