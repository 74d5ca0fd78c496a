"""The page side of a training job: submit, poll, stop, resume and show it (the engine does the training).

One :class:`vmonf_core.engine.Engine` per server (:func:`ui.cluster.engine`). Each browser session owns at most one
active job; the job handle lives in ``st.session_state`` and a fragment polls it every 0.5 s, which also renews the
job's lease.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

from vmonf_core.engine import PREVIEW_FRAMES, Job, model_from_result
from vmonf_core.experiments import Data
from vmonf_core.mixture import VMoNF

from . import state as S
from .cluster import engine, engine_or_error
from .figures import curves_figure
from .frame import session_id
from .results import ALT, RunResult, compact_previews, remember

CURVES_ALT = ALT["curves"]
# How often a live run's figures refresh. Every 0.9 s, redrawing the curves and the preview kept headless Chromium's
# main thread 99 % busy on 2 shared cores, and a click on Stop took 5-10 s to land; every 2 s, 65 % and about 1 s.
LIVE_REFRESH_SECONDS = 2.0
# How often the buttons and the progress line follow a live job: cheap to draw, so the first epoch and a Stop show fast.
PROGRESS_REFRESH_SECONDS = 0.5
FIRST_RECORD_WAIT = 0.4  # seconds a Train click waits for the first epoch before the page reruns
STOP_WAIT = 0.6  # seconds a Stop click waits for the job to end before the page reruns


def owner() -> str:
    """This browser session's id (Streamlit's, so the engine can tell when its tab is closed): its jobs replace
    each other."""
    return S.get(S.OWNER, session_id() or uuid.uuid4().hex)


def start(job_key: str, cfg: dict[str, Any], data: Data, preview: dict[str, Any] | None = None,
          preview_frames: int = PREVIEW_FRAMES) -> Job | None:
    """Queue a run; shows a message (and returns ``None``) when the queue is full or the engine unreachable.

    When a worker is free the first epoch usually arrives within a few tenths of a second: the page waits up to
    ``FIRST_RECORD_WAIT`` for it, so the rerun that follows shows it instead of the next refresh (0.5 s later).
    """
    eng = engine_or_error()
    if eng is None:
        return None
    try:
        job = eng.submit(owner(), cfg, data, preview=preview, preview_frames=preview_frames)
    except ValueError as e:
        st.error(f"Cannot train now: {e}.")
        return None
    except OSError as e:
        st.error(f"Cannot reach the training cluster: {e}.")
        return None
    S.put(job_key, job)
    end = time.monotonic() + FIRST_RECORD_WAIT
    while time.monotonic() < end and not job.poll().history and not job.finished:
        time.sleep(0.03)
    return job


def resume(job_key: str) -> None:
    old: Job = st.session_state[job_key]
    if not old.resumable:
        return
    eng = engine_or_error()
    if eng is None:
        return
    try:
        job = eng.submit(owner(), old.cfg, old.data, preview=old.preview_spec, preview_frames=old.preview_frames,
                         trainer_state=old.result["trainer_state"], history=old.history)
    except (ValueError, OSError) as e:
        st.error(f"Cannot resume now: {e}.")
        return
    job.previews = list(old.previews)
    S.put(job_key, job)


def model_of(result: dict[str, Any]) -> VMoNF:
    """Rebuild the model from a job's plain-data result (:func:`vmonf_core.engine.model_from_result`)."""
    return model_from_result(result)


def progress_text(job: Job) -> str:
    """One line: status, phase plan, epoch, ETA from the measured rate of each phase."""
    h = job.history[-1] if job.history else None
    if job.status == "queued":
        eng = engine()
        pos = eng.queue_position(job)
        free = eng.next_free_seconds()
        n = max(1, len(eng.workers()))
        wait = f"; a worker frees up in about {free:.0f} s" if free is not None else ""
        return f"queued: position {pos} in this server's queue ({n} worker{'s' if n > 1 else ''}){wait}"
    if h is None:
        return f"{job.status}: starting on a worker"
    plan = " + ".join(f"{p} {n}" for p, n in h.get("plan", [])) or f"{h['epochs']} epochs"
    eta = f" · ETA {h['eta']:.0f} s" if job.status == "running" and h.get("eta") == h.get("eta") else ""
    return f"{job.status}: epoch {h['epoch']}/{h['epochs']} ({plan}) · phase {h['phase']}{eta}"


def panel(job_key: str, result_key: str, prefix: str, on_train: Callable[[], None] | None = None,
          render_preview: Callable[[dict[str, Any], int], None] | None = None, remember_runs: bool = False) -> None:
    """Train / Stop / Resume, progress, curves and the live preview of a page's job.

    Two fragments, so that the buttons and the progress line follow the job quickly while the figures stay cheap for
    the browser: the controls and progress refresh every ``PROGRESS_REFRESH_SECONDS`` (0.5 s) while the job is active,
    the curves and the live preview every ``LIVE_REFRESH_SECONDS`` (2 s). No other interaction is needed.

    ``on_train`` builds the run from the page's current settings and calls :func:`start` (no Train button without it).
    The finished run is stored under ``result_key`` as a :class:`~ui.results.RunResult` (and added to the
    session's run history when ``remember_runs``).

    Longer than most functions here on purpose: the two fragments are closures over the page's keys and callbacks
    (Streamlit reruns a fragment by calling the same function object), so they are defined where they run.
    """
    job0: Job | None = st.session_state.get(job_key)
    active = job0 is not None and not job0.finished

    @st.fragment(run_every=PROGRESS_REFRESH_SECONDS if active else None)
    def _controls() -> None:
        job: Job | None = st.session_state.get(job_key)
        if job is not None:
            job.poll()
        running = job is not None and not job.finished
        c1, c2, c3 = st.columns(3)
        if on_train is not None and c1.button("Train", type="primary", key=S.sub(prefix, "train"), disabled=running, width="stretch",
                     shortcut="Ctrl+Enter", help="Start a run with these settings (Ctrl+Enter)"):
            on_train()
            if st.session_state.get(job_key) is not job:
                st.rerun()
        if c2.button("Stop", key=S.sub(prefix, "stop"), disabled=not running or job.status == "stopping", width="stretch",
                     shortcut="Escape", help="Stop the run; a stopped run can be resumed (Esc)"):
            job.stop()
            job.wait(STOP_WAIT, interval=0.05)  # the worker stops within 0.2 s: show "stopped" in this click's rerun
            st.rerun(scope="app" if job.finished else "fragment")
        if c3.button("Resume", key=S.sub(prefix, "resume"), disabled=not (job is not None and job.resumable), width="stretch",
                     help="Continue the stopped run where it left off"):
            resume(job_key)
            st.rerun()
        if job is None:
            return
        h = job.history
        frac = h[-1]["epoch"] / h[-1]["epochs"] if h else 0.0
        st.progress(min(frac, 1.0), text=progress_text(job))
        if job.error:
            (st.error if job.status == "error" else st.info)(f"Training {'failed' if job.status == 'error' else 'ended'}: "
                                                              f"{job.error}")
        old = st.session_state.get(result_key)
        if job.finished and job.result is not None and getattr(old, "job", None) is not job:
            result = RunResult(model_of(job.result), job.result["metrics"], job.result["history"], job.result["config"],
                               job.data, data_id=job.cfg.get("data", {}).get("data_id", ""), job=job,
                               previews=compact_previews(job.previews))
            st.session_state[result_key] = result
            if remember_runs:
                remember(result)
        if active and job.finished:
            st.rerun()  # full rerun: show the results, stop refreshing
        if not active and running:
            st.rerun()  # a run started from inside the fragment: refresh from now on

    @st.fragment(run_every=LIVE_REFRESH_SECONDS if active else None)
    def _live() -> None:
        job: Job | None = st.session_state.get(job_key)
        if job is None or not job.history:
            return
        running = not job.finished
        show_preview = render_preview is not None and running and job.preview is not None
        left, right = st.columns(2) if show_preview else (st.container(), None)
        with left:
            st.plotly_chart(curves_figure(job.history, stacked=show_preview), width="stretch", key=S.sub(job_key, "curves"),
                            alt=CURVES_ALT)
        if show_preview:
            with right:
                render_preview(job.preview, job.preview["epoch"])

    _controls()
    _live()
