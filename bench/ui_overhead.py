"""The engine's targets, measured in headless Chromium against `streamlit run app.py` (issue 9).

* cluster ready: seconds from the first page load until Home reports a worker ready (embedded local cluster);
* click -> first progress, "done" -> the scores shown, Stop -> stopped, and the app's "Train time" against the CLI's `seconds`
  (same preset and seed, one torch thread);
* `--sessions 6`: six browser sessions click Train at once; p95 click -> first progress (a queued job counts once it
  shows its position) and whether every session finishes; with `--scheduler ADDR` it reports which workers ran jobs.

Usage: python bench/ui_overhead.py [--sessions 6] [--scheduler tcp://127.0.0.1:8786]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from scripts.app_server import ARGS, AppServer  # noqa: E402

PROGRESS = re.compile(r"(queued: position|running: |done: epoch)")  # the job is visibly queued or running


def cli_seconds(seed: int = 0) -> float:
    out = Path(tempfile.mkdtemp()) / "run"
    subprocess.run([sys.executable, "-m", "vmonf_core", "train", "--preset", "pinwheel", "--seed", str(seed), "--threads", "1",
                    "--quiet", "--out", str(out)], cwd=ROOT, check=True, capture_output=True, env={**os.environ, "VMONF_SCHEDULER": ""})
    return json.loads((out / "metrics.json").read_text())["seconds"]


def _wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sessions", type=int, default=1)
    p.add_argument("--scheduler", default="")
    a = p.parse_args()
    from playwright.sync_api import sync_playwright

    app = AppServer({"VMONF_SCHEDULER": a.scheduler})
    url = app.url
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    try:
        home = b.new_page()
        t0 = time.perf_counter()
        home.goto(url)
        home.get_by_text("Compute device").wait_for(timeout=120_000)
        t_loaded = time.perf_counter()
        home.get_by_text(re.compile(r"worker(s)? ready")).wait_for(timeout=120_000)
        t_ready = time.perf_counter()
        print(f"home loaded in {t_loaded - t0:.1f} s; cluster ready {t_ready - t0:.1f} s after the first page load")
        pages = [b.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in range(a.sessions)]
        for pg in pages:
            pg.goto(url + "/playground")
            pg.get_by_role("button", name="Train").wait_for(timeout=120_000)
            _wait_idle(pg)
        lat = []
        for pg in pages:
            t = time.perf_counter()
            pg.get_by_role("button", name="Train").click()
            pg.get_by_text(PROGRESS).first.wait_for(timeout=120_000)
            lat.append(time.perf_counter() - t)
            if a.sessions == 1:
                pg.get_by_text(re.compile(r"running: epoch")).first.wait_for(timeout=120_000)
                print(f"click -> first epoch record shown {time.perf_counter() - t:.2f} s")
        if a.sessions == 1:
            pg = pages[0]
            pg.get_by_text(re.compile(r"done: epoch")).first.wait_for(timeout=300_000)
            t_done = time.perf_counter()
            pg.get_by_text("Train time (s)").wait_for(timeout=300_000)
            print(f"done shown -> scores shown {time.perf_counter() - t_done:.2f} s")
            app_s = float(pg.locator('[data-testid="stMetric"]').filter(has_text="Train time (s)").inner_text().split()[-1])
            cli_s = cli_seconds(0)
            print(f"click -> first progress {lat[0]:.2f} s; pinwheel seed 0: app Train time {app_s:.2f} s, "
                  f"CLI seconds {cli_s:.2f} s (x{app_s / cli_s:.2f})")
            box = pg.get_by_label("Epochs")
            box.fill("2000")
            box.press("Enter")
            _wait_idle(pg)
            pg.get_by_role("button", name="Train").click()
            pg.get_by_text(re.compile(r"running: epoch [1-9]")).first.wait_for(timeout=120_000)
            t = time.perf_counter()
            pg.locator(".st-key-pg_stop button").first.click()  # the header has its own "Stop" during reruns
            pg.get_by_text(re.compile(r"stopped: epoch")).first.wait_for(timeout=60_000)
            print(f"Stop -> stopped shown {time.perf_counter() - t:.2f} s")
        else:
            done = 0
            for pg in pages:
                pg.get_by_role("heading", name="Results").wait_for(timeout=900_000)
                done += pg.locator("text=Traceback").count() == 0
            p95 = sorted(lat)[max(0, int(round(0.95 * len(lat))) - 1)]
            print(f"{a.sessions} sessions: click -> first progress p95 {p95:.2f} s, median {statistics.median(lat):.2f} s; "
                  f"{done}/{a.sessions} finished with results")
            if a.scheduler:
                from distributed import Client

                with Client(a.scheduler, set_as_default=False) as c:
                    counts = c.run(lambda dask_worker: sum(1 for k in dask_worker.state.log if "vmonf-train" in str(k)))
                print("jobs seen per worker:", {w.split(":")[-1]: n > 0 for w, n in counts.items()})
    finally:
        b.close()
        pw.stop()
        app.stop()


if __name__ == "__main__":
    main()
