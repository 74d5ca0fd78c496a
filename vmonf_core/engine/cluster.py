"""The cluster itself: the embedded local cluster's processes (started, killed, watched) and the connection to a
remote scheduler, checked within seconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .settings import CONNECT_TIMEOUT, SCHEDULER_ADDRESS

__all__ = ["LOCAL_CLUSTER_CONFIG", "connect_remote", "check_reachable", "start_local_cluster", "kill_cluster_processes",
           "process_alive", "quiet_close"]


ROOT = Path(__file__).resolve().parents[2]  # the repository: the spawned processes import vmonf_core from it


# Config of the embedded cluster's processes (passed to them through DASK_INTERNAL_INHERIT_CONFIG).
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed": {
        # Workers start with MALLOC_TRIM_THRESHOLD_=65536 by default, measured here to make a pinwheel run
        # 1.7-2x slower than the CLI; None unsets it (the DASK_... env-var form lowercases the key: no effect).
        "nanny": {"pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": None}, "preload": ["vmonf_core.watchdog"]},
        # one job per worker thread; the rest wait on the scheduler, in submission order
        "scheduler": {"worker-saturation": 1.0, "preload": ["vmonf_core.watchdog"]},
        # every process of the cluster exits when the process that started it is gone (a crashed owner)
        "worker": {"preload": ["vmonf_core.watchdog"]},
    },
    "logging": {"distributed.preloading": "warning"},  # not two INFO lines per process in the server's terminal
}


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise ``ValueError`` in one sentence, within ``timeout`` seconds, unless ``address``'s port accepts a TCP
    connection. Checked before Dask's client connects: its own failure path takes 20 s and logs tracebacks."""
    import socket

    m = SCHEDULER_ADDRESS.fullmatch(address)
    if m is None:
        raise ValueError(f"not a scheduler address such as tcp://127.0.0.1:8786: {address!r}")
    host, port = m.group(2).strip("[]"), int(m.group(3))
    if not 0 < port < 65536:
        raise ValueError(f"the scheduler address {address!r} has no valid port")
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        why = "timed out" if isinstance(e, TimeoutError | socket.timeout) else (e.strerror or type(e).__name__).lower()
        raise ValueError(f"cannot reach the Dask scheduler at {address} ({why} within {timeout:.0f} s)") from None


def connect_remote(address: str):
    """A Dask client of the scheduler at ``address``, or ``ValueError`` in one sentence within about 10 s: the port is
    tried first (:func:`check_reachable`), then the handshake. Something that accepts connections but is not a
    scheduler (seen: a reply read as a giant message length, a ``MemoryError``) is said as such, and the failed
    client is closed at once (its own clean-up waited 20 s and printed a traceback)."""
    import asyncio

    from distributed import Client
    from distributed.comm import connect

    check_reachable(address)

    async def identity() -> dict:
        comm = await connect(address, timeout=CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity"})
            return await asyncio.wait_for(comm.read(), CONNECT_TIMEOUT)
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), 2 * CONNECT_TIMEOUT))
        if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
            raise TypeError(f"it answered as {reply.get('type') if isinstance(reply, dict) else type(reply).__name__}")
    except (OSError, TimeoutError, MemoryError, ValueError, TypeError, EOFError) as e:
        raise ValueError(f"cannot connect to the Dask scheduler at {address}: it does not answer as one "
                         f"({str(e)[:60] if isinstance(e, TypeError) else type(e).__name__})") from None
    return Client(address, set_as_default=False, timeout=f"{2 * CONNECT_TIMEOUT:.0f}s")


def start_local_cluster(n_workers: int):
    """The embedded cluster: a scheduler and ``n_workers`` single-threaded worker processes on 127.0.0.1."""
    import dask
    from distributed.deploy.subprocess import SubprocessCluster

    overrides = {
        "DASK_INTERNAL_INHERIT_CONFIG": dask.config.serialize(dask.config.merge(dask.config.config, LOCAL_CLUSTER_CONFIG)),
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)  # the spawned processes inherit these; restored right after
    try:
        return SubprocessCluster(host="127.0.0.1", n_workers=n_workers, threads_per_worker=1, dashboard_address=None,
                                 worker_kwargs={"memory_limit": 0})
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def kill_cluster_processes(cluster: Any) -> None:
    """Kill an embedded cluster's scheduler and worker processes with their children (``None``: nothing)."""
    import psutil

    procs = []
    if cluster is not None:
        for spec in [getattr(cluster, "scheduler", None), *getattr(cluster, "workers", {}).values()]:
            proc = getattr(spec, "process", None)
            if proc is not None and getattr(proc, "pid", None):
                try:
                    root = psutil.Process(proc.pid)
                    procs += [*root.children(recursive=True), root]
                except psutil.NoSuchProcess:
                    pass
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=0.2)  # SIGKILL is not refused; zombies wait for their reaper


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped by its parent, does not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def quiet_close(client: Any) -> None:
    try:
        client.close(timeout=2)
    except Exception:  # noqa: BLE001 (its scheduler is gone: nothing to hand back)
        pass
