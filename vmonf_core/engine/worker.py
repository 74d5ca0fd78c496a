"""What runs inside a Dask worker: the training and sweep tasks, and the plugins that warm a worker up and hand
memory back when it is idle. torch and the model code load inside these functions, never in the server's client.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from distributed.diagnostics.plugin import SchedulerPlugin, WorkerPlugin

from .wire import BASELINE_FIELDS, PREVIEW_FRAMES, JobLost, pack, preview_stride, progress_channel, stop_channel

if TYPE_CHECKING:
    from ..experiments import Data

__all__ = ["train_task", "sweep_task", "Warmup", "SchedulerWarmup"]


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

        from .. import experiments, training  # noqa: F401
        from ..metrics import warm_imports
        from ..runtime import configure_torch

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


class Courier:
    """A training job's helper thread in the worker: the Stop event in, progress out, five times a second, so the
    training loop never waits on the network.

    :meth:`record` (the trainer's epoch callback) queues each epoch's record and, every :func:`preview_stride`
    epochs, a preview frame (about ``preview_frames`` per run, by training progress: as many frames on a fast
    machine as on a slow one); the thread flushes them to the job's progress queue and sets :attr:`stop_flag`
    once the server sets the job's Stop event.
    """

    INTERVAL = 0.2  # seconds between flushes

    def __init__(self, job_id: str, client: Any, preview: dict[str, Any] | None, preview_frames: int) -> None:
        from distributed import Event, Queue

        self.queue = Queue(progress_channel(job_id), client=client)
        self.remote_stop = Event(stop_channel(job_id), client=client)
        self.stop_flag = threading.Event()
        self.preview, self.preview_frames = preview, preview_frames
        self.trainer: Any = None  # set when the run has built its trainer (the previews read its model)
        self._lock = threading.Lock()
        self._pending: dict[str, list[Any]] = {"records": [], "previews": []}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"vmonf-courier-{job_id}")

    def start(self, hello: dict[str, Any]) -> None:
        self.queue.put(pack({"status": "running", "records": [], **hello}))
        self._thread.start()

    def record(self, rec: dict[str, Any]) -> None:
        from .. import previews

        pv = None
        if (self.preview is not None and rec["epoch"] < rec["epochs"]
                and rec["epoch"] % preview_stride(rec["epochs"], self.preview_frames) == 0):
            model = self.trainer.model.select_restart(rec["best_restart"]).eval()
            pv = {"epoch": rec["epoch"], **previews.compute(model, self.preview, seed=0)}
        with self._lock:
            self._pending["records"].append(rec)
            if pv is not None:
                self._pending["previews"].append(pv)  # every frame reaches the server, however fast the run trains

    def flush(self) -> None:
        with self._lock:
            records, pvs = self._pending["records"], self._pending["previews"]
            self._pending = {"records": [], "previews": []}
        if records or pvs:
            self.queue.put(pack({"status": "running", "records": records, "previews": pvs}))

    def _loop(self) -> None:
        while not self._done.wait(self.INTERVAL):
            try:
                if self.remote_stop.is_set():
                    self.stop_flag.set()
                self.flush()
            except Exception:  # the scheduler is unreachable: training goes on, progress resumes when it is back
                pass

    def close(self) -> None:
        """Stop the thread and send what is left."""
        self._done.set()
        self._thread.join(2)
        self.flush()


def train_task(job_id: str, cfg: dict[str, Any], data: Data, preview: dict[str, Any] | None = None,
               preview_frames: int = PREVIEW_FRAMES, trainer_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """A training job, run inside a Dask worker: :func:`experiments.run` with live progress and Stop
    (:class:`Courier`), and a preview frame of the returned model (the replay's last).

    Returns plain data: ``status`` ("done" or "stopped"), ``model_config``, ``model_state``, ``metrics``,
    ``history``, ``config``, ``trainer_state`` (only when stopped: Resume continues from it) and ``worker``.
    """
    from distributed import get_client, get_worker

    from .. import previews
    from ..experiments import run
    from ..runtime import configure_torch

    configure_torch(1)  # one job per single-threaded worker process
    client, worker = get_client(), get_worker()
    _claim_attempt(client, job_id)
    courier = Courier(job_id, client, preview, preview_frames)
    courier.start({"worker": worker.address, "name": str(worker.name)})
    try:
        out = run(cfg, courier.record, courier.stop_flag, data, with_baselines=True, trainer_state=trainer_state,
                  on_start=lambda t: setattr(courier, "trainer", t))
    finally:
        courier.close()
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


def sweep_task(cfg: dict[str, Any], data: Data | None = None, with_baselines: bool = False) -> dict[str, Any]:
    """One sweep cell, run inside a Dask worker: train and score ``cfg``; returns a flat record (with the baselines'
    metrics on the same split under ``"baselines"`` when asked)."""
    from distributed import get_worker

    from ..experiments import run
    from ..runtime import configure_torch, provenance

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
