"""A class of 30: thirty Playground sessions (AppTest, the app's own script in this process, as a server runs it)
press Train at about the same time on one server whose engine has **one** worker (issue 25).

Every job must end done, cancelled or refused with a sentence; nothing may be lost or stuck; the process's memory
(the server's side: 30 sessions' data, jobs, results and figures) stays under :data:`MEMORY_BOUND_MB` of growth.
The job accounting and the memory are printed (``pytest -s``) and quoted in the README.
"""

from __future__ import annotations

import collections
import time

import psutil
import pytest
from apptest_utils import page
from dask_utils import DaskCluster

SESSIONS = 30
MEMORY_BOUND_MB = 1000  # growth of the server-side process over the whole class (measured: +264 MB)


@pytest.fixture
def one_worker_engine(monkeypatch):
    """The app's engine on a cluster of its own with a single worker, for this test only."""
    from ui import cluster as C

    c = DaskCluster(n_workers=1)
    monkeypatch.setenv("VMONF_SCHEDULER", c.address)
    C.engine.clear()
    try:
        yield c
    finally:
        try:
            C.engine().close()
        finally:
            C.engine.clear()  # the next test's engine reads the session cluster's address again
            c.stop()


def test_a_class_of_30_sessions_on_one_worker(one_worker_engine):
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    t0 = time.monotonic()
    sessions, outcome = [], {}
    for i in range(SESSIONS):
        at = page("playground")
        at.sidebar.number_input(key="epochs").set_value(4)
        at.sidebar.number_input(key="restarts").set_value(1)
        at.sidebar.number_input(key="seed").set_value(i)
        at.button(key="pg_train").click().run()
        assert not at.exception, at.exception
        job = at.session_state["pg_job"] if "pg_job" in at.session_state else None
        if job is None:  # refused: it must say why, in a sentence
            refusal = [e.value for e in at.error]
            assert refusal and all(r.endswith(".") for r in refusal), refusal
            outcome[i] = "refused"
        sessions.append((i, at, job))
    clicked = time.monotonic() - t0
    peak = proc.memory_info().rss
    end = time.monotonic() + 900
    while time.monotonic() < end:
        waiting = [(i, at, job) for i, at, job in sessions if job is not None and not job.poll().finished]
        if not waiting:
            break
        for _, at, _ in waiting:  # each page polls, as its fragment does every 0.5 s (renewing the job's lease)
            at.run()
            assert not at.exception, at.exception
        peak = max(peak, proc.memory_info().rss)
        time.sleep(0.5)
    for i, at, job in sessions:
        if job is None:
            continue
        at.run()
        at.run()
        assert not at.exception, at.exception
        outcome[i] = job.status
        if job.status == "done":
            assert at.session_state["pg_result"].metrics["ari"] == at.session_state["pg_result"].metrics["ari"]
    total = time.monotonic() - t0
    counts = collections.Counter(outcome.values())
    grew = (peak - rss0) / 1e6
    print(f"\n{SESSIONS} sessions on 1 worker: {dict(counts)}; all clicks in {clicked:.0f} s, every job ended "
          f"{total:.0f} s after the first click; server-side process RSS {rss0 / 1e6:.0f} MB -> peak {peak / 1e6:.0f} MB "
          f"(+{grew:.0f} MB, bound {MEMORY_BOUND_MB} MB)")
    assert len(outcome) == SESSIONS
    assert set(counts) <= {"done", "cancelled", "refused"}, counts
    assert counts["done"] >= SESSIONS - counts["refused"] - counts["cancelled"]
    assert counts["refused"] == 0  # the default queue (32) holds a class of 30
    assert grew < MEMORY_BOUND_MB
