"""Per-session background training.

A :class:`TrainingJob` runs :class:`vmonf_core.Trainer` in a daemon thread. The page
keeps the job in ``st.session_state`` and a fragment polls :meth:`TrainingJob.snapshot`
about once a second. A process-wide semaphore caps how many jobs train at once (the
rest wait in a visible queue), and torch uses one thread per op so that the UI
threads are never starved.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from vmonf_core.experiments import Data, score
from vmonf_core.training import Trainer, TrainingError

# On a small server, one trainer per spare core keeps the UI responsive; the rest queue.
MAX_CONCURRENT = int(os.environ.get("VMONF_MAX_WORKERS", str(max(1, (os.cpu_count() or 2) - 1))))
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_active_lock = threading.Lock()
_active: set[int] = set()
torch.set_num_threads(1)
sys.setswitchinterval(0.001)  # let the server thread get the GIL between the trainer's many small ops


def active_jobs() -> int:
    with _active_lock:
        return len(_active)


class TrainingJob:
    """Train one configuration in the background; thread-safe progress for the UI.

    Args:
        cfg: run configuration (``model`` and ``train`` parts are used).
        data: the data to train on.
        trainer: an existing trainer to resume (its model and optimizer state continue).
        preview_every: seconds between live previews.
        preview_fn: turns a snapshot of the model into what the live view draws; it runs
            in this worker thread, so the page only renders.
    """

    def __init__(self, cfg: dict[str, Any], data: Data, trainer: Trainer | None = None, preview_every: float = 1.0,
                 preview_fn: Callable[[Any], Any] | None = None) -> None:
        self.cfg, self.data, self.trainer = cfg, data, trainer
        self.preview_every, self.preview_fn = preview_every, preview_fn
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self.status = "queued"
        self.error: str | None = None
        self.history: list[dict[str, Any]] = list(trainer.history) if trainer else []
        self.preview = None  # latest preview_fn(model snapshot) for the live view
        self.preview_epoch = 0
        self.result: dict[str, Any] | None = None
        self.started = time.time()
        self._last_preview = 0.0
        self._thread = threading.Thread(target=self._main, daemon=True, name="vmonf-train")
        self._thread.start()

    # ------------------------------------------------------------- thread
    def _main(self) -> None:
        while not _slots.acquire(timeout=0.2):  # wait in the queue, but honour Stop
            if self.stop_event.is_set():
                self._set(status="stopped")
                return
        with _active_lock:
            _active.add(id(self))
        try:
            self._set(status="running")
            if self.trainer is None:
                model_cfg = dict(self.cfg["model"], dim=int(self.data.x.shape[1]))
                self.trainer = Trainer(model_cfg, self.data.x, self.data.labels, self.data.x_test, self.cfg["train"])
            res = self.trainer.run(self._on_epoch, self.stop_event)
            metrics = score(res.model, self.data, seed=self.cfg["train"].get("seed", 0))
            metrics.update(epochs=self.trainer.epoch, seconds=res.seconds, nonfinite_steps=res.nonfinite_steps)
            self._set(result={"model": res.model, "metrics": metrics, "history": res.history, "config": self.cfg,
                              "stopped": res.stopped},
                      status="stopped" if res.stopped else "done")
        except (TrainingError, ValueError) as e:
            self._set(status="error", error=str(e))
        except Exception as e:  # never let a worker die silently
            traceback.print_exc()
            self._set(status="error", error=f"unexpected {type(e).__name__}: {e}")
        finally:
            with _active_lock:
                _active.discard(id(self))
            _slots.release()

    def _on_epoch(self, rec: dict[str, Any]) -> None:
        now = time.time()
        preview = None
        if now - self._last_preview >= self.preview_every and rec["epoch"] < rec["epochs"]:
            model = self.trainer.model.select_restart(rec["best_restart"]).eval()
            preview = self.preview_fn(model) if self.preview_fn else model
            self._last_preview = time.time()
        with self._lock:
            self.history.append(rec)
            if preview is not None:
                self.preview, self.preview_epoch = preview, rec["epoch"]

    def _set(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, v)

    # ---------------------------------------------------------------- API
    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return self.status in ("done", "stopped", "error") and not self._thread.is_alive()

    @property
    def resumable(self) -> bool:
        return self.finished and self.status == "stopped" and self.trainer is not None and not self.trainer.done

    def snapshot(self) -> dict[str, Any]:
        """A consistent copy of the progress for rendering."""
        with self._lock:
            return {"status": self.status, "error": self.error, "history": list(self.history), "preview": self.preview,
                    "preview_epoch": self.preview_epoch, "result": self.result,
                    "total": self.trainer.total_epochs if self.trainer else None}
