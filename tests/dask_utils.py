"""A real Dask cluster for tests: `dask scheduler` and two `dask worker` processes on 127.0.0.1, stopped by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env() -> dict[str, str]:
    import dask

    from vmonf_core.engine import LOCAL_CLUSTER_CONFIG

    cfg = dask.config.serialize(dask.config.merge(dask.config.config, LOCAL_CLUSTER_CONFIG))
    return dict(os.environ, PYTHONPATH=str(ROOT), DASK_INTERNAL_INHERIT_CONFIG=cfg)


class DaskCluster:
    """The processes of a scheduler and its workers; ``kill_worker`` simulates a crash."""

    def __init__(self, n_workers: int = 2) -> None:
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        env = cluster_env()
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        self.scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                           "--port", str(self.port), "--no-dashboard"], **quiet)
        self.workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1",
                                          "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0", "--name", f"w{i}"],
                                         **quiet) for i in range(n_workers)]
        self.wait_for_workers(n_workers)

    def client(self):
        from distributed import Client

        return Client(self.address, set_as_default=False, timeout="10s")

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        from distributed import Client

        end = time.time() + timeout
        while time.time() < end:
            try:
                with Client(self.address, set_as_default=False, timeout="5s") as c:
                    c.wait_for_workers(n, timeout=max(1, end - time.time()))
                    return
            except (OSError, TimeoutError):
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"the test Dask cluster did not get {n} workers")

    def stop(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in [*self.workers, self.scheduler]:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="session")
def dask_cluster():
    """One scheduler and two single-threaded workers for the whole session; yields the DaskCluster."""
    c = DaskCluster(2)
    yield c
    c.stop()


@pytest.fixture(scope="module")
def fresh_dask_cluster():
    """A cluster of its own for one module (the load test): no state left by earlier tests."""
    c = DaskCluster(2)
    yield c
    c.stop()


@pytest.fixture(scope="session", autouse=True)
def engine_on_cluster(dask_cluster):
    """Point the app (AppTests run it in this process) and the engine at the test cluster, for every test."""
    os.environ["VMONF_SCHEDULER"] = dask_cluster.address
    yield dask_cluster.address
