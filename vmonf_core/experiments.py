"""One-call experiments shared by the CLI, the app, the engine's workers and the benchmarks.

A run configuration (built by :mod:`vmonf_core.presets`: :func:`resolve`, :func:`table_config`) goes in;
:func:`load_data` materialises its data, :func:`make_trainer` its model and trainer, :func:`run` trains and scores
it against the baselines, :func:`score` scores any model on any data.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .datasets import TOY_DATASETS, Redequantizer, load_csv, load_mnist, make_toy, preprocess_images, train_test_split
from .metrics import baselines, clustering_metrics, contingency
from .presets import GENERIC, PRESETS, auto_epochs, redraws_noise, resolve, table_config
from .training import Trainer, TrainResult

__all__ = ["PRESETS", "GENERIC", "auto_epochs", "table_config", "resolve", "load_data", "Data", "run", "RunOutput",
           "label_subset", "score", "jsonable_metrics", "split_data", "make_trainer", "uncertain_points", "redraws_noise"]


@dataclass
class Data:
    """Training/test arrays plus what the plots need."""

    x: np.ndarray
    y: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    labels: np.ndarray | None = None  # semi-supervision: -1 = unlabeled
    image_size: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


def label_subset(y: np.ndarray, per_class: int, seed: int = 0, x: np.ndarray | None = None) -> np.ndarray:
    """Labels for ``per_class`` points of each class, ``-1`` elsewhere.

    Without ``x`` the points are drawn at random. With ``x`` they are spread over each class: the class's points
    are split into ``per_class`` k-means cells and the point nearest each cell's centre is labeled, so no part of
    a class (an arc of a ring, the tip of a wing) is left without a label.

    Example:
        >>> y = np.array([0, 0, 0, 1, 1, 1])
        >>> int((label_subset(y, 1) >= 0).sum())
        2
    """
    if per_class < 0:
        raise ValueError(f"labels per class must be >= 0, got {per_class}")
    rng = np.random.default_rng(seed)
    out = -np.ones(len(y), dtype=np.int64)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        m = min(per_class, len(idx))
        if m == 0:
            continue
        if x is None or m == len(idx):
            out[rng.choice(idx, m, replace=False)] = c
            continue
        from sklearn.cluster import KMeans

        pts = x[idx]
        km = KMeans(m, n_init=1, random_state=int(rng.integers(2**31))).fit(pts)
        d = ((pts[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)  # (n_c, m)
        chosen: list[int] = []
        for j in np.argsort(d.min(0)):  # nearest distinct point to each centre
            order = np.argsort(d[:, j])
            chosen.append(int(next(i for i in order if i not in chosen)))
        out[idx[chosen]] = c
    return out


def uncertain_points(model, x: np.ndarray, labels: np.ndarray | None = None, m: int = 10, pool: int = 6) -> np.ndarray:
    """Indices of ``m`` unlabeled points worth labeling: uncertain under ``q(k|x)`` and spread out.

    The ``pool * m`` unlabeled points with the highest entropy ``H(q(.|x))`` are split into ``m`` k-means cells
    and the most uncertain point of each cell is suggested. The ``m`` most uncertain points alone sit together on
    one stretch of a boundary: labeling them lowered the pinwheel's ARI by more than 0.02 on 4 of 10 seeds;
    spread out, on none (``bench/labels.py``).

    Example:
        >>> idx = uncertain_points(model, x, labels)  # doctest: +SKIP
        >>> labels[idx] = y_true[idx]  # doctest: +SKIP
    """
    from sklearn.cluster import KMeans

    model.eval()
    with torch.no_grad():
        q = model.posterior(torch.as_tensor(x, dtype=model.dtype, device=model.device)).cpu().numpy()
    h = -(q * np.log(np.clip(q, 1e-12, 1))).sum(1)
    if labels is not None:
        h[np.asarray(labels) >= 0] = -np.inf
    n_free = int(np.isfinite(h).sum())
    m = min(m, n_free)
    if m == 0:
        return np.array([], dtype=np.int64)
    top = np.argsort(-h, kind="stable")[: min(n_free, pool * m)]
    if len(top) == m:  # nothing to spread
        return np.sort(top)
    cells = KMeans(m, n_init=1, random_state=0).fit_predict(x[top])
    picked = [top[cells == j][np.argmax(h[top[cells == j]])] for j in range(m) if (cells == j).any()]
    return np.sort(np.asarray(picked, dtype=np.int64))


def load_data(cfg: dict[str, Any], seed: int | None = None) -> Data:
    """Materialise ``cfg["data"]``: a toy set, a CSV (``csv`` path) or MNIST."""
    d = cfg["data"]
    seed = cfg["train"].get("seed", 0) if seed is None else seed
    tf = d.get("test_fraction", 0.2)
    name = d.get("name")
    image_size = None
    if d.get("path"):  # a file of any dimension
        from .tables import load_table

        x, y = load_table(d["path"], d.get("label_column"))
        name = Path(d["path"]).name
    elif d.get("csv"):
        x, y = load_csv(d["csv"])
    elif name == "mnist":
        images, y = load_mnist(d.get("digits", [0, 1, 2, 3, 4]), path=d.get("mnist_dir"), n=d.get("n"), seed=seed)
        image_size = d.get("size", 28)
        x = preprocess_images(images, size=image_size, seed=seed)
    elif name in TOY_DATASETS:
        x, y = make_toy(name, n=d.get("n", 1000), noise=d.get("noise"), seed=seed)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(TOY_DATASETS) + ['mnist']} or give a CSV")
    data = split_data(x, y, tf, seed, name or "csv")
    data.image_size = image_size
    if image_size:  # the raw training digits, for image views (the same split as x)
        data.info["images"] = train_test_split(images, None, tf, seed=seed)[0]
    if data.labels is None and d.get("labels_per_class") and data.y is not None:
        data.labels = label_subset(data.y, int(d["labels_per_class"]), seed=seed, x=data.x)  # spread over each class
        if d.get("labeled_classes") is not None:  # labels on some classes only (the others stay free)
            data.labels[~np.isin(data.labels, list(d["labeled_classes"]))] = -1
    return data


def split_data(x: np.ndarray, y: np.ndarray | None, test_fraction: float, seed: int, name: str) -> Data:
    """Train/test split. ``y`` with ``-1`` marks (a partly labeled CSV) becomes semi-supervision labels, not ground truth."""
    labels = None
    if y is not None and (y < 0).any():
        labels, y = y, None
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_fraction, seed=seed)
    if labels is not None:
        labels = train_test_split(x, labels, test_fraction, seed=seed)[2]
    return Data(x_tr, y_tr, x_te, y_te, labels, None, {"name": name})


def score(model, data: Data, seed: int = 0, with_baselines: bool = True) -> dict[str, Any]:
    """Clustering metrics (on the training points), held-out log-likelihood and baselines."""
    model.eval()
    with torch.no_grad():
        x = torch.as_tensor(data.x, dtype=model.dtype, device=model.device)
        pred = model.predict(x).cpu().numpy()
        test_ll = float(model.log_prob(torch.as_tensor(data.x_test, dtype=model.dtype, device=model.device)).mean()) if len(data.x_test) else float("nan")
        elbo = float(model.elbo(x).mean())
        log_px = float(model.log_prob(x).mean())
    out: dict[str, Any] = {"test_log_likelihood": test_ll, "elbo": elbo, "temperature": float(model.temperature),
                           "log_px": log_px, "predictions": pred}
    if data.image_size:
        out["test_bits_per_dim"] = _bits_per_dim(test_ll, data.x_test, data.image_size)
    if data.y is not None:
        out.update(clustering_metrics(data.y, pred))
        out["contingency"], out["classes"] = contingency(data.y, pred, model.K)
    if with_baselines:
        b = baselines(data.x, data.y, model.K, seed=seed, x_test=data.x_test if len(data.x_test) else None,
                      covariance_type="diag" if data.x.shape[1] > 50 else "full")
        out["baselines"] = {k: {m: v[m] for m in ("ari", "nmi", "accuracy", "test_log_likelihood", "labels") if m in v} for k, v in b.items()}
        if data.image_size:
            for v in out["baselines"].values():
                if "test_log_likelihood" in v:
                    v["test_bits_per_dim"] = _bits_per_dim(v["test_log_likelihood"], data.x_test, data.image_size)
    return out


def _bits_per_dim(ll_logit: float, x_logit: np.ndarray, size: int, alpha: float = 0.05) -> float:
    """Bits/dim in pixel space [0, 256): undo the logit transform's Jacobian and the /256 scaling."""
    D = size * size
    s = 1 / (1 + np.exp(-x_logit))  # sigmoid(v) = alpha + (1 - 2 alpha) p
    # log|dv/dp| = log(1 - 2 alpha) - log s - log(1 - s), per dimension; p = pixel / 256
    log_jac = (np.log(1 - 2 * alpha) - np.log(s) - np.log1p(-s)).sum(1).mean() - D * np.log(256)
    ll_pixels = ll_logit + log_jac
    return float(-ll_pixels / (D * np.log(2)))


def jsonable_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics as plain JSON types, without the per-point arrays (predictions, baseline labels)."""

    def conv(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items() if k not in ("predictions", "labels")}
        if isinstance(v, np.ndarray):
            return v.tolist()
        if isinstance(v, np.generic):
            return v.item()
        return v

    return conv(metrics)


@dataclass
class RunOutput:
    config: dict[str, Any]
    data: Data
    result: TrainResult
    metrics: dict[str, Any]
    trainer: Trainer | None = None


def make_trainer(cfg: dict[str, Any], data: Data, state: dict[str, Any] | None = None) -> Trainer:
    """The :class:`Trainer` of a run configuration on its data; ``state`` (from ``Trainer.state_dict``) resumes it."""
    model_cfg = dict(cfg["model"], dim=int(data.x.shape[1]))
    truth = data.y if cfg["train"].get("init") == "truth" else None
    resample = None
    if redraws_noise(cfg) and data.image_size:
        if "images" not in data.info:
            raise ValueError("dequantize 'epoch' needs the raw training images (Data.info['images'], from load_data)")
        resample = Redequantizer(data.info["images"], data.image_size, seed=cfg["train"].get("seed", 0))
    trainer = Trainer(model_cfg, data.x, data.labels, data.x_test, cfg["train"], truth=truth, resample_x=resample)
    if state is not None:
        trainer.load_state_dict(state)
    return trainer


def run(
    cfg: dict[str, Any], callback: Callable[[dict[str, Any]], bool | None] | None = None,
    stop_event: threading.Event | None = None, data: Data | None = None, with_baselines: bool = True,
    trainer_state: dict[str, Any] | None = None, on_start: Callable[[Trainer], None] | None = None,
) -> RunOutput:
    """Train the configured model on its data and score it (and the baselines).

    This is the one path the CLI, the engine's workers and the benchmarks take.

    Args:
        cfg: a run configuration (see :func:`resolve`).
        callback: called after every epoch with the progress record; ``False`` stops.
        stop_event: setting it stops within one minibatch step.
        data: the data (default: :func:`load_data` of ``cfg``).
        with_baselines: also fit k-means and a Gaussian mixture on the same data.
        trainer_state: resume a stopped run (``Trainer.state_dict()``).
        on_start: called with the trainer before training (the engine uses it for live previews).
    """
    data = data if data is not None else load_data(cfg)
    t = time.perf_counter()
    trainer = make_trainer(cfg, data, trainer_state)
    if on_start is not None:
        on_start(trainer)
    result = trainer.run(callback, stop_event)
    metrics = score(result.model, data, seed=cfg["train"].get("seed", 0), with_baselines=with_baselines)
    metrics.update(epochs=trainer.epoch, seconds=result.seconds, wall_seconds=time.perf_counter() - t,
                   nonfinite_steps=result.nonfinite_steps, best_restart=result.best_restart,
                   best_epoch=result.best_epoch)
    return RunOutput(cfg, data, result, metrics, trainer)
