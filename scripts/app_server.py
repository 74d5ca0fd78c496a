"""A `streamlit run app.py` of this checkout on a free loopback port, for the browser tests, the benches and the
screenshots: started, waited for (its health endpoint) and stopped by its own PID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # Chromium's launch args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """Start the app (``env`` added to this process's environment; the engine is its embedded local cluster unless
    ``VMONF_SCHEDULER`` is given) and wait up to ``timeout`` seconds for it to answer; :attr:`url` is its address."""

    def __init__(self, env: dict[str, str] | None = None, timeout: float = 60.0) -> None:
        self.port = free_port()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
             str(self.port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "VMONF_SCHEDULER": "", **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(self.url + "/_stcore/health", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("streamlit did not start")

    def stop(self) -> None:
        """Stop it by its PID (SIGTERM, then SIGKILL after 20 s)."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
