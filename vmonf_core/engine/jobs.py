"""The server's handle on one training job: submit it, drain its progress, stop it, read its result."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from .wire import TERMINAL, progress_channel, stop_channel, train_key, unpack
from .worker import train_task

if TYPE_CHECKING:
    from ..experiments import Data
    from .server import Engine

__all__ = ["Job", "SchedulerLost", "LOST_LOCAL", "worker_info"]


LOST_LOCAL = "lost contact with the training cluster (its scheduler stopped); press Train to start again on a new one"


class SchedulerLost(ValueError):
    """The scheduler is gone (said in one sentence; see :meth:`Engine.check_scheduler`)."""


def worker_info(cfg: dict[str, Any]) -> tuple[str, ...]:
    """The ``Data.info`` entries a worker needs for ``cfg`` (the rest, e.g. images for display, stays on the server)."""
    from ..experiments import redraws_noise

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
        self._queue = Queue(progress_channel(self.id), client=client)
        self._stop = Event(stop_channel(self.id), client=client)
        slim = dataclasses.replace(data, info={k: v for k, v in data.info.items() if k in worker_info(cfg)})
        self.future = client.submit(train_task, self.id, cfg, slim, preview, preview_frames, trainer_state,
                                    key=train_key(self.id), pure=False, resources=engine.resources_for(cfg))

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
