"""Load test: 6 concurrent browser sessions on one server, each training its own model on the test's Dask cluster
(`dask scheduler` + two `dask worker` processes, via VMONF_SCHEDULER).

Checks that every session finishes, that each sees only its own run (a different number of
epochs per session), and that the server stays responsive; prints p95 latencies.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
import urllib.request
from pathlib import Path

from browser_utils import requires_browser

pytestmark = requires_browser
SESSIONS = 6
APP_SCHEDULER = "fresh-cluster"  # its own `dask scheduler` + two `dask worker` processes


def _set_number(page, label: str, value: int) -> None:
    box = page.get_by_label(label)
    try:
        box.wait_for(timeout=60_000)
    except Exception:  # seen once in CI under full-suite load: the sidebar never drew; a user reloads the page
        Path("tests/artifacts").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"tests/artifacts/load_no_{label.lower().replace(' ', '_')}.png")
        page.reload()
        box.wait_for(timeout=90_000)
    box.fill(str(value))
    box.press("Enter")
    _idle(page)


def _idle(page) -> None:
    """Wait until the app has finished its rerun (the status widget disappears)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def test_six_concurrent_sessions_train_in_isolation(browser, server, fresh_dask_cluster):
    dask_cluster = fresh_dask_cluster
    contexts = [browser.new_context(viewport={"width": 1300, "height": 1000}) for _ in range(SESSIONS)]
    pages = [c.new_page() for c in contexts]
    pages[0].goto(server + "/playground")  # one visit first: the server's first page load imports torch and the app
    pages[0].get_by_role("button", name="Train").wait_for(timeout=90_000)
    for page in pages[1:]:
        page.goto(server + "/playground")
    for i, page in enumerate(pages):
        page.get_by_role("button", name="Train").wait_for(timeout=90_000)
        _set_number(page, "Epochs", 3 + i)
        _set_number(page, "Restarts", 1)
        _set_number(page, "Data seed", 10 + i)
    for page in pages:
        page.wait_for_timeout(500)
    with dask_cluster.client() as c:
        dask_cluster.wait_for_workers(2)
        end = time.time() + 180  # start from an idle cluster: earlier tests' stopped runs may still be winding down
        while time.time() < end and any(c.run(lambda dask_worker: dask_worker.state.executing_count).values()):
            time.sleep(1)
        before = c.run(lambda dask_worker: dask_worker.state.executed_count)

    # health-check latency while everybody trains
    health: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            urllib.request.urlopen(server + "/_stcore/health", timeout=10).read()
            health.append(time.perf_counter() - t)
            time.sleep(0.2)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    click_latency = []
    retried = 0
    nudged = 0
    Path("tests/artifacts").mkdir(parents=True, exist_ok=True)
    progress = re.compile(r"(queued: position|running: |done: epoch)")
    for n, page in enumerate(pages):  # all six start (one or two train at a time, the rest queue)
        t = time.perf_counter()
        for _attempt in range(3):  # under load a click can land mid-rerun and be dropped; a user clicks again
            _idle(page)
            page.get_by_role("button", name="Train").click()
            try:
                page.get_by_text(progress).first.wait_for(timeout=40_000)
                break
            except Exception:
                retried += 1
        else:
            for m, p in enumerate(pages):
                p.screenshot(path=f"tests/artifacts/load_{m}.png")
            raise AssertionError(f"session {n} showed no progress after three clicks on Train")
        click_latency.append(time.perf_counter() - t)
    try:
        for page in pages:
            done = page.get_by_text(re.compile(r"done: epoch \d+/\d+")).first
            try:
                done.wait_for(timeout=420_000)
            except Exception:
                for m, p in enumerate(pages):
                    p.screenshot(path=f"tests/artifacts/load_done_{m}.png")
                raise
            total = int(re.search(r"done: epoch (\d+)/", done.inner_text()).group(1))
            own = int(page.get_by_label("Epochs").input_value())
            assert total == 15 + own  # this session's own run (15 spectral-init epochs + its epochs), nobody else's
            try:
                page.get_by_role("heading", name="Results").wait_for(timeout=120_000)
            except Exception:  # seen once under full-suite load: the finished run's page did not rerun by itself
                page.screenshot(path=f"tests/artifacts/load_results_{pages.index(page)}.png")
                nudged += 1
                page.keyboard.press("r")  # Streamlit's own "rerun" shortcut, as a user would
                page.get_by_role("heading", name="Results").wait_for(timeout=120_000)
            assert page.locator("text=Traceback").count() == 0
        totals = {int(p.get_by_label("Epochs").input_value()) for p in pages}
        assert len(totals) == SESSIONS  # the sessions really ran different settings
        with dask_cluster.client() as c:  # both workers of the cluster trained
            after = c.run(lambda dask_worker: dask_worker.state.executed_count)
        busy = [w for w in after if after[w] > before.get(w, 0)]
        assert len(busy) == 2, (before, after)
    finally:
        stop.set()
        prober.join(5)
        for c in contexts:
            c.close()
    p95 = lambda v: sorted(v)[max(0, int(round(0.95 * len(v))) - 1)]
    print(f"\nload: {SESSIONS} sessions; click-to-progress p95 {p95(click_latency):.2f}s (median {statistics.median(click_latency):.2f}s); "
          f"health p95 {1e3 * p95(health):.0f} ms over {len(health)} probes; {retried} click(s) had to be repeated; "
          f"{nudged} page(s) needed a rerun to show their results")
    # latency targets live in bench/ui_overhead.py (README); this test asserts isolation, completion and both workers
    assert len(health) > 0 and len(click_latency) == SESSIONS
