"""MNIST page helpers: data loading (cached), path validation, sample grids, PNG/CSV export."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import streamlit as st
import torch
from PIL import Image

from vmonf_core.datasets import load_mnist
from vmonf_core.experiments import Data, load_data, redraws_noise
from vmonf_core.previews import image_grid, sample_grid  # noqa: F401  (sample_grid: used by the page)

REPO = Path(__file__).resolve().parent.parent


def allowed_roots() -> list[Path]:
    """Folders under which a user may point at local MNIST files (``VMONF_DATA_ROOTS`` overrides)."""
    env = os.environ.get("VMONF_DATA_ROOTS")
    roots = [Path(p) for p in env.split(os.pathsep)] if env else [Path.home(), REPO / "data"]
    return [r.resolve() for r in roots]


def validate_folder(text: str) -> Path:
    """A user-given folder, resolved and checked to lie under an allowed root (raises ``ValueError``)."""
    if len(text) > 500 or "\x00" in text:
        raise ValueError("that folder path is not valid")
    path = Path(text).expanduser().resolve()
    if not any(path == r or r in path.parents for r in allowed_roots()):
        raise ValueError(f"for safety, MNIST folders must lie under {', '.join(str(r) for r in allowed_roots())}")
    if not path.is_dir():
        raise ValueError(f"MNIST folder not found: {path}")
    return path


@st.cache_data(max_entries=8, show_spinner=False)
def available_images(digits: tuple[int, ...], folder: str | None) -> int:
    """How many images of these digits the data holds (the image-count slider's maximum)."""
    _, y = load_mnist(list(digits), path=folder, n=None, seed=0)
    return int(len(y))


def class_examples(data: Data, per_class: int = 10) -> np.ndarray:
    """A grid of the first ``per_class`` training images of each class, one row per class."""
    images = data.info["images"].astype(np.float64) / 255.0
    tiles = []
    for c in np.unique(data.y):
        idx = np.flatnonzero(data.y == c)[:per_class]
        block = np.ones((per_class, 28, 28))
        block[: len(idx)] = images[idx]
        tiles.append(block)
    return image_grid(np.concatenate(tiles), len(tiles), per_class)


@st.cache_data(max_entries=8, show_spinner="Loading digits...")
def mnist_data(data_config: dict, seed: int) -> Data:
    """The run configuration's digits, through the same :func:`vmonf_core.experiments.load_data` as the CLI."""
    return load_data({"data": data_config, "train": {"seed": seed}})


def confident_members(model, data: Data, per_cluster: int = 8) -> np.ndarray:
    """For each cluster, the training images with the highest q(k|x)."""
    with torch.no_grad():
        q = model.posterior(torch.as_tensor(data.x, dtype=model.dtype, device=model.device)).cpu().numpy()
    pred = q.argmax(1)
    images = data.info["images"].astype(np.float64) / 255.0
    tiles = []
    for k in range(model.K):
        idx = np.flatnonzero(pred == k)
        top = idx[np.argsort(-q[idx, k])[:per_cluster]]
        block = np.ones((per_cluster, 28, 28))
        block[: len(top)] = images[top]
        tiles.append(block)
    return image_grid(np.concatenate(tiles), model.K, per_cluster)


def png_bytes(grid: np.ndarray, scale: int = 3) -> bytes:
    img = Image.fromarray((255 * (1 - grid)).astype(np.uint8)).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def contingency_csv(table: np.ndarray, classes: np.ndarray) -> str:
    head = "digit," + ",".join(f"cluster_{k + 1}" for k in range(table.shape[1]))
    return "\n".join([head] + [f"{c}," + ",".join(f"{v:.4f}" for v in row) for c, row in zip(classes, table)]) + "\n"


def curves_caption(cfg: dict) -> str:
    """What the curves of this run show, from its own run configuration."""
    train = cfg["train"]
    text = "The curves above, train against held-out log p(x): the snapshot kept is the one with the best "
    if train.get("select_by") == "val_log_likelihood":
        text += (f"validation log-likelihood ({train.get('val_fraction', 0):.0%} of the training images, never the test "
                 "split)")
        text += (f", and training stops after {train['patience']} epochs without improvement" if train.get("patience") else "")
    else:
        text += "training ELBO"
    text += ". A widening gap between the train and held-out curves is overfitting."
    if redraws_noise(cfg):
        text += " Each epoch draws fresh dequantisation noise for the training images, so no fixed noise is fitted."
    return text
