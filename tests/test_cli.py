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
    out = cli("train", "--preset", "circles-semi", "--data", str(csv), "--epochs", "2", "--pretrain-epochs", "2",
              "--restarts", "1", "--out", str(tmp_path / "o"), "--quiet")
    assert out.returncode == 0, out.stderr
    assert "[pretrain]" not in out.stdout  # --quiet


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
