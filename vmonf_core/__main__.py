"""Command line: ``python -m vmonf_core train --preset NAME ...`` and ``python -m vmonf_core presets``.

Errors in arguments or data print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from .experiments import PRESETS, RECIPES, jsonable_metrics, resolve, run
from .mixture import ModelConfig, save_checkpoint
from .training import TrainConfig, TrainingError

_DATA_OPTIONS = {
    "n": (int, "number of points (toy) or images (MNIST; default all)"),
    "noise": (float, "toy noise level"),
    "test_fraction": (float, "held-out fraction"),
    "labels_per_class": (int, "label this many random points per class (semi-supervised)"),
    "size": (int, "MNIST resolution: 28 or 14"),
    "digits": (str, "MNIST digits, e.g. 0,1,2,3,4"),
    "mnist_dir": (str, "folder with the official MNIST IDX files"),
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
    t.add_argument("--preset", required=True, choices=sorted(PRESETS))
    t.add_argument("--recipe", default="default", choices=RECIPES, help="our default recipe or the thesis-faithful one")
    t.add_argument("--data", type=str, help="CSV with columns x,y[,label] (label -1 = unlabeled)")
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    d = t.add_argument_group("data options")
    for name, (typ, help_) in _DATA_OPTIONS.items():
        d.add_argument("--" + name.replace("_", "-"), type=typ, help=help_, dest=f"data.{name}")
    _add_dataclass_options(t.add_argument_group("model options"), ModelConfig, {"dim"})
    _add_dataclass_options(t.add_argument_group("training options"), TrainConfig, set())
    return p


def _overrides(args: argparse.Namespace) -> tuple[dict, dict, dict]:
    data: dict[str, Any] = {}
    model: dict[str, Any] = {}
    train: dict[str, Any] = {}
    for key, value in vars(args).items():
        if value is None or "." not in key:
            continue
        group, name = key.split(".", 1)
        if group == "data":
            data[name] = _int_list(value) if name == "digits" else value
        elif group == "ModelConfig":
            model[name] = value
        else:
            train[name] = value
    if args.data:
        data["csv"] = args.data
    return data, model, train


def cmd_presets() -> None:
    for name, p in PRESETS.items():
        print(f"{name}: {p['description']}")
        print(f"  data:  {json.dumps(p['data'])}")
        print(f"  model: {json.dumps(p['model'])}")
        print(f"  train: {json.dumps(p['train'])}")
        if "thesis" in p:
            print(f"  --recipe thesis: {json.dumps(p['thesis'])}")


def cmd_train(args: argparse.Namespace) -> int:
    data, model, train = _overrides(args)
    cfg = resolve(args.preset, args.recipe, data, model, train)
    if cfg["data"].get("csv"):
        cfg["data"].pop("name", None)
    out = Path(args.out)

    def progress(r: dict[str, Any]) -> None:
        if not args.quiet:
            ll = f" test_ll {r['test_log_likelihood']:.3f}" if "test_log_likelihood" in r else ""
            print(f"epoch {r['epoch']:>4}/{r['epochs']} [{r['phase']}] elbo {r['elbo']:.4f} "
                  f"T {r['temperature']:.3f}{ll} {r['seconds']:.1f}s", flush=True)

    res = run(cfg, progress)
    out.mkdir(parents=True, exist_ok=True)
    metrics = jsonable_metrics(res.metrics)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / "config.json").write_text(json.dumps(cfg, indent=2))
    save_checkpoint(res.result.model, out / "model.pt", extra={"run_config": cfg})
    keys = [k for k in ("ari", "nmi", "accuracy", "test_log_likelihood", "elbo", "seconds") if k in metrics]
    print("vmonf   " + "  ".join(f"{k} {metrics[k]:.4f}" for k in keys))
    for b, v in metrics.get("baselines", {}).items():
        print(f"{b:<7} " + "  ".join(f"{k} {v[k]:.4f}" for k in ("ari", "nmi", "accuracy", "test_log_likelihood") if k in v))
    print(f"wrote {out / 'metrics.json'} and {out / 'model.pt'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "presets":
            cmd_presets()
            return 0
        return cmd_train(args)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
