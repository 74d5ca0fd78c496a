"""The Playground's settings: recipes from ``PRESETS``, the sidebar controls, the run config and the setup link.

Every setting is a widget whose key is its URL query parameter (``bind="query-params"``) and whose value
survives page switches (``persist_state="session"``): a link reproduces the setup, and a visit to another
page leaves it as it was.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from vmonf_core.datasets import TOYS
from vmonf_core.experiments import PRESETS, resolve
from vmonf_core.mixture import ModelConfig
from vmonf_core.schedule import labeled_loss_weight, pretrains_on_labels
from vmonf_core.train_config import TrainConfig

from . import state as S

INIT_EPOCHS = {"random": 0, "kmeans": 3, "spectral": 15, "mixed": 15, "truth": 15}
SWEEPS = Path(__file__).resolve().parent.parent / "docs" / "sweeps"  # stored measurements (README, "Benchmarks")


@st.cache_data(show_spinner=False)
def thesis_measured(preset: str) -> str:
    """What the thesis's own setting reached on ``preset``, from its stored sweep
    (``python -m vmonf_core sweep --preset P --recipe thesis --seeds 0-9`` -> ``docs/sweeps/thesis-P.json``), or ""."""
    try:
        ari = sorted(float(r["ari"]) for r in json.loads((SWEEPS / f"thesis-{preset}.json").read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if not ari:
        return ""
    seeds, good = len(ari), sum(a >= 0.95 for a in ari)
    return (f"ARI over {seeds} seeds median {float(np.median(ari)):.2f}, range {ari[0]:.2f}-{ari[-1]:.2f} "
            f"({f'{good} of {seeds} reach' if good else 'none reaches'} 0.95)")


KEEP = dict(bind="query-params", persist_state="session")  # in the URL, and kept across pages


def recipe_values(preset: str, recipe: str) -> dict[str, Any]:
    """Widget values of a preset's recipe, read from ``vmonf_core.presets.PRESETS`` (the one table)."""
    cfg = resolve(preset, recipe)
    m, t = cfg["model"], cfg["train"]
    return dict(flow=m["flow"], depth=m["depth"], hidden=m["hidden"], hidden_layers=m.get("hidden_layers", 2),
                posterior_hidden=",".join(map(str, m["posterior_hidden"])), posterior_batch_norm=m["posterior_batch_norm"],
                prior=m.get("prior", "uniform"), restarts=m["restarts"], t0=t.get("t0", 1.0), t_decay=t.get("t_decay", 1e-3),
                lr=t["lr"], batch_size=t["batch_size"], epochs=t["epochs"], init=t.get("init", "random"))


def apply_recipe(recipe: dict[str, Any]) -> None:
    """Set the settings widgets (a button callback: it runs before the widgets exist)."""
    for k, v in recipe.items():
        st.session_state[S.SETTING[k]] = v


def apply_thesis(preset: str) -> None:
    """The thesis's setting for ``preset``, its data size included (training points + the 20% held out)."""
    apply_recipe(recipe_values(preset, "thesis"))
    st.session_state[S.N_POINTS] = int(resolve(preset, "thesis")["data"]["n"])


def dataset_changed() -> None:
    """K follows the dataset (the user can still override it)."""
    name = st.session_state.get(S.DATASET)
    st.session_state[S.SETTING["K"]] = TOYS[name].K if name in TOYS else TOYS["pinwheel"].K


def settings_panel(dataset: str | None = None) -> dict[str, Any]:
    """Model and training controls (in the sidebar); returns raw widget values.

    The recipes come from the preset of ``dataset`` (pinwheel's for data without one).
    """
    toy = TOYS.get(dataset or "", TOYS["pinwheel"])  # drawn or uploaded data: the pinwheel's recipes and K
    preset = toy.preset
    fast = recipe_values(preset, "default")
    for k, v in {**fast, "K": toy.K, "seed": 0}.items():
        st.session_state.setdefault(S.SETTING[k], v)
    key = S.SETTING
    sb = st.sidebar
    sb.subheader("Model")
    c1, c2 = sb.columns(2)
    has_thesis = "thesis" in PRESETS[preset]
    measured = thesis_measured(preset)
    c1.button("Fast settings", key="pg_fast", on_click=apply_recipe, args=(fast,),
              help=f"Our recipe for {preset}: lr {fast['lr']:g}, {fast['init']} init, {fast['restarts']} restarts, "
                   f"{fast['epochs']} epochs")
    c2.button("Thesis settings", key="pg_thesis", disabled=not has_thesis, on_click=apply_thesis, args=(preset,),
              help=(f"The thesis's own {preset} setting (chapter 5): one random start, lr 1e-3, "
                    f"{recipe_values(preset, 'thesis')['epochs']} epochs. {measured}" if has_thesis
                    else "The thesis did not run this dataset."))
    if has_thesis and measured:
        sb.caption(f"Thesis settings on {preset}: {measured}.")
    v: dict[str, Any] = {}
    v["K"] = sb.number_input("Components K", 2, 64, step=1, key=key["K"], **KEEP)
    v["flow"] = sb.selectbox("Flow", ["realnvp", "maf", "lu-prelu"], key=key["flow"], **KEEP)
    c1, c2 = sb.columns(2)
    v["depth"] = c1.number_input("Depth", None, 64, step=1, key=key["depth"], **KEEP)
    v["hidden"] = c2.number_input("Hidden width", None, 2048, step=8, key=key["hidden"], **KEEP)
    v["hidden_layers"] = sb.number_input("Hidden layers per block", 1, 8, step=1, key=key["hidden_layers"], **KEEP)
    v["posterior_hidden"] = sb.text_input("q(k|x) hidden layers", key=key["posterior_hidden"], max_chars=64,
                                          help="Comma-separated widths, e.g. 64,64", **KEEP)
    v["posterior_batch_norm"] = sb.checkbox("BatchNorm in q", key=key["posterior_batch_norm"], **KEEP)
    v["prior"] = sb.radio("Prior p(k)", ["uniform", "learned"], horizontal=True, key=key["prior"], **KEEP)
    sb.subheader("Training")
    c1, c2 = sb.columns(2)
    v["t0"] = c1.number_input("T0", None, 1000.0, format="%g", key=key["t0"], **KEEP)
    v["t_decay"] = c2.number_input("T decay / step", None, 1.0, format="%g", key=key["t_decay"], **KEEP)
    c1, c2 = sb.columns(2)
    v["lr"] = c1.number_input("Learning rate", None, 10.0, format="%g", key=key["lr"], **KEEP)
    v["batch_size"] = c2.number_input("Batch size", None, 100_000, step=16, key=key["batch_size"], **KEEP)
    c1, c2 = sb.columns(2)
    v["epochs"] = c1.number_input("Epochs", None, 10_000, step=10, key=key["epochs"], **KEEP)
    v["seed"] = c2.number_input("Seed", 0, 2**31 - 1, step=1, key=key["seed"], **KEEP)
    c1, c2 = sb.columns(2)
    v["restarts"] = c1.number_input("Restarts", None, 64, step=1, key=key["restarts"], **KEEP)
    v["init"] = c2.selectbox("Init", ["spectral", "kmeans", "mixed", "random", "truth"], key=key["init"],
                             help="Pseudo-labels that pretrain flows and q first: spectral (self-tuning k-NN graph; 15 epochs), "
                                  "k-means (3 epochs), mixed (both, across restarts), truth (the true classes, 15 epochs: "
                                  "the control experiment, then unsupervised), or random (none)", **KEEP)
    return v


def setup_link(keys: list[str]) -> str:
    """A URL that reproduces the page's setup: every setting spelled out (defaults included)."""
    base = st.context.url or ""
    params = {k: _url_value(st.session_state[k]) for k in keys if k in st.session_state}
    return f"{base}?{urlencode(params, doseq=True)}"


def _url_value(v: Any) -> Any:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, list | tuple):
        return [str(x) for x in v]
    return str(v)


def link_panel(keys: list[str], note: str = "") -> None:
    """The "Link to this setup" box in the sidebar (``st.code`` has a copy button).

    Built only while open: a closed one cost every first visit to a page about 0.3 s of the browser's time, the
    code box's highlighter loaded and run for a box nobody sees (``bench/ui_latency.py``).
    """
    box = st.sidebar.expander("Link to this setup", icon=":material/link:", key=S.LINK_OPEN, on_change="rerun")
    if not box.open:
        return
    with box:
        st.code(setup_link(keys), language=None, wrap_lines=True)
        st.caption("Copy it with the button at the top right of the box. Opening it shows this setup, untrained."
                   + (" " + note if note else ""))


def settings_caption(v: dict[str, Any]) -> str:
    """What Train will run, in one sentence, generated from the current settings."""
    init = str(v["init"])
    ie = INIT_EPOCHS.get(init, 0)
    start = f"a {init} start ({ie} epochs of pretraining on its pseudo-labels), then " if ie else "a random start, then "
    return (f"Train fits K = {int(v['K'])} {v['flow']} flows ({int(v['depth'])} blocks of width {int(v['hidden'])}) "
            f"with {int(v['restarts'])} restart{'s' if int(v['restarts']) != 1 else ''} from {start}{int(v['epochs'])} "
            f"ELBO epochs at lr {float(v['lr']):g}, batch {int(v['batch_size'])}, T from {float(v['t0']):g} decaying by "
            f"{float(v['t_decay']):g} per step. It runs on the training engine, not in this web server.")


def labels_caption(v: dict[str, Any], n_labeled: int, pretrain_epochs: int = 10) -> str:
    """How Train will use ``n_labeled`` labels, following the Trainer's schedule for the current start."""
    if pretrains_on_labels(str(v["init"])):
        first = f"the run first trains on them alone for {pretrain_epochs} epochs"
    else:
        first = f"the {v['init']} start's clusters are renumbered to agree with them (no training on the labels alone)"
    share = labeled_loss_weight(1.0, n_labeled, int(v["batch_size"]))  # the Playground keeps supervised_weight at 1
    weight = "" if share >= 1 else f", weighted by their share of a batch ({share:.2g})"
    return f"{n_labeled} labeled points: {first}, then the labeled loss is added to every ELBO step{weight}."


def build_config(v: dict[str, Any], dim: int, pretrain_epochs: int = 10) -> dict[str, Any]:
    """Turn widget values into a validated run configuration (raises ``ValueError``)."""
    try:
        hidden = [int(h) for h in str(v["posterior_hidden"]).replace(" ", "").split(",") if h != ""]
    except ValueError:
        raise ValueError(f"q(k|x) hidden layers must be comma-separated integers, got {v['posterior_hidden']!r}") from None
    model = dict(n_components=int(v["K"]), flow=v["flow"], depth=int(v["depth"]), hidden=int(v["hidden"]),
                 hidden_layers=int(v.get("hidden_layers", 2)),
                 posterior_hidden=hidden, posterior_batch_norm=bool(v["posterior_batch_norm"]), prior=v["prior"],
                 restarts=int(v["restarts"]))
    train = dict(t0=float(v["t0"]), t_decay=float(v["t_decay"]), lr=float(v["lr"]), batch_size=int(v["batch_size"]),
                 epochs=int(v["epochs"]), seed=int(v["seed"]), init=v["init"], init_epochs=INIT_EPOCHS.get(v["init"], 3),
                 pretrain_epochs=pretrain_epochs)
    if model["n_components"] < 2:
        raise ValueError(f"K must be at least 2 to cluster, got {model['n_components']}")
    ModelConfig(dim=dim, **model)
    TrainConfig(**train)
    return {"model": model, "train": train}
