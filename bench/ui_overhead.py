"""UI benchmarks: time to interactive, live refresh rate, and training slow-down with the UI refreshing.

Starts `streamlit run app.py`, drives the playground in headless Chromium (Debian's
/usr/bin/chromium via Playwright), and compares the app's training time with the same
run headless (same settings, one torch thread as in the app).

Usage: python bench/ui_overhead.py [--epochs 40]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# With VMONF_PIN=1 the server (and the headless baseline) get core 0 and the browser core 1;
# by default everything shares the machine, as when a teacher runs app and browser on one laptop.
PIN_SERVER = ["taskset", "-c", "0"] if os.environ.get("VMONF_PIN") and (os.cpu_count() or 1) >= 2 else []


def headless_seconds(epochs: int) -> float:
    code = f"""
import torch; torch.set_num_threads(1)
from vmonf_core.datasets import make_toy, train_test_split
from vmonf_core.training import Trainer
x, y = make_toy("pinwheel", n=1000, noise=1.0, seed=0)
xtr, xte, _, _ = train_test_split(x, y, 0.2, seed=0)
model = dict(dim=2, n_components=5, flow="realnvp", depth=4, hidden=32, posterior_hidden=[64, 64], posterior_batch_norm=True,
             prior="uniform", restarts=4)
train = dict(t0=1.0, t_decay=1e-3, lr=1e-2, batch_size=128, epochs={epochs}, seed=0, init="spectral", init_epochs=15,
             pretrain_epochs=10)
print(Trainer(model, xtr, None, xte, train).run().seconds)
"""
    out = subprocess.run(PIN_SERVER + [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--port", type=int, default=8777)
    a = p.parse_args()
    from playwright.sync_api import sync_playwright

    if PIN_SERVER:
        os.sched_setaffinity(0, {1})  # this driver and the Chromium it start
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    t_start = time.perf_counter()
    proc = subprocess.Popen(PIN_SERVER + [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(a.port)], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{a.port}"
    try:
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        t_up = time.perf_counter()
        if True:
            page = b.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "/playground")
            page.get_by_role("button", name="Train").wait_for(timeout=120_000)
            t_interactive = time.perf_counter()
            second = b.new_page(viewport={"width": 1400, "height": 1000})
            t = time.perf_counter()
            second.goto(url + "/playground")
            second.get_by_role("button", name="Train").wait_for(timeout=120_000)
            t_second = time.perf_counter() - t
            second.close()
            box = page.get_by_label("Epochs")
            box.fill(str(a.epochs))
            box.press("Enter")
            page.wait_for_timeout(1500)
            page.get_by_role("button", name="Train").click()
            texts, stamps = [], []
            pat = re.compile(r"(running|queued): epoch \d+/\d+")
            while page.get_by_role("heading", name="Results").count() == 0:
                found = [t for t in page.locator("p").all_inner_texts() if pat.search(t)]
                if found and (not texts or found[0] != texts[-1]):
                    texts.append(found[0])
                    stamps.append(time.perf_counter())
                page.wait_for_timeout(100)
            page.get_by_text("Train time (s)").wait_for(timeout=60_000)
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Train time (s)").inner_text()
            app_seconds = float(metric.split()[-1])
    finally:
        b.close()
        pw.stop()
        proc.terminate()
    gaps = [t2 - t1 for t1, t2 in zip(stamps, stamps[1:])]
    hz = (len(gaps) / sum(gaps)) if gaps else float("nan")
    head = headless_seconds(a.epochs)
    print(f"server up after {t_up - t_start:.1f} s; playground interactive {t_interactive - t_up:.2f} s after the server was up "
          f"(first visit, includes importing torch/sklearn/plotly); a second visitor: {t_second:.2f} s")
    print(f"live view: {len(texts)} distinct progress updates, {hz:.2f} Hz while training")
    print(f"training {a.epochs} epochs (+15 init): app {app_seconds:.1f} s, headless {head:.1f} s, "
          f"slow-down {100 * (app_seconds / head - 1):+.0f}%")


if __name__ == "__main__":
    main()
