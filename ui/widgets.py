"""Reusable page parts: settings, training controls, the live panel, results and export.

Pages compose these; all maths lives in ``vmonf_core``.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import numpy as np
import streamlit as st
import torch

from vmonf_core import load_checkpoint, previews, save_checkpoint
from vmonf_core.experiments import PRESETS, Data, jsonable_metrics, resolve
from vmonf_core.mixture import ModelConfig
from vmonf_core.plots import (
    bounds_of,
    components_figure,
    curves_figure,
    density_figure,
    grid_eval,
    labels_partition_figure,
    partition_figure,
    usage_figure,
)
from vmonf_core.training import TrainConfig

MAX_CHECKPOINT_BYTES = 20 * 1024 * 1024

INIT_EPOCHS = {"random": 0, "kmeans": 3, "spectral": 15, "mixed": 15, "truth": 15}
# which preset's recipes a toy dataset uses (K follows the dataset too; the user can still override it)
PRESET_OF = {"pinwheel": "pinwheel", "circles": "circles", "moons": "moons"}
DEFAULT_K = {"pinwheel": 5, "circles": 2, "moons": 2, "blobs": 4, "spirals": 2, "checkerboard": 2}
# measured with: python -m vmonf_core sweep --preset P --recipe thesis --seeds 0-9 (README, "Thesis settings")
THESIS_MEASURED = {
    "pinwheel": "ARI over seeds 0-9 median 0.50, range 0.32-0.69 (none reaches 0.95)",
    "circles": "ARI over seeds 0-9 median 0.22, range 0.01-0.93 (unsupervised)",
}


def recipe_values(preset: str, recipe: str) -> dict[str, Any]:
    """Widget values of a preset's recipe, read from ``vmonf_core.experiments.PRESETS`` (the one table)."""
    cfg = resolve(preset, recipe)
    m, t = cfg["model"], cfg["train"]
    return dict(flow=m["flow"], depth=m["depth"], hidden=m["hidden"], hidden_layers=m.get("hidden_layers", 2),
                posterior_hidden=",".join(map(str, m["posterior_hidden"])), posterior_batch_norm=m["posterior_batch_norm"],
                prior=m.get("prior", "uniform"), restarts=m["restarts"], t0=t.get("t0", 1.0), t_decay=t.get("t_decay", 1e-3),
                lr=t["lr"], batch_size=t["batch_size"], epochs=t["epochs"], init=t.get("init", "random"))


def data_id(x: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(x, dtype=np.float64).tobytes()).hexdigest()[:12]


def _key(prefix: str, name: str) -> str:
    return f"{prefix}_set_{name}"


def apply_recipe(prefix: str, recipe: dict[str, Any]) -> None:
    for k, v in recipe.items():
        st.session_state[_key(prefix, k)] = v


def apply_thesis(prefix: str, preset: str) -> None:
    """The thesis's setting for ``preset`` (a button callback: it runs before the widgets exist)."""
    apply_recipe(prefix, recipe_values(preset, "thesis"))
    if prefix == "pg":  # the thesis's data size too (training points + the 20% held out)
        st.session_state["pg_n"] = int(resolve(preset, "thesis")["data"]["n"])


def settings_panel(prefix: str, dataset: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Model and training controls (in the sidebar); returns raw widget values.

    The recipes come from the preset of ``dataset`` (pinwheel's for data without one); K follows the dataset.
    """
    preset = PRESET_OF.get(dataset or "", "pinwheel")
    fast = recipe_values(preset, "default")
    for k, v in {**fast, "K": DEFAULT_K.get(dataset or "", 5), "seed": seed}.items():
        st.session_state.setdefault(_key(prefix, k), v)
    if dataset is not None and st.session_state.get(f"{prefix}_dataset_seen") not in (None, dataset):
        st.session_state[_key(prefix, "K")] = DEFAULT_K.get(dataset, st.session_state[_key(prefix, "K")])
    st.session_state[f"{prefix}_dataset_seen"] = dataset
    sb = st.sidebar
    sb.subheader("Model")
    c1, c2 = sb.columns(2)
    has_thesis = "thesis" in PRESETS[preset]
    measured = THESIS_MEASURED.get(preset, "")
    c1.button("Fast settings", key=f"{prefix}_fast", on_click=apply_recipe, args=(prefix, fast),
              help=f"Our recipe for {preset}: lr {fast['lr']:g}, {fast['init']} init, {fast['restarts']} restarts, "
                   f"{fast['epochs']} epochs")
    c2.button("Thesis settings", key=f"{prefix}_thesis", disabled=not has_thesis, on_click=apply_thesis, args=(prefix, preset),
              help=(f"The thesis's own {preset} setting (chapter 5): one random start, lr 1e-3, "
                    f"{recipe_values(preset, 'thesis')['epochs']} epochs. {measured}" if has_thesis
                    else "The thesis did not run this dataset."))
    if has_thesis and measured:
        sb.caption(f"Thesis settings on {preset}: {measured}.")
    v: dict[str, Any] = {}
    v["K"] = sb.number_input("Components K", 2, 64, step=1, key=_key(prefix, "K"))
    v["flow"] = sb.selectbox("Flow", ["realnvp", "maf", "lu-prelu"], key=_key(prefix, "flow"))
    c1, c2 = sb.columns(2)
    v["depth"] = c1.number_input("Depth", step=1, key=_key(prefix, "depth"))
    v["hidden"] = c2.number_input("Hidden width", step=8, key=_key(prefix, "hidden"))
    v["hidden_layers"] = sb.number_input("Hidden layers per block", 1, 8, step=1, key=_key(prefix, "hidden_layers"))
    v["posterior_hidden"] = sb.text_input("q(k|x) hidden layers", key=_key(prefix, "posterior_hidden"),
                                          help="Comma-separated widths, e.g. 64,64")
    v["posterior_batch_norm"] = sb.checkbox("BatchNorm in q", key=_key(prefix, "posterior_batch_norm"))
    v["prior"] = sb.radio("Prior p(k)", ["uniform", "learned"], horizontal=True, key=_key(prefix, "prior"))
    sb.subheader("Training")
    c1, c2 = sb.columns(2)
    v["t0"] = c1.number_input("T0", format="%g", key=_key(prefix, "t0"))
    v["t_decay"] = c2.number_input("T decay / step", format="%g", key=_key(prefix, "t_decay"))
    c1, c2 = sb.columns(2)
    v["lr"] = c1.number_input("Learning rate", format="%g", key=_key(prefix, "lr"))
    v["batch_size"] = c2.number_input("Batch size", step=16, key=_key(prefix, "batch_size"))
    c1, c2 = sb.columns(2)
    v["epochs"] = c1.number_input("Epochs", step=10, key=_key(prefix, "epochs"))
    v["seed"] = c2.number_input("Seed", step=1, key=_key(prefix, "seed"))
    c1, c2 = sb.columns(2)
    v["restarts"] = c1.number_input("Restarts", step=1, key=_key(prefix, "restarts"))
    v["init"] = c2.selectbox("Init", ["spectral", "kmeans", "mixed", "random", "truth"], key=_key(prefix, "init"),
                             help="Pseudo-labels that pretrain flows and q first: spectral (k-NN graph; 15 epochs), "
                                  "k-means (3 epochs), mixed (both, across restarts), truth (the true classes, 15 epochs: "
                                  "the control experiment, then unsupervised), or random (none)")
    return v


def settings_caption(v: dict[str, Any]) -> str:
    """What Train will run, in one sentence, generated from the current settings."""
    init = str(v["init"])
    ie = INIT_EPOCHS.get(init, 0)
    start = f"a {init} start ({ie} epochs of pretraining on its pseudo-labels), then " if ie else "a random start, then "
    return (f"Train fits K = {int(v['K'])} {v['flow']} flows ({int(v['depth'])} blocks of width {int(v['hidden'])}) "
            f"with {int(v['restarts'])} restart{'s' if int(v['restarts']) != 1 else ''} from {start}{int(v['epochs'])} "
            f"ELBO epochs at lr {float(v['lr']):g}, batch {int(v['batch_size'])}, T from {float(v['t0']):g} decaying by "
            f"{float(v['t_decay']):g} per step. It runs on the training engine, not in this web server.")


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


# ------------------------------------------------------------------ results
def model_grid(result: dict[str, Any]) -> dict[str, np.ndarray]:
    """Grid evaluation of a 2-D result, computed once and kept in the result."""
    if "grid" not in result:
        data: Data = result["data"]
        result["grid"] = grid_eval(result["model"], bounds_of(np.vstack([data.x, data.x_test])), 120)
        with torch.random.fork_rng(devices=[]):  # a fixed picture, without touching the global generator
            torch.manual_seed(0)
            result["samples"] = result["model"].sample(300 * result["model"].K)
    return result["grid"]


def partition_spec(data: Data, n: int = 60, per_component: int = 100) -> dict[str, Any]:
    """The live preview of a 2-D run (computed in the worker): grid over train and test points, and samples."""
    return previews.partition_spec(np.vstack([data.x, data.x_test]), n, per_component)


def draw_partition(preview: dict[str, Any], data: Data, key: str, title: str) -> None:
    cache = st.session_state.get(key + "_fig")
    if cache is None or cache[0] is not preview:  # build each preview's figure once; live reruns re-send it
        cache = (preview, partition_figure(preview["grid"], preview["samples"], preview["k"], preview["K"], data.x, title=title))
        st.session_state[key + "_fig"] = cache
    st.plotly_chart(cache[1], width="stretch", key=key)


def thesis_figure(model, data: Data, key: str, title: str | None = None) -> None:
    cache = st.session_state.get(key + "_pv")
    if cache is None or cache[0] is not model:
        cache = (model, previews.compute(model, partition_spec(data, 80, 150)))
        st.session_state[key + "_pv"] = cache
    draw_partition(cache[1], data, key, title or "argmax q(k|x) and samples")


def metrics_table(metrics: dict[str, Any]) -> None:
    rows = []
    names = {"vmonf": "VMoNF", "kmeans": "k-means", "gmm": "GaussianMixture"}
    for name, m in [("vmonf", metrics), *metrics.get("baselines", {}).items()]:
        row = {"method": names.get(name, name)}
        for k in ("ari", "nmi", "accuracy", "test_log_likelihood", "test_bits_per_dim"):
            if k in m:
                row[k.replace("_", " ")] = round(float(m[k]), 4)
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
    if "test_log_likelihood" in metrics:
        st.caption("Held-out log-likelihood is the mean log p(x) on the test split (nats). k-means has no density: "
                   "it is scored as the isotropic Gaussian mixture it implies (shared variance, cluster proportions).")


def _result_figures(result: dict[str, Any]) -> dict[str, Any]:
    """Build a result's figures once; reruns only re-send them."""
    if "figs" not in result:
        model, data, metrics = result["model"], result["data"], result["metrics"]
        g = model_grid(result)
        samples, sample_k = (t.cpu().numpy() for t in result["samples"])
        sizes = np.bincount(metrics["predictions"], minlength=model.K)
        prior = model.log_prior().exp().detach().cpu().numpy()
        figs = {
            "part": partition_figure(g, samples, sample_k, model.K, data.x),
            "dens": density_figure(g, data.x),
            "comp": components_figure(g),
            "usage": usage_figure(sizes, prior),
            "curves": curves_figure(result["history"]),
            "bv": labels_partition_figure(data.x, metrics["predictions"], "VMoNF"),
        }
        for name, title in (("kmeans", "k-means"), ("gmm", "GaussianMixture")):
            if name in metrics.get("baselines", {}):
                figs["b" + name] = labels_partition_figure(data.x, metrics["baselines"][name]["labels"], title)
        result["figs"] = figs
    return result["figs"]


def results_panel(result: dict[str, Any], key: str) -> None:
    """Tabs with the thesis figure, density, per-component views, usage, curves and baselines."""
    figs = _result_figures(result)
    tabs = st.tabs(["Thesis figure", "Density", "Components", "Usage", "Curves", "Baselines"])
    for tab, name in zip(tabs[:5], ("part", "dens", "comp", "usage", "curves")):
        with tab:
            st.plotly_chart(figs[name], width="stretch", key=f"{key}_{name}")
    with tabs[5]:
        metrics_table(result["metrics"])
        cols = st.columns(3)
        for col, name in zip(cols, ("bv", "bkmeans", "bgmm")):
            if name in figs:
                with col:
                    st.plotly_chart(figs[name], width="stretch", key=f"{key}_{name}")


def export_panel(result: dict[str, Any], key: str) -> None:
    """Download the checkpoint (with its config), the metrics and the run configuration."""
    buf = io.BytesIO()
    cfg = result.get("config", {})
    save_checkpoint(result["model"], buf, extra={"run_config": cfg, "history": result.get("history", []),
                                                 "seconds": result["metrics"].get("seconds")})
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download checkpoint", buf.getvalue(), "vmonf_model.pt", "application/octet-stream", key=f"{key}_dl_ckpt")
    c2.download_button("Download metrics", json.dumps(jsonable_metrics(result["metrics"]), indent=2), "metrics.json",
                       "application/json", key=f"{key}_dl_metrics")
    c3.download_button("Download run config", json.dumps(cfg, indent=2), "run_config.json", "application/json", key=f"{key}_dl_cfg")


def checkpoint_uploader(key: str, dim: int | None = None):
    """Upload a checkpoint; returns ``(model, extra)`` or ``None``; errors are shown, never raised."""
    up = st.file_uploader("Load a checkpoint (.pt)", type=["pt"], key=key)
    if up is None:
        return None
    if up.size > MAX_CHECKPOINT_BYTES:
        st.error(f"That file is {up.size / 1e6:.1f} MB; checkpoints are limited to {MAX_CHECKPOINT_BYTES // 1024 // 1024} MB.")
        return None
    try:
        model, extra = load_checkpoint(io.BytesIO(up.getvalue()))
    except (ValueError, MemoryError) as e:
        st.error(f"Could not load that checkpoint: {e}")
        return None
    if dim is not None and model.D != dim:
        st.error(f"That checkpoint models {model.D}-dimensional data; this page needs dim = {dim}.")
        return None
    return model, extra
