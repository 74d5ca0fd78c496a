"""Hardening round 2 (issue 12): giant settings, MNIST files, crafted events and labels end in clear errors."""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest

from vmonf_core.datasets import load_mnist_idx
from vmonf_core.mixture import ModelConfig
from vmonf_core.train_config import validate_data
from vmonf_core.training import Trainer


def test_models_bigger_than_the_budget_are_refused_before_allocation():
    t = time.perf_counter()
    with pytest.raises(ValueError, match="GB"):
        ModelConfig(dim=2, n_components=8, restarts=8, depth=64, hidden=2048)
    with pytest.raises(ValueError, match="at most 16"):
        ModelConfig(dim=2, n_components=2, posterior_hidden=[8] * 17)
    x = np.random.default_rng(0).normal(size=(2000, 2))
    with pytest.raises(ValueError, match="training this model needs"):  # parameters fit; activations of the batch do not
        Trainer(dict(dim=2, n_components=16, restarts=16, depth=16, hidden=256), x, config=dict(batch_size=2000))
    assert time.perf_counter() - t < 5


def _idx(path, shape, body=b""):
    path.write_bytes(struct.pack(">HBB", 0, 8, len(shape)) + struct.pack(">" + "I" * len(shape), *shape) + body)


def test_idx_headers_that_ask_for_giant_images_are_refused(tmp_path):
    _idx(tmp_path / "train-images-idx3-ubyte", (1, 1, 150_000_000), b"\0" * 1000)
    _idx(tmp_path / "train-labels-idx1-ubyte", (1,), b"\0")
    with pytest.raises(ValueError, match="28x28"):
        load_mnist_idx(tmp_path)


def test_symlinks_out_of_the_folder_are_refused(tmp_path):
    outside, folder = tmp_path / "outside", tmp_path / "mnist"
    outside.mkdir()
    folder.mkdir()
    _idx(outside / "secret", (1, 28, 28), b"\0" * 784)
    (folder / "train-images-idx3-ubyte").symlink_to(outside / "secret")
    _idx(folder / "train-labels-idx1-ubyte", (1,), b"\0")
    with pytest.raises(ValueError, match="links outside"):
        load_mnist_idx(folder)


def test_huge_float_labels_do_not_wrap_around():
    x = np.random.default_rng(0).normal(size=(10, 2))
    y = -np.ones(10)
    y[0] = 1e19
    with pytest.raises(ValueError, match="labels must be in"):
        validate_data(x, 2, y)


def test_crafted_selection_events_are_dropped_not_raised():
    from ui.labeling import selected_points

    event = {"selection": {"points": [{"y": 1.0}, {"x": "a", "y": 1}, {"x": 1, "y": 2, "customdata": "7"},
                                      {"x": 0.5, "y": 0.5, "customdata": [3]}, "junk", {"x": float("nan"), "y": 0}]}}
    pts = selected_points(event)
    assert [p.get("customdata") for p in pts] == [None, 3]  # the point without x survives for index-based uses only
    for bad in (None, {}, {"selection": None}, {"selection": {"points": "x"}}, [1, 2]):
        assert selected_points(bad) == []


@pytest.mark.parametrize("cfg", [
    dict(dim=2, n_components=5, depth=4, hidden=32, restarts=2),
    dict(dim=784, n_components=5, flow="realnvp", depth=5, hidden=200, hidden_layers=1, batch_norm=True),
    dict(dim=196, n_components=3, flow="maf", depth=2, hidden=128, hidden_layers=1, batch_norm=True, posterior_hidden=[256]),
    dict(dim=3, n_components=3, flow="lu-prelu", depth=6, batch_norm=True, posterior_batch_norm=False),
])
def test_the_budget_counts_every_parameter_the_model_builds(cfg):
    """Issue 25: the closed form counted a RealNVP block as D/2 -> hidden -> D (half of the real D -> hidden -> 2D at
    D = 784) and no batch norms, so the cap let through models twice its size."""
    from vmonf_core import VMoNF
    from vmonf_core.budget import parameter_count

    assert parameter_count(cfg) == sum(p.numel() for p in VMoNF(**cfg).parameters())
