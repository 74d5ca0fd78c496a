"""One engine per server process: the Dask client, the registry of active jobs, the lease reaper and sweeps."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .cluster import connect_remote, kill_cluster_processes, process_alive, quiet_close, start_local_cluster
from .jobs import LOST_LOCAL, Job, SchedulerLost
from .settings import OWNER_GRACE, REAP_INTERVAL, RECONNECT_GRACE, EngineSettings, settings_from_env
from .wire import PREVIEW_FRAMES
from .worker import SchedulerWarmup, Warmup, sweep_task

if TYPE_CHECKING:
    from ..experiments import Data

__all__ = ["Engine", "QueueFull"]


class QueueFull(ValueError):
    """The server's training queue is at its cap."""


class Engine:
    """One per server process: the Dask client, the registry of active jobs, and the lease reaper.

    Args:
        settings: where to run (default: :func:`settings_from_env`).
    """

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or settings_from_env()
        self._client = None
        self._cluster = None
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._reaper: threading.Thread | None = None
        self._closed = threading.Event()
        self._workers_cache: tuple[float, dict[str, Any]] = (0.0, {})
        # Whether a job's owner (a browser session) is still connected: True, False or None (unknown: the lease
        # decides). The app sets it from Streamlit's runtime; vmonf_core never imports streamlit.
        self.owner_alive: Callable[[str], bool | None] | None = None
        self._unconnected_since: float | None = None  # when the client's connection to the scheduler broke

    @property
    def client(self):
        """The Dask client, connecting (or starting the local cluster) on first use, and again after
        :meth:`check_scheduler` found the embedded cluster's scheduler gone."""
        with self._lock:
            if self._client is None:
                from distributed import Client

                if self._closed.is_set():
                    raise ValueError("the training engine has been shut down")
                if self.settings.scheduler:
                    self._client = connect_remote(self.settings.scheduler)
                else:
                    self._cluster = start_local_cluster(self.settings.workers)
                    self._client = Client(self._cluster, set_as_default=False)
                threading.Thread(target=self._warm_up, daemon=True, name="vmonf-warmup").start()
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._reap, daemon=True, name="vmonf-lease-reaper")
                    self._reaper.start()
            return self._client

    def check_scheduler(self, restart: bool = False) -> None:
        """Raise :class:`SchedulerLost` in one sentence, at once, when the scheduler is gone.

        Dask's client keeps trying to reconnect for its connect timeout (30 s) before anything fails; what is known
        at once is the embedded scheduler's process (gone or a zombie) and the client's own status (its connection
        to the scheduler closed: ``connecting``, ``closing``, ``closed``). Neither touches the network, so a
        remote scheduler's log is not filled with probes. A lost embedded cluster is discarded (its surviving
        processes killed, its jobs failed) so that the next use of :attr:`client` starts a fresh one; with
        ``restart`` (a new job is about to be submitted) that is all, nothing is raised. A client that is
        reconnecting gets :data:`RECONNECT_GRACE` seconds (a network blip is not a lost scheduler).
        """
        client = self._client
        if client is None:
            return
        why = None
        proc = getattr(getattr(self._cluster, "scheduler", None), "process", None)
        if proc is not None and getattr(proc, "pid", None) and not process_alive(proc.pid):
            why = "its process ended"
        elif getattr(client, "status", "running") in ("connecting", "closing", "closed"):
            since = self._unconnected_since = self._unconnected_since or time.monotonic()
            if time.monotonic() - since >= RECONNECT_GRACE or client.status == "closed":
                why = f"the connection to it is {client.status}"
        else:
            self._unconnected_since = None
        if why is None:
            return
        with self._lock:
            if self.settings.scheduler:
                raise SchedulerLost(f"lost contact with the Dask scheduler at {self.settings.scheduler} ({why})")
            if self._client is client:
                self._discard_local_cluster()
        if not restart:
            raise SchedulerLost(LOST_LOCAL)

    def _discard_local_cluster(self) -> None:
        """Forget the embedded cluster after its scheduler died: kill what is left of it, fail its jobs."""
        cluster, client = self._cluster, self._client
        self._client = self._cluster = None
        kill_cluster_processes(cluster)
        for job in list(self._jobs.values()):
            job._fail(LOST_LOCAL)
        if client is not None:  # its reconnect attempts would log for 30 s; closed off the caller's thread
            threading.Thread(target=lambda: quiet_close(client), daemon=True, name="vmonf-client-close").start()

    def _warm_up(self) -> None:
        try:
            self._client.register_plugin(SchedulerWarmup(), name="vmonf-scheduler-warmup")
            self._client.register_plugin(Warmup(), name="vmonf-warmup")
        except Exception:  # an optimisation only: jobs run without it
            pass

    @property
    def started(self) -> bool:
        """Whether the client exists (the local cluster may still be starting otherwise)."""
        return self._client is not None

    def workers(self, max_age: float = 2.0) -> dict[str, Any]:
        """``{address: info}`` of the cluster's workers (a cached answer up to ``max_age`` seconds old)."""
        t, cached = self._workers_cache
        if time.monotonic() - t > max_age or not cached:
            cached = self.client.scheduler_info(n_workers=-1)["workers"]
            self._workers_cache = (time.monotonic(), cached)
        return cached

    def resources_for(self, cfg: dict[str, Any]) -> dict[str, float] | None:
        """Jobs that want CUDA ask for a ``GPU`` worker: ``device="cuda"`` always; ``mnist-thesis`` when one exists."""
        device = cfg.get("train", {}).get("device", "auto")
        if device == "cuda":
            return {"GPU": 1}
        if cfg.get("preset") == "mnist-thesis" and any(w.get("resources", {}).get("GPU") for w in self.workers().values()):
            return {"GPU": 1}
        return None

    def kill(self) -> None:
        """End at once, for Ctrl-C and SIGTERM: the local cluster's processes (and their children) are killed, the
        client is dropped without the handshakes of :meth:`close` (which can take seconds). A remote cluster is left
        running; its futures die with the client's connection."""
        import logging

        self._closed.set()
        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # the client's reconnect attempts are expected now
        cluster = self._cluster
        self._client = self._cluster = None
        kill_cluster_processes(cluster)

    def close(self) -> None:
        """Stop the jobs and close the client and the embedded cluster; one whose scheduler is gone is killed."""
        try:
            self.check_scheduler(restart=True)  # a dead embedded scheduler: its remains are killed
        except SchedulerLost:  # a remote one is gone: nothing to hand back
            self.kill()
            return
        self._closed.set()
        with self._lock:
            for job in list(self._jobs.values()):
                job.stop()
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                try:
                    self._cluster.close()
                except Exception:  # noqa: BLE001 (its scheduler hung up while retiring the workers: a reset
                    kill_cluster_processes(self._cluster)  # connection seen in the suite); kill what is left
            self._client = self._cluster = None

    def submit(self, owner: str, cfg: dict[str, Any], data: Data, preview: dict[str, Any] | None = None,
               preview_frames: int = PREVIEW_FRAMES, trainer_state: dict[str, Any] | None = None,
               history: list[dict[str, Any]] | None = None) -> Job:
        """Queue a training job for ``owner``; the owner's earlier active job is stopped first.

        Raises:
            QueueFull: the server already has ``max_queue`` active jobs.
            SchedulerLost: the remote scheduler stopped (an embedded one is restarted for this job).
        """
        self.check_scheduler(restart=True)  # a dead embedded cluster is replaced, not waited for
        with self._lock:
            for job in [j for j in self._jobs.values() if j.owner == owner]:
                job.stop()
                self._forget(job)
            if len(self._jobs) >= self.settings.max_queue:
                raise QueueFull(f"the training queue is full ({len(self._jobs)} runs are waiting or running on this "
                                "server); try again in a minute")
            job = Job(self, owner, cfg, data, preview, preview_frames, trainer_state, history)
            self._jobs[job.id] = job
            return job

    def active(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.submitted)

    def queue_position(self, job: Job) -> int:
        """1-based position among this server's queued jobs (0 when not queued)."""
        queued = [j for j in self.active() if j.status == "queued"]
        return queued.index(job) + 1 if job in queued else 0

    def next_free_seconds(self) -> float | None:
        """The shortest remaining time of the running jobs (when the next worker frees up), if known."""
        etas = [j.history[-1]["eta"] for j in self.active() if j.status == "running" and j.history
                and j.history[-1].get("eta") == j.history[-1].get("eta")]
        return min(etas) if etas else None

    def _forget(self, job: Job) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)

    def _reap(self) -> None:
        """Cancel jobs whose page is gone: its session disconnected for :data:`OWNER_GRACE` seconds (a closed tab,
        when :attr:`owner_alive` can tell), or it stopped polling for the lease."""
        gone_since: dict[str, float] = {}
        while not self._closed.wait(REAP_INTERVAL):
            now = time.monotonic()
            for job in self.active():
                alive = None
                if self.owner_alive is not None:
                    try:
                        alive = self.owner_alive(job.owner)
                    except Exception:  # noqa: BLE001 (unknown: the lease decides)
                        alive = None
                if alive is False:
                    gone_since.setdefault(job.id, now)
                else:
                    gone_since.pop(job.id, None)
                if alive is False and now - gone_since[job.id] >= OWNER_GRACE:
                    reason = "cancelled: its browser tab was closed"
                elif now - job.last_poll > self.settings.lease:
                    reason = (f"cancelled: its page did not ask for progress for {self.settings.lease:.0f} s "
                              "(the tab was closed)")
                else:
                    continue
                job.stop(reason=reason)
                if job.status == "stopping":  # let the stopped task finish; nobody will fetch its result
                    self._forget(job)
            active = {job.id for job in self.active()}
            for job_id in [j for j in gone_since if j not in active]:  # ended or cancelled: not watched any more
                del gone_since[job_id]

    def sweep(self, configs: Iterable[dict[str, Any]], on_record: Callable[[dict[str, Any]], None] | None = None,
              data: Data | None = None, with_baselines: bool = False) -> list[dict[str, Any]]:
        """Run every configuration in parallel on the cluster; returns one record per config (in the given order).

        ``data``: one dataset for every cell (else each loads its config's, split by its seed); ``with_baselines``:
        each record also carries k-means', GaussianMixture's and spectral clustering's metrics on its split."""
        from distributed import as_completed

        configs = list(configs)
        client = self.client
        futures = [client.submit(sweep_task, cfg, data, with_baselines, key=f"vmonf-sweep-{uuid.uuid4().hex[:12]}", pure=False,
                                 resources=self.resources_for(cfg)) for cfg in configs]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[dict[str, Any] | None] = [None] * len(futures)
        try:
            for fut in as_completed(futures, loop=client.loop):
                rec = fut.result()
                out[index[fut.key]] = rec
                if on_record is not None:
                    on_record(rec)
        finally:
            client.cancel([f for f in futures if not f.done()])
        return [r for r in out if r is not None]
