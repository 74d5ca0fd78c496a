"""Training outside the web server: every run is a task on a Dask distributed cluster.

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

import dataclasses
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin

if TYPE_CHECKING:
    from .experiments import Data

# torch and the model code load inside the functions that train (in the workers) or resolve presets: the server's
# engine client starts the local cluster before its page has imported torch (issue 20: a fresh Home sooner).

__all__ = ["Engine", "EngineSettings", "Job", "JobLost", "QueueFull", "SchedulerLost", "settings_from_env", "train_task", "sweep_task",
           "pack", "unpack", "SWEEP_FIELDS", "model_from_result"]

ROOT = Path(__file__).resolve().parent.parent

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

# tcp://host:port (or tls://); a host name, an IPv4 address or a bracketed IPv6 one; nothing else (no ";" and friends)
SCHEDULER_ADDRESS = re.compile(r"(tcp|tls)://([A-Za-z0-9][A-Za-z0-9.\-]*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")
CONNECT_TIMEOUT = 5.0  # seconds to reach a remote scheduler's port before saying it cannot be reached
DEFAULT_MAX_QUEUE = 32  # a class of 30 each pressing Train at once, and two more (issue 25)
RECONNECT_GRACE = 3.0  # seconds a client may be reconnecting before its scheduler counts as lost
REAP_INTERVAL = 1.0  # seconds between the reaper's looks at the active jobs
OWNER_GRACE = 4.0  # seconds a job's browser session may stay disconnected (a reconnecting tab) before it is cancelled
LOST_LOCAL = "lost contact with the training cluster (its scheduler stopped); press Train to start again on a new one"


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


SWEEP_FIELDS = ("preset", "seed", "init", "ari", "nmi", "accuracy", "elbo", "log_px", "test_log_likelihood",
                "seconds", "worker", "made_on")
TERMINAL = ("done", "stopped", "error", "cancelled")
# Preview frames per run, by training progress: the live view and the replay. About 10 ms each on the pinwheel
# (posterior on a 60 x 60 grid and 100 samples per component), so about 0.3 s per run.
PREVIEW_FRAMES = 30


class QueueFull(ValueError):
    """The server's training queue is at its cap."""


class SchedulerLost(ValueError):
    """The scheduler is gone (said in one sentence; see :meth:`Engine.check_scheduler`)."""


class JobLost(RuntimeError):
    """The worker process running a job died (killed, out of memory)."""


# --------------------------------------------------------------------- settings
@dataclasses.dataclass(frozen=True)
class EngineSettings:
    """Where jobs run and how many may wait. Read from the environment by :func:`settings_from_env`."""

    scheduler: str | None = None  # tcp://HOST:PORT of an external cluster; None = embedded local cluster
    workers: int = 1  # embedded cluster: worker processes (one thread each)
    max_queue: int = DEFAULT_MAX_QUEUE  # running + queued jobs of this server
    lease: float = 60.0  # seconds without a poll before a job is cancelled


def _env_int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {raw!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {raw!r}")
    return v


def settings_from_env(env: Mapping[str, str] | None = None) -> EngineSettings:
    """``VMONF_SCHEDULER``, ``VMONF_WORKERS``, ``VMONF_MAX_QUEUE``, ``VMONF_LEASE_SECONDS`` (and ``VMONF_MAX_MODEL_GB``), validated.

    Raises:
        ValueError: a setting is malformed (the message names it and the accepted range).
    """
    env = os.environ if env is None else env
    from .budget import limit_bytes

    limit_bytes(env)  # a malformed VMONF_MAX_MODEL_GB stops here, with the other settings
    scheduler = (env.get("VMONF_SCHEDULER") or "").strip() or None
    if scheduler is not None and not SCHEDULER_ADDRESS.fullmatch(scheduler):
        raise ValueError(f"VMONF_SCHEDULER must be a scheduler address such as tcp://127.0.0.1:8786, got {scheduler!r}")
    cores = os.cpu_count() or 2
    return EngineSettings(
        scheduler=scheduler,
        workers=_env_int(env, "VMONF_WORKERS", max(1, cores - 1), 1, 256),
        max_queue=_env_int(env, "VMONF_MAX_QUEUE", DEFAULT_MAX_QUEUE, 1, 10_000),
        lease=float(_env_int(env, "VMONF_LEASE_SECONDS", 60, 5, 86_400)),
    )


# ------------------------------------------------------------------ packing
def pack(obj: Any) -> Any:
    """Make ``obj`` msgpack-safe for Dask Queues: numpy arrays become ``{"__nd__": [dtype, shape, bytes]}``."""
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        return {"__nd__": [a.dtype.str, list(a.shape), a.tobytes()]}
    if isinstance(obj, dict):
        return {str(k): pack(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [pack(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def unpack(obj: Any) -> Any:
    """Inverse of :func:`pack`."""
    if isinstance(obj, dict):
        if set(obj) == {"__nd__"}:
            dtype, shape, raw = obj["__nd__"]
            return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape).copy()
        return {k: unpack(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):  # msgpack may hand sequences back as tuples
        return [unpack(v) for v in obj]
    return obj


# ------------------------------------------------------------------ worker side
class SchedulerWarmup(SchedulerPlugin):
    """A scheduler plugin that imports the model code in the scheduler when it is registered: the scheduler unpickles
    task graphs, so the first job that carries a ``Data`` would otherwise import torch and this package inside the
    scheduler (about 3 s, measured) on the first user's click. The import runs in a thread, off the event loop."""

    name = "vmonf-scheduler-warmup"

    async def start(self, scheduler: Any) -> None:
        import importlib

        threading.Thread(target=importlib.import_module, args=("vmonf_core.experiments",), daemon=True,
                         name="vmonf-scheduler-imports").start()


class Warmup(WorkerPlugin):
    """A Dask worker plugin: pay each worker's one-time costs (imports, the optimizer's first construction,
    about 2 s) when it starts, not inside the first user's job."""

    idempotent = True

    def setup(self, worker: Any) -> None:
        import torch

        from . import experiments, training  # noqa: F401
        from .metrics import warm_imports
        from .runtime import configure_torch

        warm_imports()  # scikit-learn and scipy: the spectral and k-means starts, the baselines
        configure_torch(1)
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
        # the worker's own client (progress queue, stop event) takes ~3 s to connect the first time: do it now
        threading.Thread(target=worker._get_client, daemon=True, name="vmonf-warm-client").start()
        if "vmonf-trim" not in worker.periodic_callbacks:
            from tornado.ioloop import PeriodicCallback

            seen = {"transitions": -1}
            pc = PeriodicCallback(lambda: _trim_when_idle(worker, seen), TRIM_INTERVAL * 1000)
            worker.periodic_callbacks["vmonf-trim"] = pc  # stopped with the worker
            pc.start()

    def teardown(self, worker: Any) -> None:
        pc = worker.periodic_callbacks.pop("vmonf-trim", None)
        if pc is not None:
            pc.stop()


TRIM_INTERVAL = 5.0  # seconds between an idle worker's looks at whether a finished job left memory to hand back


def _trim_when_idle(worker: Any, seen: dict[str, int]) -> None:
    """After jobs ended (the worker's task transitions moved on) and none runs: collect cycles and hand the freed
    heap back to the OS (glibc's ``malloc_trim``). The embedded workers run without ``MALLOC_TRIM_THRESHOLD_``
    (faster training), so without this a class server's workers kept every finished job's peak (issue 25 row 10)."""
    import ctypes
    import gc

    state = worker.state
    if state.executing_count or state.transition_counter == seen["transitions"]:
        return
    seen["transitions"] = state.transition_counter
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): the allocator keeps its own policy
        pass


def _claim_attempt(client: Any, job_id: str) -> None:
    """Raise :class:`JobLost` if this job already started once: its worker died and Dask rescheduled it."""
    key = ["vmonf-attempts", job_id]
    attempts = client.get_metadata(key, 0)
    client.set_metadata(key, attempts + 1)
    if attempts:
        raise JobLost("the worker process running this job stopped (killed or out of memory); press Train to start again")


def train_task(job_id: str, cfg: dict[str, Any], data: Data, preview: dict[str, Any] | None = None,
               preview_frames: int = PREVIEW_FRAMES, trainer_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """A training job, run inside a Dask worker: :func:`experiments.run` with live progress and Stop.

    With a ``preview`` spec, a frame is computed every :func:`preview_stride` epochs (about ``preview_frames`` per
    run, by training progress, so a run replays with as many frames on a fast machine as on a slow one).

    Returns plain data: ``status`` ("done" or "stopped"), ``model_config``, ``model_state``, ``metrics``,
    ``history``, ``config``, ``trainer_state`` (only when stopped: Resume continues from it) and ``worker``.
    """
    from distributed import Event, Queue, get_client, get_worker

    from . import previews
    from .experiments import run
    from .runtime import configure_torch

    configure_torch(1)  # one job per single-threaded worker process
    client, worker = get_client(), get_worker()
    _claim_attempt(client, job_id)
    queue = Queue(f"vmonf-progress-{job_id}", client=client)
    remote_stop = Event(f"vmonf-stop-{job_id}", client=client)
    stop_flag = threading.Event()
    lock = threading.Lock()
    pending: dict[str, Any] = {"records": [], "previews": []}
    queue.put(pack({"status": "running", "worker": worker.address, "name": str(worker.name), "records": []}))

    def flush() -> None:
        with lock:
            records, pvs = pending["records"], pending["previews"]
            pending["records"], pending["previews"] = [], []
        if records or pvs:
            queue.put(pack({"status": "running", "records": records, "previews": pvs}))

    courier_done = threading.Event()

    def courier() -> None:  # the helper thread: stop flag in, progress out, five times a second
        while not courier_done.wait(0.2):
            try:
                if remote_stop.is_set():
                    stop_flag.set()
                flush()
            except Exception:  # the scheduler is unreachable: training goes on, progress resumes when it is back
                pass

    helper = threading.Thread(target=courier, daemon=True, name=f"vmonf-courier-{job_id}")
    helper.start()
    holder: dict[str, Any] = {}

    def callback(rec: dict[str, Any]) -> None:
        pv = None
        if (preview is not None and rec["epoch"] < rec["epochs"]
                and rec["epoch"] % preview_stride(rec["epochs"], preview_frames) == 0):
            model = holder["trainer"].model.select_restart(rec["best_restart"]).eval()
            pv = {"epoch": rec["epoch"], **previews.compute(model, preview, seed=0)}
        with lock:
            pending["records"].append(rec)
            if pv is not None:
                pending["previews"].append(pv)  # every frame reaches the server, however fast the run trains

    try:
        out = run(cfg, callback, stop_flag, data, with_baselines=True, trainer_state=trainer_state,
                  on_start=lambda t: holder.__setitem__("trainer", t))
    finally:
        courier_done.set()
        helper.join(2)
        flush()
    model = out.result.model
    return {
        "status": "stopped" if out.result.stopped else "done",
        "model_config": model.config.to_dict(),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "dtype": str(model.dtype).removeprefix("torch."),
        "metrics": out.metrics,
        "history": out.result.history,
        "config": cfg,
        "trainer_state": out.trainer.state_dict() if out.result.stopped else None,
        "worker": worker.address,
        # the replay's last frame: the model the run returns (its selected snapshot), after the last epoch
        "preview": None if preview is None or not out.result.history else
        {"epoch": out.result.history[-1]["epoch"], **previews.compute(model, preview, seed=0)},
    }


def preview_stride(epochs: int, frames: int) -> int:
    """Epochs between two preview frames: about ``frames`` frames over ``epochs`` (the last one is the returned model).

    Example:
        >>> preview_stride(400, 40), preview_stride(40, 40), preview_stride(30, 8)
        (10, 1, 4)
    """
    return max(1, -(-int(epochs) // max(1, int(frames))))


def model_from_result(result: dict[str, Any]):
    """The :class:`~vmonf_core.mixture.VMoNF` of a job's plain-data result, in the dtype it was trained in, eval mode
    (the one rebuild that the app and the CLI share)."""
    import torch

    from .mixture import ModelConfig, VMoNF

    model = VMoNF.from_config(ModelConfig.from_dict(result["model_config"])).to(getattr(torch, result["dtype"]))
    model.load_state_dict(result["model_state"])
    return model.eval()


BASELINE_FIELDS = ("ari", "nmi", "accuracy", "test_log_likelihood")


def sweep_task(cfg: dict[str, Any], data: Data | None = None, with_baselines: bool = False) -> dict[str, Any]:
    """One sweep cell, run inside a Dask worker: train and score ``cfg``; returns a flat record (with the baselines'
    metrics on the same split under ``"baselines"`` when asked)."""
    from distributed import get_worker

    from .experiments import run
    from .runtime import configure_torch, provenance

    configure_torch(1)
    out = run(cfg, data=data, with_baselines=with_baselines)
    m = out.metrics
    rec = {"preset": cfg.get("preset"), "seed": cfg["train"].get("seed", 0), "init": cfg["train"].get("init", "random"),
           "elbo": m["elbo"], "log_px": m["log_px"], "test_log_likelihood": m["test_log_likelihood"],
           "seconds": m["seconds"], "worker": get_worker().address}
    for k in ("ari", "nmi", "accuracy"):
        rec[k] = m.get(k, float("nan"))
    rec["best_restart"] = m["best_restart"]
    if with_baselines:
        rec["baselines"] = {name: {k: float(v[k]) for k in BASELINE_FIELDS if k in v} for name, v in m["baselines"].items()}
    rec["made_on"] = provenance()  # the worker's CPU and kernel path: the exact figures are reproduced only there
    return rec


# ------------------------------------------------------------------ server side
def worker_info(cfg: dict[str, Any]) -> tuple[str, ...]:
    """The ``Data.info`` entries a worker needs for ``cfg`` (the rest, e.g. images for display, stays on the server)."""
    from .experiments import redraws_noise

    return ("name", "images") if redraws_noise(cfg) else ("name",)


class Job:
    """The server's handle on one training task: poll it, stop it, read its result.

    Attributes:
        status: ``queued``, ``running``, ``stopping``, ``done``, ``stopped``, ``error`` or ``cancelled``.
        history: epoch records received so far. previews: ``(epoch, preview)`` pairs, for replay.
        result: the task's plain-data result once finished.
    """

    MAX_PREVIEWS = 240

    def __init__(self, engine: Engine, owner: str, cfg: dict[str, Any], data: Data, preview: dict[str, Any] | None,
                 preview_frames: int, trainer_state: dict[str, Any] | None, history: list[dict[str, Any]] | None) -> None:
        from distributed import Event, Queue

        self.engine, self.owner, self.cfg, self.data = engine, owner, cfg, data
        self.preview_spec, self.preview_frames = preview, preview_frames
        self.id = uuid.uuid4().hex[:16]
        self.status = "queued"
        self.error: str | None = None
        self.error_type: str | None = None  # the exception's class name when the task raised
        self.history: list[dict[str, Any]] = list(history or [])
        self.previews: list[tuple[int, dict[str, Any]]] = []
        self.preview: dict[str, Any] | None = None
        self.result: dict[str, Any] | None = None
        self.worker: str | None = None
        self.submitted = time.monotonic()
        self.started: float | None = None
        self.last_poll = time.monotonic()
        self.lock = threading.RLock()
        client = engine.client
        self._queue = Queue(f"vmonf-progress-{self.id}", client=client)
        self._stop = Event(f"vmonf-stop-{self.id}", client=client)
        slim = dataclasses.replace(data, info={k: v for k, v in data.info.items() if k in worker_info(cfg)})
        self.future = client.submit(train_task, self.id, cfg, slim, preview, preview_frames, trainer_state,
                                    key=f"vmonf-train-{self.id}", pure=False, resources=engine.resources_for(cfg))

    # -------------------------------------------------------------- state
    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def resumable(self) -> bool:
        return self.status == "stopped" and self.result is not None and self.result.get("trainer_state") is not None

    def poll(self) -> Job:
        """Fetch new progress and, once the task ended, its result. Renews the lease. Never raises."""
        with self.lock:
            self.last_poll = time.monotonic()
            if self.finished:
                return self
            try:
                done = self.future.done()
                self.engine.check_scheduler()  # after done(): a future ended by a lost scheduler is said as such
                self._drain()
                if done:
                    self._finish()
            except SchedulerLost as e:
                self._fail(str(e))
            except Exception as e:  # the cluster went away: say so, keep serving
                try:
                    self.engine.check_scheduler()  # its scheduler died: said plainly, a new one next time
                except SchedulerLost as lost:
                    self._fail(str(lost))
                    return self
                self._fail(f"lost contact with the training cluster ({type(e).__name__}: {str(e)[:200] or 'no details'})")
            return self

    def _drain(self) -> None:
        for msg in self._queue.get(batch=True):
            m = unpack(msg)
            if self.status == "queued":
                self.status, self.started = "running", time.monotonic()
            if m.get("worker"):
                self.worker = m["worker"]
            self.history.extend(m.get("records") or [])
            for pv in m.get("previews") or ():
                self.preview = pv
                self.previews.append((int(pv["epoch"]), pv))
                if len(self.previews) > self.MAX_PREVIEWS:  # keep every other old frame: bounded memory, whole run
                    self.previews = self.previews[: -self.MAX_PREVIEWS // 2][::2] + self.previews[-self.MAX_PREVIEWS // 2:]

    def _finish(self) -> None:
        st = self.future.status
        if st == "finished":
            res = self.future.result()
            self.future.release()  # the worker forgets the result now: a page holding the job no longer pins it
            self.result, self.history, self.worker = res, list(res["history"]), res["worker"]
            self.status = res["status"]
            if res.get("preview") is not None:
                self.previews.append((int(res["preview"]["epoch"]), res["preview"]))
        elif st == "cancelled":
            self.status = "cancelled"
        else:
            exc = self.future.exception()
            self.error_type = type(exc).__name__
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if type(exc).__name__ == "KilledWorker":
                msg = "the worker process running this job stopped (killed or out of memory); press Train to start again"
            self._fail(msg)
        self.engine._forget(self)

    def _fail(self, message: str) -> None:
        self.status, self.error = "error", message
        self.engine._forget(self)

    # ------------------------------------------------------------ control
    def stop(self, reason: str | None = None) -> None:
        """Ask the task to stop: a queued job is cancelled; a running one stops within a second and keeps its result."""
        with self.lock:
            if self.finished:
                return
            try:
                self._drain()  # it may have started since the last poll
                self._stop.set()
                if self.status == "queued":
                    self.future.cancel()
                    self.status = "cancelled"
                    self.engine._forget(self)
                else:
                    self.status = "stopping"
            except Exception as e:
                self._fail(f"could not reach the training cluster ({type(e).__name__})")
            if reason:
                self.error = reason

    def wait(self, timeout: float = 600.0, interval: float = 0.2) -> Job:
        """Poll until the job ends (scripts and tests)."""
        end = time.monotonic() + timeout
        while not self.poll().finished and time.monotonic() < end:
            time.sleep(interval)
        return self


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

    # ------------------------------------------------------------ cluster
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
                    self._cluster = _start_local_cluster(self.settings.workers)
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
        if proc is not None and getattr(proc, "pid", None) and not _process_alive(proc.pid):
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
        _kill_cluster_processes(cluster)
        for job in list(self._jobs.values()):
            job._fail(LOST_LOCAL)
        if client is not None:  # its reconnect attempts would log for 30 s; closed off the caller's thread
            threading.Thread(target=lambda: _quiet_close(client), daemon=True, name="vmonf-client-close").start()

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
        _kill_cluster_processes(cluster)

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
                    _kill_cluster_processes(self._cluster)  # connection seen in the suite); kill what is left
            self._client = self._cluster = None

    # --------------------------------------------------------------- jobs
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

    # -------------------------------------------------------------- sweep
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


def sweep_configs(preset: str, seeds: Iterable[int], inits: Iterable[str] | None = None, recipe: str = "default",
                  data: dict | None = None, model: dict | None = None, train: dict | None = None) -> list[dict[str, Any]]:
    """The grid seeds x inits as validated run configurations (raises ``ValueError`` before anything runs)."""
    from .experiments import resolve

    cfgs = []
    for init in list(inits or [None]):
        for seed in seeds:
            t = dict(train or {}, seed=int(seed))
            if init is not None:
                t["init"] = init
            cfgs.append(resolve(preset, recipe, data, model, t))
    return cfgs


def _start_local_cluster(n_workers: int):
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


def _kill_cluster_processes(cluster: Any) -> None:
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


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped by its parent, does not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _quiet_close(client: Any) -> None:
    try:
        client.close(timeout=2)
    except Exception:  # noqa: BLE001 (its scheduler is gone: nothing to hand back)
        pass
