"""The command line's arguments: the parser of ``python -m vmonf_core`` (``vmonf``), and how its options become a
run configuration (a preset with overrides, or a data file of any dimension). Every problem is a ``ValueError`` in
one sentence, which :mod:`vmonf_core.__main__` prints on one line before exiting with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from .mixture import ModelConfig
from .presets import PRESETS, RECIPES, resolve, table_config
from .train_config import TrainConfig

__all__ = ["build_parser", "config_of", "overrides", "seed_range", "str_list", "MAX_SEEDS"]


_DATA_OPTIONS = {
    "n": (int, "number of points (toy) or images (MNIST; default all)"),
    "noise": (float, "toy noise level"),
    "test_fraction": (float, "held-out fraction"),
    "labels_per_class": (int, "label this many points per class, spread over each class (semi-supervised)"),
    "labeled_classes": (str, "label only these classes, e.g. 0,1 (with --labels-per-class)"),
    "size": (int, "MNIST resolution: 28 or 14"),
    "digits": (str, "MNIST digits, e.g. 0,1,2,3,4"),
    "mnist_dir": (str, "folder with the official MNIST IDX files"),
    "dequantize": (str, "MNIST dequantisation noise: 'epoch' (a fresh draw every epoch) or 'fixed' (one draw)"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"error: {message}\n")


def _bool(s: str) -> bool:
    if s.lower() in ("1", "true", "yes", "on"):
        return True
    if s.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {s!r}")


def _int_list(s: str) -> list[int]:
    try:
        return [int(v) for v in s.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {s!r}") from None


def _add_dataclass_options(group: argparse._ArgumentGroup, cls: type, skip: set[str]) -> None:
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        t = f.type if isinstance(f.type, str) else f.type.__name__
        if "bool" in t:
            group.add_argument(flag, type=_bool, metavar="BOOL", dest=f"{cls.__name__}.{f.name}")
        elif "list" in t:
            group.add_argument(flag, type=_int_list, metavar="W1,W2", dest=f"{cls.__name__}.{f.name}")
        elif "int" in t:
            group.add_argument(flag, type=int, dest=f"{cls.__name__}.{f.name}")
        elif "float" in t:
            group.add_argument(flag, type=float, dest=f"{cls.__name__}.{f.name}")
        else:
            group.add_argument(flag, type=str, dest=f"{cls.__name__}.{f.name}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m vmonf_core", description="Variational Mixture of Normalizing Flows")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("presets", help="list the presets with their settings")
    t = sub.add_parser("train", help="train a preset and write metrics.json and model.pt")
    _common(t)
    t.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    w = sub.add_parser("sweep", help="train a grid of seeds x inits in parallel on the Dask engine; write sweep.json")
    _common(w, train=False)
    w.add_argument("--seeds", required=True, type=seed_range, help="e.g. 0-9 or 0,3,7")
    w.add_argument("--init", dest="inits", type=str_list, help="comma-separated starts, e.g. random,kmeans,spectral,truth")
    w.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="the summary table's format")
    w.add_argument("--baselines", type=_bool, default=True, metavar="BOOL",
                   help="also run k-means, GaussianMixture and spectral clustering on each cell's split (default true)")
    return p


def _common(t: argparse.ArgumentParser, train: bool = True) -> None:
    t.add_argument("--preset", choices=sorted(PRESETS), help="a built-in setup (required unless --data is given)")
    t.add_argument("--recipe", default="default", choices=RECIPES, help="our default recipe or the thesis-faithful one")
    t.add_argument("--data", type=str, help="your data, any dimension: a CSV (header row optional), .npy or .npz; every "
                                            "column is a feature unless --label-column names one. Without --preset: "
                                            "the generic recipe (presets.GENERIC), epochs by data size")
    t.add_argument("--label-column", type=str, metavar="NAME|INDEX",
                   help="the --data column holding labels (-1 = unlabeled; a column without -1 is the ground truth "
                        "that ARI, NMI and accuracy are measured against)")
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--scheduler", type=str, help="Dask scheduler address (default: $VMONF_SCHEDULER; sweep starts a local "
                                                 "cluster when neither is set; train runs in this process)")
    t.add_argument("--threads", type=int, help="torch threads when training in this process (default: torch's choice)")
    d = t.add_argument_group("data options")
    for name, (typ, help_) in _DATA_OPTIONS.items():
        d.add_argument("--" + name.replace("_", "-"), type=typ, help=help_, dest=f"data.{name}")
    _add_dataclass_options(t.add_argument_group("model options"), ModelConfig, {"dim"})
    _add_dataclass_options(t.add_argument_group("training options"), TrainConfig, set() if train else {"init"})


MAX_SEEDS = 1000


def seed_range(s: str) -> list[int]:
    """Seeds like ``0-9`` or ``0,3,7``; every range is checked before it is expanded (``0-99999999999999`` is refused
    at once, not after building a list of that length)."""
    bad = argparse.ArgumentTypeError(f"expected 1 to {MAX_SEEDS} non-negative seeds, got {s!r}")
    try:
        parts: list[tuple[int, int]] = []
        for part in s.split(","):
            if "-" in part.strip()[1:]:
                a, b = part.split("-", 1)
                parts.append((int(a), int(b)))
            elif part.strip():
                parts.append((int(part), int(part)))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds like 0-9 or 0,3,7, got {s!r}") from None
    if not parts or any(a < 0 or b < a for a, b in parts) or sum(b - a + 1 for a, b in parts) > MAX_SEEDS:
        raise bad
    return [seed for a, b in parts for seed in range(a, b + 1)]


def str_list(s: str) -> list[str]:
    out = [v.strip() for v in s.split(",") if v.strip()]
    if not out:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {s!r}")
    return out


def overrides(args: argparse.Namespace) -> tuple[dict, dict, dict]:
    data: dict[str, Any] = {}
    model: dict[str, Any] = {}
    train: dict[str, Any] = {}
    for key, value in vars(args).items():
        if value is None or "." not in key:
            continue
        group, name = key.split(".", 1)
        if group == "data":
            data[name] = _int_list(value) if name in ("digits", "labeled_classes") else value
        elif group == "ModelConfig":
            model[name] = value
        else:
            train[name] = value
    return data, model, train


# data options that describe a built-in dataset: they cannot apply to a file
_BUILTIN_DATA = set(_DATA_OPTIONS) - {"test_fraction", "labels_per_class", "labeled_classes"}


def config_of(args: argparse.Namespace, train_overrides: dict | None = None) -> dict[str, Any]:
    """The run configuration of ``train``/``sweep``: a preset, or a data file (with or without a preset)."""
    data, model, train = overrides(args)
    train.update(train_overrides or {})
    if args.label_column is not None and not args.data:
        raise ValueError("--label-column names a column of --data; give --data too")
    if not args.data:
        if args.preset is None:
            raise ValueError("give --preset NAME (see `presets`) or --data FILE")
        return resolve(args.preset, args.recipe, data, model, train)
    given = sorted(set(data) & _BUILTIN_DATA)
    if given:
        raise ValueError(f"--{given[0].replace('_', '-')} describes a built-in dataset; it does not apply to --data")
    return table_config(args.data, args.label_column, args.preset, args.recipe, data, model, train)
