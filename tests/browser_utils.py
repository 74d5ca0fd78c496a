"""Shared fixtures for browser tests: a live `streamlit run app.py` server and Debian's Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scripts.app_server import ARGS, ROOT, AppServer

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
__all__ = ["ARGS", "ROOT", "CHROMIUM", "requires_browser", "server", "browser"]

try:
    import playwright.sync_api as playwright
except ImportError:  # pragma: no cover
    playwright = None

# In CI a missing browser is a failure, not a skip: .ci/run installs Chromium and Playwright.
_missing = playwright is None or not Path(CHROMIUM).exists()
if _missing and os.environ.get("CI"):
    raise RuntimeError(f"browser tests need playwright and {CHROMIUM} (apt-get install chromium)")
requires_browser = pytest.mark.skipif(_missing, reason="no playwright or chromium")


@pytest.fixture(scope="module")
def server(request):
    """Start the app on a free loopback port; yields its URL. Its engine is the embedded local cluster, unless the
    module sets ``APP_SCHEDULER = "test-cluster"`` to point it (VMONF_SCHEDULER) at the test's dask scheduler;
    a module's ``APP_ENV`` adds environment settings."""
    env = dict(getattr(request.module, "APP_ENV", {}))
    if getattr(request.module, "APP_SCHEDULER", None) == "test-cluster":
        env["VMONF_SCHEDULER"] = request.getfixturevalue("dask_cluster").address
    elif getattr(request.module, "APP_SCHEDULER", None) == "fresh-cluster":
        env["VMONF_SCHEDULER"] = request.getfixturevalue("fresh_dask_cluster").address
    try:
        app = AppServer(env)
    except RuntimeError as e:
        pytest.fail(str(e))
    yield app.url
    app.stop()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


