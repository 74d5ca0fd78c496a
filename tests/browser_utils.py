"""Shared fixtures for browser tests: a live `streamlit run app.py` server and Debian's Chromium."""

from __future__ import annotations

import os
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

try:
    import playwright.sync_api as playwright
except ImportError:  # pragma: no cover
    playwright = None

# In CI a missing browser is a failure, not a skip: .ci/run installs Chromium and Playwright.
_missing = playwright is None or not Path(CHROMIUM).exists()
if _missing and os.environ.get("CI"):
    raise RuntimeError(f"browser tests need playwright and {CHROMIUM} (apt-get install chromium)")
requires_browser = pytest.mark.skipif(_missing, reason="no playwright or chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(request):
    """Start the app on a free loopback port; yields its URL. Its engine is the embedded local cluster, unless the
    module sets ``APP_SCHEDULER = "test-cluster"`` to point it (VMONF_SCHEDULER) at the test's dask scheduler;
    a module's ``APP_ENV`` adds environment settings."""
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), VMONF_SCHEDULER="", **getattr(request.module, "APP_ENV", {}))
    if getattr(request.module, "APP_SCHEDULER", None) == "test-cluster":
        env["VMONF_SCHEDULER"] = request.getfixturevalue("dask_cluster").address
    elif getattr(request.module, "APP_SCHEDULER", None) == "fresh-cluster":
        env["VMONF_SCHEDULER"] = request.getfixturevalue("fresh_dask_cluster").address
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
    """One headless Chromium for the module."""
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


