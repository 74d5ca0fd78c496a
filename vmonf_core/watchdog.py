"""A Dask preload for the embedded cluster's processes: each one exits when the process that started it is gone.

The app's server (or the CLI) starts the embedded cluster's scheduler and nannies; each nanny starts its worker.
On SIGTERM and SIGINT their owner closes them, but an owner that crashes or is killed (``kill -9``, the OOM killer)
runs no clean-up, and Dask's processes then kept running, holding ports and memory (issue 25 row 13: 46 minutes,
until killed by PID). With this module in ``distributed.{scheduler,nanny,worker}.preload`` (see
:data:`vmonf_core.engine.LOCAL_CLUSTER_CONFIG`), every process watches its parent: when it is reparented (its
parent died), it exits within :data:`INTERVAL` seconds. A worker's parent is its nanny, so the chain unwinds from
the top. A user's own ``dask scheduler`` and ``dask worker`` never load it.

The same preload makes these processes ignore SIGINT. A Ctrl-C in a terminal reaches the whole process group, so
the worker and the nanny used to start closing on their own while their owner (the CLI's sweep, the app's server)
was killing them, and printed a page of tracebacks from connections cut mid-close (seen in the suite under load).
Their owner handles Ctrl-C and ends them; SIGTERM still closes them gracefully.

Example (where the embedded cluster's configuration names it):
    >>> from vmonf_core.engine import LOCAL_CLUSTER_CONFIG
    >>> [LOCAL_CLUSTER_CONFIG["distributed"][s]["preload"] for s in ("scheduler", "nanny", "worker")]
    [['vmonf_core.watchdog'], ['vmonf_core.watchdog'], ['vmonf_core.watchdog']]
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

INTERVAL = 1.0  # seconds between two looks at the parent process


def _watch(parent: int) -> None:
    while True:
        time.sleep(INTERVAL)
        if os.getppid() != parent:  # reparented: whoever started this process is gone
            os._exit(0)


def dask_setup(server: Any) -> None:
    """Ignore SIGINT, and start watching this process's parent (once per process)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: the process keeps its handler
        pass
    if any(t.name == "vmonf-parent-watch" for t in threading.enumerate()):
        return
    threading.Thread(target=_watch, args=(os.getppid(),), daemon=True, name="vmonf-parent-watch").start()
