"""The Dask engine on a real cluster (`dask scheduler` + two `dask worker` processes from the fixture):
sweeps across both workers, Stop and Resume, leases, the queue cap, a killed worker, reproducibility."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from apptest_utils import ROOT, page

from vmonf_core.engine import Engine, EngineSettings, QueueFull, pack, settings_from_env, sweep_configs, unpack
from vmonf_core.experiments import load_data, make_trainer, resolve


@pytest.fixture(scope="module")
def eng(dask_cluster):
    e = Engine(EngineSettings(scheduler=dask_cluster.address, max_queue=8, lease=60))
    yield e
    e.close()


def _cfg(seed=0, epochs=3, **train):
    return resolve("pinwheel", train=dict(seed=seed, epochs=epochs, **train), model=dict(restarts=1), data=dict(n=400))


def _wait_running(job, timeout=60):
    end = time.time() + timeout
    while time.time() < end and not (job.poll().history and job.status == "running"):
        time.sleep(0.05)
    assert job.status == "running" and job.history, (job.status, job.error)


def test_settings_are_validated_with_clear_messages():
    for env, word in (({"VMONF_WORKERS": "0"}, "VMONF_WORKERS"), ({"VMONF_WORKERS": "-1"}, "VMONF_WORKERS"),
                      ({"VMONF_WORKERS": "abc"}, "VMONF_WORKERS"), ({"VMONF_MAX_QUEUE": "0"}, "VMONF_MAX_QUEUE"),
                      ({"VMONF_MAX_MODEL_GB": "lots"}, "VMONF_MAX_MODEL_GB"), ({"VMONF_MAX_MODEL_GB": "inf"}, "VMONF_MAX_MODEL_GB"),
                      ({"VMONF_SCHEDULER": "localhost"}, "VMONF_SCHEDULER")):
        with pytest.raises(ValueError, match=word):
            settings_from_env(env)
    s = settings_from_env({"VMONF_WORKERS": "3", "VMONF_SCHEDULER": "tcp://127.0.0.1:1"})
    assert (s.workers, s.scheduler) == (3, "tcp://127.0.0.1:1")
    assert s.max_queue >= 30 and EngineSettings().max_queue == s.max_queue  # a class of 30 all pressing Train


def test_pack_round_trips_arrays_inside_records():
    msg = {"records": [{"epoch": 1, "elbo": -0.5}], "preview": {"grid": np.arange(6.0).reshape(2, 3), "k": np.array([1, 2], np.int64)}}
    back = unpack(pack(msg))
    assert back["records"] == msg["records"]
    np.testing.assert_array_equal(back["preview"]["grid"], msg["preview"]["grid"])
    assert back["preview"]["k"].dtype == np.int64
    import msgpack  # what a Dask Queue does to a message; it may return sequences as tuples

    frames = {"previews": [{"epoch": e, "grid": {"argmax_q": np.full((2, 2), e, np.int64)}} for e in (1, 2)]}
    for use_list in (True, False):
        back = unpack(msgpack.unpackb(msgpack.packb(pack(frames)), use_list=use_list))
        assert [int(p["grid"]["argmax_q"][0, 0]) for p in back["previews"]] == [1, 2]


def test_trainer_state_resumes_exactly_where_it_stopped():
    cfg = _cfg(epochs=4)
    data = load_data(cfg)
    straight = make_trainer(cfg, data)
    straight.run()

    first = make_trainer(cfg, data)
    first.run(callback=lambda r: r["epoch"] < 2)  # stop after 2 epochs
    assert first.epoch == 2
    second = make_trainer(cfg, data, state=first.state_dict())  # a fresh trainer, as on another worker
    second.run()
    assert second.epoch == straight.epoch
    for k, v in straight.model.state_dict().items():
        torch.testing.assert_close(second.model.state_dict()[k], v, msg=k)
    assert [h["epoch"] for h in second.history] == list(range(1, straight.epoch + 1))


def test_sweep_runs_across_both_workers(eng):
    cfgs = sweep_configs("circles", range(4), ["random", "truth"], train=dict(epochs=3), model=dict(restarts=1))
    records = eng.sweep(cfgs)
    assert len(records) == 8
    assert {r["init"] for r in records} == {"random", "truth"}
    assert len({r["worker"] for r in records}) == 2  # both workers trained
    for r in records:
        assert 0 <= r["accuracy"] <= 1 and np.isfinite(r["elbo"]) and r["log_px"] >= r["elbo"] - 1e-4


def test_cli_sweep_writes_records_and_rejects_bad_arguments(dask_cluster, tmp_path):
    out = tmp_path / "sw"
    cmd = [sys.executable, "-m", "vmonf_core", "sweep", "--preset", "circles", "--seeds", "0-1", "--init", "random,kmeans",
           "--epochs", "2", "--restarts", "1", "--scheduler", dask_cluster.address, "--out", str(out)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    recs = json.loads((out / "sweep.json").read_text())
    assert len(recs) == 4
    assert set(recs[0]) >= {"preset", "seed", "init", "ari", "nmi", "accuracy", "elbo", "log_px", "test_log_likelihood",
                            "seconds", "worker"}
    assert "| kmeans | 2 |" in p.stdout
    for bad in (["--seeds", "x"], ["--seeds", "0-1", "--init", "nope"], ["--seeds", "0", "--scheduler", "nowhere"]):
        p = subprocess.run([sys.executable, "-m", "vmonf_core", "sweep", "--preset", "circles", "--out", str(out), *bad],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, (bad, p.stderr)


def test_stop_answers_within_a_second_and_resume_continues(eng):
    data = load_data(_cfg())
    job = eng.submit("stopper", _cfg(epochs=100_000), data)
    _wait_running(job)
    t = time.monotonic()
    job.stop()
    while not job.poll().finished:
        time.sleep(0.02)
    assert time.monotonic() - t < 5.0  # a hang guard, not a speed target (bench/ui_latency.py measures Stop)
    assert job.status == "stopped" and job.resumable
    done = job.history[-1]["epoch"]
    again = eng.submit("stopper", job.cfg, data, trainer_state=job.result["trainer_state"], history=job.history)
    _wait_running(again)
    again.stop()
    again.wait(30)
    assert again.status == "stopped"
    assert again.history[-1]["epoch"] > done  # it continued, not restarted
    assert [h["epoch"] for h in again.history] == list(range(1, again.history[-1]["epoch"] + 1))


def test_a_queued_job_can_be_stopped_and_a_new_train_replaces_the_old(eng, dask_cluster):
    data = load_data(_cfg())
    blockers = [eng.submit(f"blocker{i}", _cfg(epochs=100_000, seed=i), data) for i in range(2)]  # both workers busy
    for b in blockers:
        _wait_running(b)
    queued = eng.submit("q", _cfg(), data)
    time.sleep(0.5)
    assert queued.poll().status == "queued" and eng.queue_position(queued) == 1
    queued.stop()
    assert queued.status == "cancelled"
    replaced = blockers[0]
    newer = eng.submit("blocker0", _cfg(epochs=2), data)  # same owner: the old job is stopped
    replaced.wait(30)
    assert replaced.status == "stopped"
    blockers[1].stop()
    assert newer.wait(120).status == "done"


def test_the_queue_has_a_cap(dask_cluster):
    small = Engine(EngineSettings(scheduler=dask_cluster.address, max_queue=1))
    try:
        data = load_data(_cfg())
        first = small.submit("a", _cfg(epochs=100_000), data)
        with pytest.raises(QueueFull, match="queue is full"):
            small.submit("b", _cfg(), data)
        first.stop()
    finally:
        small.close()


def test_a_job_whose_page_stopped_polling_is_cancelled(dask_cluster):
    short = Engine(EngineSettings(scheduler=dask_cluster.address, lease=5))
    try:
        job = short.submit("gone", _cfg(epochs=100_000), load_data(_cfg()))
        _wait_running(job)
        time.sleep(9)  # no polls: the lease (5 s) expires and the reaper stops the job
        assert job.error and "tab was closed" in job.error
        job.wait(30)
        assert job.status == "stopped"
        assert job not in short.active()
    finally:
        short.close()


def test_same_seed_gives_identical_metrics_alone_or_next_to_three_other_jobs(eng):
    cfg = _cfg(seed=7, epochs=3)
    data = load_data(cfg)
    alone = eng.submit("r0", cfg, data).wait(120)
    crowd = [eng.submit(f"r{i}", cfg if i == 0 else _cfg(seed=i, epochs=3), data) for i in range(4)]
    for j in crowd:
        j.wait(180)
    a, b = alone.result["metrics"], crowd[0].result["metrics"]
    assert alone.status == crowd[0].status == "done"
    for k in ("ari", "elbo", "log_px", "test_log_likelihood"):
        assert a[k] == b[k], k
    torch.testing.assert_close(alone.result["model_state"], crowd[0].result["model_state"], rtol=0, atol=0)


def test_killing_a_worker_shows_an_error_on_the_page_and_the_next_train_works(dask_cluster):
    at = page("playground")
    at.sidebar.number_input(key="epochs").set_value(3000)
    at.sidebar.number_input(key="restarts").set_value(1)
    at.button(key="pg_train").click().run()
    job = at.session_state["pg_job"]
    _wait_running(job)
    with dask_cluster.client() as c:
        pid = c.run(os.getpid, workers=[job.worker])[job.worker]
    os.kill(pid, signal.SIGKILL)
    t = time.monotonic()
    while not job.poll().finished and time.monotonic() - t < 10:
        time.sleep(0.1)
    assert job.status == "error", job.status
    at.run()
    assert any("worker process" in e.value for e in at.error), [e.value for e in at.error]
    dask_cluster.wait_for_workers(2)  # the nanny replaced the worker
    at.sidebar.number_input(key="epochs").set_value(2)
    at.button(key="pg_train").click().run()
    assert at.session_state["pg_job"].wait(120).status == "done"


def test_a_worker_trains_mnist_with_fresh_dequantisation_noise(eng):
    """The job's data reach the worker with the raw digits that the preset's per-epoch dequantisation needs (without
    them ``make_trainer`` refuses the run), and the result differs from the same run on one fixed draw."""
    from vmonf_core.experiments import make_trainer

    cfg = resolve("mnist", data={"n": 300}, train={"epochs": 2, "init_epochs": 1, "seed": 1})
    fixed_cfg = resolve("mnist", data={"n": 300, "dequantize": "fixed"}, train=cfg["train"])
    data = load_data(cfg)
    fresh, fixed = eng.submit("mnist", cfg, data).wait(180), eng.submit("mnist-fixed", fixed_cfg, data).wait(180)
    assert fresh.status == fixed.status == "done", (fresh.error, fixed.error)
    a, b = fresh.result["metrics"], fixed.result["metrics"]
    assert abs(a["test_log_likelihood"] - b["test_log_likelihood"]) > 1e-3
    slim = type(data)(data.x, data.y, data.x_test, data.y_test, image_size=data.image_size, info={"name": "mnist"})
    with pytest.raises(ValueError, match="raw training images"):
        make_trainer(cfg, slim)


def test_a_dead_embedded_scheduler_is_noticed_at_once_and_the_next_train_gets_a_new_cluster():
    """Issue 25 row 9: the embedded scheduler is killed during a run. The page's poll says so within seconds (not
    after Dask's 30 s connect timeout), the cluster's other processes are killed, and the next Train starts a new
    cluster and finishes."""
    import psutil

    e = Engine(EngineSettings(scheduler=None, workers=1, max_queue=4, lease=120))
    try:
        data = load_data(_cfg())
        job = e.submit("a", _cfg(epochs=3000), data)
        _wait_running(job, timeout=120)
        old = e._cluster
        pids = [old.scheduler.process.pid] + [w.process.pid for w in old.workers.values()]
        os.kill(pids[0], signal.SIGKILL)
        t = time.monotonic()
        while not job.poll().finished and time.monotonic() - t < 10:
            time.sleep(0.1)
        assert job.status == "error" and "scheduler stopped" in job.error, (job.status, job.error)
        assert time.monotonic() - t < 3
        time.sleep(0.5)
        assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
        t = time.monotonic()
        again = e.submit("a", _cfg(epochs=2), data)  # a new cluster for this click, no second click needed
        assert again.wait(120).status == "done", (again.status, again.error)
        assert e._cluster is not old
    finally:
        e.close()


def test_a_lost_remote_scheduler_is_named_in_one_sentence():
    from vmonf_core.engine import SchedulerLost

    cluster = __import__("dask_utils").DaskCluster(n_workers=1)
    e = Engine(EngineSettings(scheduler=cluster.address, max_queue=4, lease=120))
    try:
        assert e.submit("a", _cfg(epochs=2), load_data(_cfg())).wait(120).status == "done"
        cluster.stop()
        t = time.monotonic()
        while True:  # the client reconnects for a few seconds (engine.RECONNECT_GRACE) before it counts as lost
            try:
                e.check_scheduler()
            except SchedulerLost as lost:
                assert f"lost contact with the Dask scheduler at {cluster.address}" in str(lost)
                break
            assert time.monotonic() - t < 10, "a stopped remote scheduler was not noticed"
            time.sleep(0.2)
        with pytest.raises(SchedulerLost, match=f"lost contact with the Dask scheduler at {cluster.address}"):
            e.submit("a", _cfg(epochs=2), load_data(_cfg()))
    finally:
        e.kill()
        cluster.stop()


def test_finished_results_are_not_pinned_on_the_workers_and_memory_is_handed_back(dask_cluster):
    """Issue 25 row 10: pages keep their finished jobs, but the workers forget each result once it is fetched, and
    an idle worker hands freed memory back to the OS: its RSS returns to within 50 MB of where it started."""
    import psutil

    def rss():
        with dask_cluster.client() as c:
            return c.run(lambda: psutil.Process().memory_info().rss)

    eng = Engine(EngineSettings(scheduler=dask_cluster.address, max_queue=16, lease=120))
    eng.submit("warm", _cfg(epochs=20), load_data(_cfg())).wait(120)
    time.sleep(7)  # one idle trim
    before = rss()
    jobs = [eng.submit(f"page{i}", _cfg(seed=i, epochs=60), load_data(_cfg())) for i in range(8)]
    assert {j.wait(300).status for j in jobs} == {"done"}
    keys = {f"vmonf-train-{j.id}" for j in jobs}
    with dask_cluster.client() as c:
        pinned = c.run(lambda dask_worker: [str(k) for k in dask_worker.data])
    assert not keys & {k for ks in pinned.values() for k in ks}, "finished results stay pinned in worker memory"
    time.sleep(7)
    after = rss()
    grew = {w: (after[w] - before[w]) / 1e6 for w in before if w in after}
    print("worker RSS growth after 8 finished jobs held by pages (MB):", {w[-5:]: round(g) for w, g in grew.items()})
    eng.close()
    assert all(g < 50 for g in grew.values()), grew


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_the_embedded_cluster_never_outlives_the_process_that_started_it(sig):
    """Issue 25 row 13: the owner of an embedded cluster is killed (a crash: no clean-up runs) or terminated;
    its scheduler, nanny and worker processes are gone within seconds."""
    import psutil

    code = ("import time; from vmonf_core.engine import Engine, EngineSettings\n"
            "e = Engine(EngineSettings(scheduler=None, workers=1)); e.client.wait_for_workers(1, timeout=120)\n"
            "print('ready', flush=True); time.sleep(600)")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        family = psutil.Process(proc.pid).children(recursive=True)
        assert len(family) >= 3  # scheduler, nanny, worker
        proc.send_signal(sig)
        proc.wait(30)
        end = time.monotonic() + 15
        alive = family
        while alive and time.monotonic() < end:
            alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            time.sleep(0.2)
        assert not alive, [p.cmdline()[:4] for p in alive]
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in psutil.Process().children(recursive=True):  # nothing left behind by a failed run
            if p.pid != proc.pid and "vmonf_core.engine" in " ".join(p.cmdline()):
                p.kill()


def test_the_embedded_clusters_processes_ignore_ctrl_c():
    """A terminal's Ctrl-C reaches the whole process group: the scheduler, nanny and worker leave it to their owner
    (which ends them) instead of closing on their own and printing tracebacks from cut connections (watchdog.py)."""
    import psutil

    e = Engine(EngineSettings(scheduler=None, workers=1, max_queue=4, lease=120))
    try:
        e.client.wait_for_workers(1, timeout=60)
        cluster = e._cluster
        procs = [psutil.Process(cluster.scheduler.process.pid)]
        for w in cluster.workers.values():
            nanny = psutil.Process(w.process.pid)
            procs += [nanny, *nanny.children(recursive=True)]
        sigint = 1 << (signal.SIGINT - 1)
        for p in procs:
            mask = int(next(ln for ln in open(f"/proc/{p.pid}/status") if ln.startswith("SigIgn:")).split()[1], 16)
            assert mask & sigint, (p.pid, p.cmdline()[:3])
        assert len(procs) >= 3  # scheduler, nanny, worker
    finally:
        e.close()
