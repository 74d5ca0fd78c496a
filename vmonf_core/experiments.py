"""Presets and one-call experiments shared by the CLI, the app and the benchmarks.

A *run configuration* is a JSON-able dict ``{"data": {...}, "model": {...}, "train": {...}}``.
:func:`resolve` builds one from a preset name, a recipe and overrides; :func:`load_data`
materialises its data; :func:`run` trains and scores it against the baselines.
"""

from __future__ import annotations

import copy
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
from .mixture import ModelConfig
from .train_config import TrainConfig
from .training import Trainer, TrainResult

__all__ = ["PRESETS", "GENERIC", "auto_epochs", "table_config", "resolve", "load_data", "Data", "run", "RunOutput",
           "label_subset", "score", "jsonable_metrics", "split_data", "make_trainer", "uncertain_points", "redraws_noise"]

_TOY_MODEL = dict(flow="realnvp", depth=4, hidden=32, hidden_layers=2, posterior_hidden=[64, 64], posterior_batch_norm=True)
_TOY_TRAIN = dict(epochs=40, batch_size=128, lr=1e-2, init="kmeans", t_min=0.1)
# The thesis's own settings (chapter 5), per experiment: RealNVP blocks whose s/t nets have one hidden layer of 8,
# one random start, Adam lr 1e-3. The data sizes are training points; the 20% test split comes on top.
_THESIS_RNVP = dict(flow="realnvp", hidden=8, hidden_layers=1, posterior_batch_norm=False, restarts=1)
_THESIS_TRAIN = dict(lr=1e-3, init="random", t0=1.0, t_decay=1e-3)
THESIS_PINWHEEL = {"data": {"n": 3200},  # 2,560 training points, 512 per wing
                   "model": dict(_THESIS_RNVP, depth=8, posterior_hidden=[3]),
                   "train": dict(_THESIS_TRAIN, batch_size=512, epochs=400)}
THESIS_CIRCLES = {"data": {"n": 1280},  # 1,024 training points
                  "model": dict(_THESIS_RNVP, depth=10, posterior_hidden=[16, 16]),
                  "train": dict(_THESIS_TRAIN, batch_size=128, epochs=500)}
THESIS_CIRCLES_SEMI = {"data": {"n": 1280, "labels_per_class": 16},
                       "model": dict(THESIS_CIRCLES["model"]),
                       "train": dict(THESIS_CIRCLES["train"], pretrain_epochs=300, semi_mode="alternate")}

PRESETS: dict[str, dict[str, Any]] = {
    "pinwheel": {
        "description": "Pinwheel with 5 wings, K=5 (thesis figure 5.1).",
        "data": {"name": "pinwheel", "n": 1000, "test_fraction": 0.2},
        # a self-tuning spectral start (ARI 0.98-1.00 on seeds 0-9) kept by a gentler step: at lr 1e-2 the first ELBO
        # epochs moved a 0.99 start to 0.65-0.70; at 4e-3 it stays (README, "Pinwheel reliability")
        "model": dict(_TOY_MODEL, n_components=5, restarts=2),
        "train": dict(_TOY_TRAIN, lr=4e-3, init="spectral", init_epochs=15),
        "thesis": THESIS_PINWHEEL,
    },
    "circles": {
        "description": "Two concentric circles, unsupervised, K=2, k-means start: the half-plane split (thesis 5.1.2).",
        "data": {"name": "circles", "n": 1000, "test_fraction": 0.2},
        "model": dict(_TOY_MODEL, n_components=2, restarts=4),
        "train": dict(_TOY_TRAIN),
        "thesis": THESIS_CIRCLES,
    },
    "circles-semi": {
        "description": "Two circles with 16 labels per class: semi-supervision recovers them.",
        "data": {"name": "circles", "n": 1000, "test_fraction": 0.2, "labels_per_class": 16},
        "model": dict(_TOY_MODEL, n_components=2, restarts=2),
        "train": dict(_TOY_TRAIN, init="random", pretrain_epochs=20, supervised_weight=5.0),
        "thesis": THESIS_CIRCLES_SEMI,
    },
    "moons": {
        "description": "Two moons, K=2.",
        "data": {"name": "moons", "n": 1000, "test_fraction": 0.2},
        "model": dict(_TOY_MODEL, n_components=2, restarts=4),
        "train": dict(_TOY_TRAIN),
    },
    "mnist": {
        "description": "MNIST digits 0-4 at 14x14, MAF components: a quick CPU setting.",
        # fresh dequantisation noise every epoch: held-out log-lik +56..+110 on seeds 0-5 (one fixed draw: +19..+91)
        "data": {"name": "mnist", "digits": [0, 1, 2, 3, 4], "size": 14, "n": None, "test_fraction": 0.2, "dequantize": "epoch"},
        "model": dict(flow="maf", depth=2, hidden=128, hidden_layers=1, posterior_hidden=[256], posterior_batch_norm=True, restarts=1),
        # snapshots selected, and training stopped, on a 10% validation split of the training images: the flows
        # overfit the 4,100 shipped digits after ~10 epochs (held-out log-lik +77 at epoch 9, -110 at epoch 30)
        "train": dict(epochs=30, batch_size=100, lr=1e-3, weight_decay=1e-5, init="kmeans", init_epochs=3, balance=1.0, t_min=0.5,
                      val_fraction=0.1, select_by="val_log_likelihood", patience=8),
        # all ten digits (issue 22): a spectral start, fitted for 10 epochs. Seeds 0-2: ACC 0.674 / 0.655 / 0.654 against
        # 0.565 / 0.540 / 0.607 from the k-means start (README, "MNIST: all ten digits", docs/sweeps/mnist10.jsonl);
        # digits 0-4 keep the k-means start (ACC >= 0.93)
        "all_digits": {"train": {"init": "spectral", "init_epochs": 10}},
    },
    "mnist-thesis": {
        "description": "The thesis setting (chapter 5.2): 28x28, MAF 5x200, q 512, lr 1e-4, 100 epochs. Slow on CPU.",
        "data": {"name": "mnist", "digits": [0, 1, 2, 3, 4], "size": 28, "n": None, "test_fraction": 0.2},
        "model": dict(flow="maf", depth=5, hidden=200, hidden_layers=1, posterior_hidden=[512], posterior_batch_norm=False, restarts=1),
        "train": dict(epochs=100, batch_size=100, lr=1e-4, weight_decay=1e-6, init="random"),
    },
}
RECIPES = ("default", "thesis")

# The recipe for data the project knows nothing about: a file of any dimension (the CLI's --data without --preset)
# and the scikit-learn estimator's defaults (vmonf_core.estimator reads it). A self-tuning spectral start kept by a
# gentle step, as on the pinwheel; bench/estimator.py measures it against k-means, GMM and spectral clustering.
GENERIC: dict[str, Any] = {
    "data": {"test_fraction": 0.2},
    "model": dict(flow="realnvp", depth=4, hidden=32, hidden_layers=2, posterior_hidden=[64, 64], posterior_batch_norm=True,
                  restarts=2),
    "train": dict(batch_size=128, lr=4e-3, init="spectral", init_epochs=15, t0=1.0, t_decay=1e-3, t_min=0.1),
}
AUTO_STEPS = 600  # minibatch steps that automatic epochs aim at
AUTO_EPOCHS = (20, 300)  # ... within these bounds


def auto_epochs(n_samples: int, batch_size: int) -> int:
    """Epochs for data of unknown size: about :data:`AUTO_STEPS` minibatch steps, within :data:`AUTO_EPOCHS`
    (enough steps for a few hundred points, a few passes over large data).

    Example:
        >>> auto_epochs(50, 50), auto_epochs(1000, 128), auto_epochs(100_000, 128)
        (300, 75, 20)
    """
    steps_per_epoch = -(-n_samples // batch_size)
    lo, hi = AUTO_EPOCHS
    return int(min(hi, max(lo, -(-AUTO_STEPS // steps_per_epoch))))


def table_config(path: str, label_column: str | int | None = None, preset: str | None = None, recipe: str = "default",
                 data: dict | None = None, model: dict | None = None, train: dict | None = None) -> dict[str, Any]:
    """A validated run configuration for a data file of any dimension (:func:`vmonf_core.tables.load_table`).

    Without a preset it uses :data:`GENERIC`, with ``epochs`` from :func:`auto_epochs` unless given; with one, the
    preset's model and training settings (its dataset's own options, such as ``n``, are not carried over). ``K``
    (``model["n_components"]``) is required unless the file's label column holds labels: then it is their number of
    classes.

    Raises:
        ValueError: the file cannot be read, or no ``K`` can be found, or an option is invalid.
    """
    from .tables import load_table

    x, y = load_table(path, label_column)
    model, train = dict(model or {}), dict(train or {})
    if preset is not None:
        base = resolve(preset, recipe)
        base_model, base_train = base["model"], base["train"]
        tf = base["data"].get("test_fraction", 0.2)
    else:
        base_model, base_train, tf = dict(GENERIC["model"]), dict(GENERIC["train"]), GENERIC["data"]["test_fraction"]
    if "n_components" not in model and "n_components" not in base_model:
        classes = np.unique(y[y >= 0]) if y is not None else []
        if len(classes) < 1:
            raise ValueError("give the number of components (--n-components): the file has no label column to count")
        model["n_components"] = int(len(classes))
    cfg_train = {**base_train, **train}
    if "epochs" not in cfg_train:
        n_train = len(x) - int(round((data or {}).get("test_fraction", tf) * len(x)))
        cfg_train["epochs"] = auto_epochs(max(n_train, 1), min(int(cfg_train["batch_size"]), max(n_train, 1)))
    cfg = {"preset": preset, "recipe": recipe if preset else "generic",
           "data": {"path": str(path), "label_column": label_column, "test_fraction": tf, **(data or {})},
           "model": {**base_model, **model, "dim": int(x.shape[1])}, "train": cfg_train}
    validate(cfg)
    cfg["model"].pop("dim")  # filled from the data when the model is built (make_trainer)
    return cfg


def resolve(
    preset: str, recipe: str = "default", data: dict | None = None, model: dict | None = None, train: dict | None = None
) -> dict[str, Any]:
    """A validated run configuration from a preset, a recipe and overrides.

    A preset's ``all_digits`` part (MNIST) is applied when all ten digits are chosen, before the overrides.

    Example:
        >>> resolve("mnist", data={"digits": list(range(10))})["train"]["init"], resolve("mnist")["train"]["init"]
        ('spectral', 'kmeans')

    Raises:
        ValueError: unknown preset/recipe or invalid option values.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {list(RECIPES)}")
    p = copy.deepcopy(PRESETS[preset])
    if recipe == "thesis":
        if "thesis" not in p:
            raise ValueError(f"preset {preset!r} has no thesis recipe (the thesis ran pinwheel, circles, circles-semi and "
                             "mnist-thesis)")
        p["data"].update(p["thesis"].get("data", {}))
        p["model"].update(p["thesis"]["model"])
        p["train"] = dict(p["thesis"]["train"])
    digits = (data or {}).get("digits", p["data"].get("digits"))
    if "all_digits" in p and digits is not None and set(digits) == set(range(10)):  # the preset's ten-digit recipe
        for part, over in p["all_digits"].items():
            p[part].update(over)
    cfg = {"preset": preset, "recipe": recipe, "data": {**p["data"], **(data or {})},
           "model": {**p["model"], **(model or {})}, "train": {**p["train"], **(train or {})}}
    if cfg["data"].get("name") == "mnist":
        cfg["model"].setdefault("n_components", len(set(cfg["data"].get("digits", [0, 1, 2, 3, 4]))))  # K = number of digits
    validate(cfg)
    return cfg


def redraws_noise(cfg: dict[str, Any]) -> bool:
    """Whether the run draws fresh dequantisation noise every epoch (``data.dequantize == "epoch"``), which needs
    the raw images (``Data.info["images"]``) wherever it trains."""
    return cfg["data"].get("dequantize") == "epoch"


def validate(cfg: dict[str, Any]) -> None:
    """Check a run configuration's model and training parts (``dim`` is filled from data later)."""
    if cfg["data"].get("dequantize", "fixed") not in ("fixed", "epoch"):
        raise ValueError(f"dequantize must be 'fixed' or 'epoch', got {cfg['data'].get('dequantize')!r}")
    model = dict(cfg["model"])
    model.setdefault("dim", 2)  # the toy sets; a file's dimension is set by table_config
    if cfg["data"].get("name") == "mnist":
        model["dim"] = {28: 784, 14: 196}.get(cfg["data"].get("size", 28), 784)
    ModelConfig.from_dict(model)
    TrainConfig.from_dict(cfg["train"])


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
