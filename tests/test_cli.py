"""The command line: presets, a short training run, one-line errors with exit code 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "vmonf_core", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_presets_lists_every_preset():
    out = cli("presets")
    assert out.returncode == 0
    for name in ("pinwheel", "circles", "circles-semi", "moons", "mnist", "mnist-thesis"):
        assert f"{name}:" in out.stdout


def test_train_writes_metrics_and_a_loadable_checkpoint(tmp_path):
    out = cli("train", "--preset", "moons", "--epochs", "3", "--restarts", "1", "--n", "300", "--seed", "1", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "epoch    1/" in out.stdout
    m = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("ari", "nmi", "accuracy", "test_log_likelihood", "elbo", "epochs", "seconds"):
        assert key in m
    for b in ("kmeans", "gmm"):
        assert {"ari", "nmi", "accuracy", "test_log_likelihood"} <= set(m["baselines"][b])
    from vmonf_core import load_checkpoint

    model, extra = load_checkpoint(tmp_path / "model.pt")
    assert model.K == 2 and extra["run_config"]["train"]["seed"] == 1
    assert [h["epoch"] for h in extra["history"]] == list(range(1, m["epochs"] + 1))  # a complete checkpoint
    assert extra["seconds"] == m["seconds"] and float(model.temperature) == m["temperature"] < 1


def test_train_from_csv_with_partial_labels(tmp_path):
    import numpy as np

    from vmonf_core.datasets import two_circles

    x, y = two_circles(200, seed=0)
    lab = np.where(np.arange(200) < 20, y, -1)
    csv = tmp_path / "d.csv"
    csv.write_text("x,y,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(x, lab)))
    out = cli("train", "--preset", "circles-semi", "--data", str(csv), "--label-column", "label", "--epochs", "2",
              "--pretrain-epochs", "2", "--restarts", "1", "--out", str(tmp_path / "o"), "--quiet")
    assert out.returncode == 0, out.stderr
    assert "[pretrain]" not in out.stdout  # --quiet
    from vmonf_core import load_checkpoint

    model, extra = load_checkpoint(tmp_path / "o" / "model.pt")
    assert model.D == 2 and "n" not in extra["run_config"]["data"]  # the preset's own dataset size is not carried over
    assert [h["phase"] for h in extra["history"]][:2] == ["pretrain", "pretrain"]  # the labels were used


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--preset", "nope", "--out", "o"], "invalid choice"),
        (["train", "--preset", "pinwheel", "--out", "o", "--lr", "-1"], "lr must be"),
        (["train", "--preset", "pinwheel", "--out", "o", "--n-components", "0"], "n_components"),
        (["train", "--preset", "pinwheel", "--out", "o", "--depth", "0"], "depth"),
        (["train", "--preset", "pinwheel", "--out", "o", "--epochs", "abc"], "invalid int"),
        (["train", "--preset", "pinwheel", "--out", "o", "--data", "missing.csv"], "not found"),
        (["train", "--preset", "mnist", "--out", "o", "--mnist-dir", "/nonexistent"], "not found"),
        (["train", "--preset", "pinwheel", "--out", "o", "--n", "5"], "2\\*K"),
        (["train", "--preset", "moons", "--out", "o", "--recipe", "bogus"], "invalid choice"),
        # issue 25: a huge seed range was built (5 GB, 20 s) before it was refused; an empty --out wrote into the cwd
        (["sweep", "--preset", "circles", "--out", "o", "--seeds", "0-99999999999999"], "1 to 1000 non-negative seeds"),
        (["sweep", "--preset", "circles", "--out", "o", "--seeds", "5-2"], "1 to 1000 non-negative seeds"),
        (["train", "--preset", "circles", "--out", ""], "--out must name a folder"),
        # issue 25 row 5: a malformed or unreachable scheduler: one line within seconds (was 23 s and a traceback)
        (["sweep", "--preset", "circles", "--seeds", "0", "--out", "o", "--scheduler", "tcp://"], "scheduler address"),
        (["sweep", "--preset", "circles", "--seeds", "0", "--out", "o", "--scheduler", "tcp://127.0.0.1:8791;rm -rf x"],
         "scheduler address"),
        (["sweep", "--preset", "circles", "--seeds", "0", "--out", "o", "--scheduler", "tcp://127.0.0.1:1"],
         "cannot reach the Dask scheduler"),
        (["sweep", "--preset", "circles", "--seeds", "0", "--out", "o", "--format", "xml"], "invalid choice"),
        (["train", "--out", "o"], "--preset NAME .* or --data FILE"),
        (["train", "--preset", "moons", "--label-column", "y", "--out", "o"], "give --data too"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args, message, tmp_path):
    out = cli(*args, cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    import re

    assert re.search(message, lines[0]), lines[0]


# ---------------------------------------------------------------- any-D data (issue 23)
def _five_d(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(-2, 1, (100, 5)), rng.normal(2, 1, (100, 5))]
    y = np.r_[np.zeros(100), np.ones(100)]
    np.save(tmp_path / "d5.npy", np.c_[x, y])
    return tmp_path / "d5.npy"


def test_train_on_five_dimensional_npy_without_a_preset(tmp_path):
    out = cli("train", "--data", str(_five_d(tmp_path)), "--label-column", "-1", "--epochs", "5", "--quiet",
              "--out", str(tmp_path / "o"))
    assert out.returncode == 0, out.stderr
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    cfg = json.loads((tmp_path / "o" / "config.json").read_text())
    assert cfg["recipe"] == "generic" and cfg["model"]["n_components"] == 2  # K from the label column's classes
    assert m["ari"] > 0.9 and "gmm" in m["baselines"]
    from vmonf_core import load_checkpoint

    assert load_checkpoint(tmp_path / "o" / "model.pt")[0].D == 5


def test_sweep_on_five_dimensional_data_with_mean_sd_csv_and_baselines(tmp_path):
    out = cli("sweep", "--data", str(_five_d(tmp_path)), "--label-column", "-1", "--seeds", "0-1", "--epochs", "3",
              "--format", "csv", "--out", str(tmp_path / "o"))
    assert out.returncode == 0, out.stderr
    recs = json.loads((tmp_path / "o" / "sweep.json").read_text())
    assert len(recs) == 2 and {"kmeans", "gmm"} <= set(recs[0]["baselines"])
    head, *rows = (tmp_path / "o" / "summary.csv").read_text().strip().splitlines()
    assert "ari_mean" in head and "ari_sd" in head and [r.split(",")[0] for r in rows][:2] == ["vmonf spectral", "kmeans"]


@pytest.mark.parametrize("content, extra, message", [
    ("a,b,c\n" + "1,2,3\n" * 3 + "1,2\n", [], "different numbers of columns"),
    ("a,b\n1,2\n3,nan\n", ["--n-components", "2"], "NaN or infinite"),
    ("a,b\n1,x\n3,4\n", ["--n-components", "2"], "non-numeric"),
    ("a,b\n1,2\n3,4\n5,6\n", ["--n-components", "3"], "2\\*K"),
    ("a,b,l\n" + "".join(f"{i},{i * i % 7},{[5, -1][i % 2]}\n" for i in range(40)), ["--label-column", "l", "--n-components", "2"],
     "labels must be in"),
    ("0.5,1.5,2\n0.1,0.2,3\n", [], "--n-components"),  # never guessing that the whole-number column is a label
    ("a,b\n1,2\n3,4\n", ["--n", "5"], "built-in dataset"),
])
def test_bad_data_files_give_one_line_and_exit_2(content, extra, message, tmp_path):
    import re

    f = tmp_path / "d.csv"
    f.write_text(content)
    out = cli("train", "--data", str(f), *extra, "--epochs", "1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and re.search(message, lines[0]), lines


# ---------------------------------------------------------------- Ctrl-C and SIGTERM in a sweep (issue 25, rows 6, 7, 13)
@pytest.mark.parametrize("how", ["group", "pid", "term"])
def test_an_interrupted_sweep_keeps_its_finished_runs_and_leaves_no_cluster(how, tmp_path):
    import signal
    import time

    import psutil

    env = dict(os.environ, PYTHONPATH=str(ROOT), VMONF_SCHEDULER="")
    proc = subprocess.Popen([sys.executable, "-m", "vmonf_core", "sweep", "--preset", "circles", "--seeds", "0-5",
                             "--epochs", "150", "--baselines", "false", "--out", str(tmp_path / "o")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        header = proc.stdout.readline()
        assert "seed" in header, (header, proc.stderr.read() if proc.poll() is not None else "")
        first = proc.stdout.readline()  # the first finished run's row
        assert first.strip(), proc.stderr.read()
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children  # the embedded cluster's processes
        if how == "group":  # Ctrl-C in a terminal: the whole process group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, signal.SIGINT if how == "pid" else signal.SIGTERM)
        t = time.monotonic()
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - t
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert took < 10, took  # a hang guard only: 1.4 s measured here (README, "Training engine", Ctrl-C)
    assert "Traceback" not in err and "marked partial" in err
    saved = json.loads((tmp_path / "o" / "sweep.json").read_text())
    assert saved["partial"] is True and saved["planned"] == 6 and 1 <= len(saved["records"]) < 6
    time.sleep(0.5)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]  # nothing outlives it


def test_all_ten_digits_pick_the_presets_ten_digit_recipe():
    """Issue 22: the MNIST preset starts from a spectral clustering when all ten digits are chosen (CLI and page
    alike: both resolve the preset); digits 0-4 keep the k-means start; an explicit --init still wins."""
    from vmonf_core.experiments import resolve

    ten = resolve("mnist", data={"digits": list(range(10))})["train"]
    assert (ten["init"], ten["init_epochs"]) == ("spectral", 10)
    assert (resolve("mnist")["train"]["init"], resolve("mnist")["train"]["init_epochs"]) == ("kmeans", 3)
    assert resolve("mnist", data={"digits": list(range(9))})["train"]["init"] == "kmeans"
    assert resolve("mnist", data={"digits": list(range(10))}, train={"init": "random"})["train"]["init"] == "random"
    assert resolve("mnist", data={"digits": list(range(10))})["model"]["n_components"] == 10
    out = cli("presets")
    assert "all ten digits" in out.stdout
