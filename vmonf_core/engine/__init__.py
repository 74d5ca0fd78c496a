"""Training outside the web server: every run is a task on a Dask distributed cluster.

The package, one job per module: :mod:`.settings` (``VMONF_*``), :mod:`.wire` (channel names and messages),
:mod:`.worker` (the tasks and plugins that run in a worker), :mod:`.cluster` (the embedded cluster's processes, a
remote scheduler's address), :mod:`.jobs` (the server's handle on a job), :mod:`.server` (the :class:`Engine`) and
:mod:`.sweeps` (sweep grids).

* **Cluster.** :class:`Engine` connects to ``VMONF_SCHEDULER`` (``tcp://HOST:PORT``, a cluster started with
  ``dask scheduler`` and ``dask worker ADDRESS``) or, when it is unset, starts an embedded local cluster of
  worker *processes* on first use: ``SubprocessCluster`` (a ``LocalCluster(processes=True)`` created from a
  Streamlit script fails, because spawn re-runs the script), ``VMONF_WORKERS`` workers (default
  ``max(1, cores - 1)``), one thread each.
* **Jobs.** :meth:`Engine.submit` sends :func:`train_task` to a worker. The task runs
  :func:`vmonf_core.experiments.run`, the same function as the CLI, and returns plain data (state dicts,
  metrics, history, config, and the trainer's state when stopped, for Resume).
* **Progress** travels through a Dask ``Queue`` per job. A queue, rather than pub/sub or a ``Variable``: it keeps
  every epoch record in order until the page drains it (pub/sub drops what is published before anyone subscribes,
  a Variable keeps only the latest value), and one ``get(batch=True)`` per page refresh fetches all that is new.
  The worker flushes five times a second, from a helper thread, so the training loop never waits on the network.
* **Stop** is a Dask ``Event`` per job; the helper thread checks it every 0.2 s and sets the trainer's local stop
  flag, which is honoured within one minibatch step.
* **Fairness.** One active job per owner (a browser session): a new one replaces the old. A queue cap, and a lease:
  a job whose owner has not polled for ``lease`` seconds (its tab was closed) is cancelled.

Example:
    >>> eng = Engine()                                            # doctest: +SKIP
    >>> job = eng.submit("me", resolve("pinwheel"), load_data(resolve("pinwheel")))  # doctest: +SKIP
    >>> while not job.finished: job.poll(); time.sleep(0.5)      # doctest: +SKIP
"""

from __future__ import annotations

from .cluster import LOCAL_CLUSTER_CONFIG, check_reachable, connect_remote
from .jobs import LOST_LOCAL, Job, SchedulerLost, worker_info
from .server import Engine, QueueFull
from .settings import CONNECT_TIMEOUT, DEFAULT_MAX_QUEUE, OWNER_GRACE, REAP_INTERVAL, RECONNECT_GRACE, EngineSettings, settings_from_env
from .sweeps import sweep_configs
from .wire import BASELINE_FIELDS, PREVIEW_FRAMES, SWEEP_FIELDS, TERMINAL, JobLost, model_from_result, pack, preview_stride, unpack
from .worker import SchedulerWarmup, Warmup, sweep_task, train_task

__all__ = ["Engine", "EngineSettings", "Job", "JobLost", "QueueFull", "SchedulerLost", "settings_from_env", "train_task",
           "sweep_task", "pack", "unpack", "SWEEP_FIELDS", "model_from_result", "sweep_configs", "preview_stride",
           "LOCAL_CLUSTER_CONFIG", "check_reachable", "connect_remote", "worker_info", "LOST_LOCAL", "CONNECT_TIMEOUT",
           "DEFAULT_MAX_QUEUE", "OWNER_GRACE", "REAP_INTERVAL", "RECONNECT_GRACE", "BASELINE_FIELDS", "PREVIEW_FRAMES",
           "TERMINAL", "SchedulerWarmup", "Warmup"]
