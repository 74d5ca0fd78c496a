"""The presets: one table of run configurations (the toy sets, the thesis's own settings, MNIST), the recipe for
data the project knows nothing about, and how a configuration is built from them and checked.

A *run configuration* is a JSON-able dict ``{"data": {...}, "model": {...}, "train": {...}}``: :func:`resolve`
builds one from a preset name, a recipe and overrides, :func:`table_config` for a data file of any dimension.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .mixture import ModelConfig
from .train_config import TrainConfig

__all__ = ["PRESETS", "RECIPES", "GENERIC", "auto_epochs", "table_config", "resolve", "redraws_noise", "validate"]


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


def _toy(name: str, description: str, K: int, restarts: int, thesis: dict[str, Any] | None = None,
         data: dict[str, Any] | None = None, **train: Any) -> dict[str, Any]:
    """A toy set's preset: the toy model and training recipe with ``K`` components and the given changes."""
    preset = {"description": description, "data": {"name": name, "n": 1000, "test_fraction": 0.2, **(data or {})},
              "model": dict(_TOY_MODEL, n_components=K, restarts=restarts), "train": dict(_TOY_TRAIN, **train)}
    if thesis is not None:
        preset["thesis"] = thesis
    return preset


PRESETS: dict[str, dict[str, Any]] = {
    # a self-tuning spectral start kept by a gentler step than the other toy sets' (README, "Pinwheel reliability")
    "pinwheel": _toy("pinwheel", "Pinwheel with 5 wings, K=5 (thesis figure 5.1).", K=5, restarts=2,
                     thesis=THESIS_PINWHEEL, lr=4e-3, init="spectral", init_epochs=15),
    "circles": _toy("circles", "Two concentric circles, unsupervised, K=2, k-means start: the half-plane split "
                    "(thesis 5.1.2).", K=2, restarts=4, thesis=THESIS_CIRCLES),
    "circles-semi": _toy("circles", "Two circles with 16 labels per class: semi-supervision recovers them.", K=2,
                         restarts=2, thesis=THESIS_CIRCLES_SEMI, data={"labels_per_class": 16}, init="random",
                         pretrain_epochs=20, supervised_weight=5.0),
    "moons": _toy("moons", "Two moons, K=2.", K=2, restarts=4),
    "mnist": {
        "description": "MNIST digits 0-4 at 14x14, MAF components: a quick CPU setting.",
        # fresh dequantisation noise every epoch (datasets.Redequantizer; measured: README, "MNIST")
        "data": {"name": "mnist", "digits": [0, 1, 2, 3, 4], "size": 14, "n": None, "test_fraction": 0.2, "dequantize": "epoch"},
        "model": dict(flow="maf", depth=2, hidden=128, hidden_layers=1, posterior_hidden=[256], posterior_batch_norm=True, restarts=1),
        # snapshots selected, and training stopped, on a 10% validation split of the training images: the flows
        # overfit the shipped digits after about ten epochs (README, "MNIST")
        "train": dict(epochs=30, batch_size=100, lr=1e-3, weight_decay=1e-5, init="kmeans", init_epochs=3, balance=1.0, t_min=0.5,
                      val_fraction=0.1, select_by="val_log_likelihood", patience=8),
        # all ten digits (issue 22): a spectral start, fitted for 10 epochs; digits 0-4 keep the k-means start
        # (measured: README, "MNIST: all ten digits", docs/sweeps/mnist10.jsonl)
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
