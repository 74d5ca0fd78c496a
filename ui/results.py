"""A finished run and how it is shown: the result views, export, checkpoint upload, run history and comparison.

A :class:`RunResult` is what every page keeps of a run; figures and grids are built once and cached in it.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
import torch

from vmonf_core import load_checkpoint, previews, save_checkpoint
from vmonf_core.experiments import Data, jsonable_metrics
from vmonf_core.mixture import VMoNF
from vmonf_core.previews import bounds_of, grid_eval, partition_grid

from . import state as S
from .figures import (
    components_figure,
    curves_figure,
    density_figure,
    labels_partition_figure,
    partition_figure,
    usage_figure,
)
from .partition import PARTITION_ALT, draw_partition
from .replay import replay_panel

MAX_UPLOAD_CHECKPOINT_BYTES = 20 * 1024 * 1024  # an upload (.streamlit maxUploadSize); a file the library reads: checkpoints.MAX_CHECKPOINT_BYTES
MAX_RUNS = 10  # runs kept per session for comparison


def next_run_number() -> int:
    """This browser session's next run number (1, 2, ...): numbers are per user, not shared by the whole server."""
    n = S.get(S.RUN_COUNTER, 0) + 1
    S.put(S.RUN_COUNTER, n)
    return n


@dataclass
class RunResult:
    """One finished (or stopped) run: the model, its scores and curves, what it ran on, and its replay frames."""

    model: VMoNF
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    config: dict[str, Any]
    data: Data
    data_id: str = ""
    job: Any = None  # the engine Job it came from (None for a loaded checkpoint)
    previews: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (epoch, compact partition), for replay
    number: int = field(default_factory=next_run_number)
    created: float = field(default_factory=time.time)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # figures and grids, built once

    def summary(self) -> dict[str, Any]:
        """One row of the run table: data, key settings, scores, time."""
        m, t, mc = self.metrics, self.config.get("train", {}), self.config.get("model", {})
        labels = self.data.labels
        row = {"run": self.number, "dataset": self.data.info.get("name", "?"), "K": mc.get("n_components", self.model.K),
               "flow": mc.get("flow", ""), "init": t.get("init", ""), "restarts": mc.get("restarts", ""),
               "epochs": t.get("epochs", ""), "seed": t.get("seed", ""),
               "labels": int((labels >= 0).sum()) if labels is not None else 0}
        for k, name in (("ari", "ARI"), ("nmi", "NMI"), ("accuracy", "ACC"), ("elbo", "ELBO"),
                        ("test_log_likelihood", "test log-lik"), ("seconds", "seconds")):
            row[name] = round(float(m[k]), 3) if isinstance(m.get(k), int | float) else None
        return row

    def label(self) -> str:
        r = self.summary()
        ari = f", ARI {r['ARI']:.2f}" if r["ARI"] is not None else ""
        return f"#{r['run']} {r['dataset']} K={r['K']} {r['init']} seed {r['seed']}{ari}"


def compact_previews(frames: list[tuple[int, dict[str, Any]]], keep: int = 60) -> list[tuple[int, dict[str, Any]]]:
    """At most ``keep`` replay frames (the last one always kept), each reduced to what the partition figure draws."""
    if not frames or frames[0][1].get("kind") != "partition":
        return []
    idx = sorted(set(np.linspace(0, len(frames) - 1, min(keep, len(frames))).round().astype(int)))
    out = []
    for i in idx:
        ep, p = frames[i]
        g = p["grid"]
        out.append((ep, {"kind": "partition", "K": p["K"], "grid": {"gx": g["gx"], "gy": g["gy"],
                                                                       "argmax_q": g["argmax_q"].astype(np.int16)},
                         "samples": p["samples"].astype(np.float32), "k": p["k"].astype(np.int16)}))
    return out


def remember(result: RunResult) -> None:
    """Add a run to this session's history (newest first, at most ``MAX_RUNS``)."""
    runs: list[RunResult] = S.get(S.RUNS, [])
    if any(r is result for r in runs):
        return
    runs.insert(0, result)
    del runs[MAX_RUNS:]


# ------------------------------------------------------------------ figures
def model_grid(result: RunResult) -> dict[str, np.ndarray]:
    """Grid evaluation of a 2-D result (q, log p(x) and each component's density), computed once and kept."""
    c = result.cache
    if "grid" not in c:
        c["grid"] = grid_eval(result.model, _bounds(result), 120)
    return c["grid"]


def _bounds(result: RunResult) -> tuple[float, float, float, float]:
    return bounds_of(np.vstack([result.data.x, result.data.x_test]))


def partition_view(result: RunResult) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """What the thesis figure draws: argmax q on a grid (the posterior only) and fixed samples, computed once."""
    c = result.cache
    if "pgrid" not in c:
        c["pgrid"] = partition_grid(result.model, _bounds(result), 120)
        with torch.random.fork_rng(devices=[]):  # a fixed picture, without touching the global generator
            torch.manual_seed(0)
            c["samples"] = tuple(t.cpu().numpy() for t in result.model.sample(150 * result.model.K))
    return c["pgrid"], *c["samples"]


def partition_spec(data: Data, n: int = 60, per_component: int = 100) -> dict[str, Any]:
    """The live preview of a 2-D run (computed in the worker): grid over train and test points, and samples."""
    return previews.partition_spec(np.vstack([data.x, data.x_test]), n, per_component)


def thesis_figure(model, data: Data, key: str, title: str | None = None) -> None:
    cache = st.session_state.get(S.sub(key, "pv"))
    if cache is None or cache[0] is not model:
        cache = (model, previews.compute(model, partition_spec(data, 80, 150)))
        st.session_state[S.sub(key, "pv")] = cache
    draw_partition(cache[1], data, key, title or "argmax q(k|x) and samples")


def metrics_table(metrics: dict[str, Any]) -> None:
    rows = []
    names = {"vmonf": "VMoNF", "kmeans": "k-means", "gmm": "GaussianMixture", "spectral": "spectral clustering"}
    for name, m in [("vmonf", metrics), *metrics.get("baselines", {}).items()]:
        row = {"method": names.get(name, name)}
        for k in ("ari", "nmi", "accuracy", "test_log_likelihood", "test_bits_per_dim"):
            if k in m:
                row[k.replace("_", " ")] = round(float(m[k]), 4)
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
    if "test_log_likelihood" in metrics:
        st.caption("Held-out log-likelihood is the mean log p(x) on the test split (nats). k-means has no density: "
                   "it is scored as the isotropic Gaussian mixture it implies (shared variance, cluster proportions). "
                   "Spectral clustering has no density either.")


ALT = {
    "part": PARTITION_ALT,
    "dens": "Heatmap of the model's log-density log p(x) over the plane, with the training points on top.",
    "comp": "Small multiples: for each component, q(k|x) on the top row and log p(x|k) on the bottom row.",
    "usage": "Bar chart: the share of points assigned to each component next to its prior weight p(k).",
    "curves": "Line charts against the epoch: the ELBO and its terms with train and held-out log p(x), the gap "
              "log p(x) minus ELBO, and the temperature T; phases before the ELBO phase are shaded.",
    "b": "Scatter plot of the training points coloured and shaped by the clusters of one method.",
}


RESULT_VIEWS = ("Thesis figure", "Replay", "Density", "Components", "Usage", "Curves", "Baselines")
BASELINE_TITLES = {"kmeans": "k-means", "gmm": "GaussianMixture", "spectral": "spectral clustering"}


def _figure(result: RunResult, name: str) -> Any:
    """One of a result's figures, built on first use and kept in the result (reruns only re-send it).

    ``name`` is ``part``, ``dens``, ``comp``, ``usage``, ``curves``, ``bv`` (VMoNF's clusters) or ``b<baseline>``.
    """
    figs = result.cache.setdefault("figs", {})
    if name not in figs:
        model, data, metrics = result.model, result.data, result.metrics
        if name == "part":
            g, samples, sample_k = partition_view(result)
            figs[name] = partition_figure(g, samples, sample_k, model.K, data.x)
        elif name == "dens":
            figs[name] = density_figure(model_grid(result), data.x)
        elif name == "comp":
            figs[name] = components_figure(model_grid(result))
        elif name == "usage":
            sizes = np.bincount(metrics["predictions"], minlength=model.K)
            figs[name] = usage_figure(sizes, model.log_prior().exp().detach().cpu().numpy())
        elif name == "curves":
            figs[name] = curves_figure(result.history)
        elif name == "bv":
            figs[name] = labels_partition_figure(data.x, metrics["predictions"], "VMoNF")
        else:
            b = name.removeprefix("b")
            figs[name] = labels_partition_figure(data.x, metrics["baselines"][b]["labels"], BASELINE_TITLES[b])
    return figs[name]


def results_panel(result: RunResult, key: str) -> None:
    """Views of a run, one at a time: the thesis figure (and its replay), density, per-component views, usage, curves
    and baselines.

    Only the chosen view is built and sent to the browser (choosing another reruns the page; built figures are kept):
    a finished run shows its scores and first figure without waiting for the other six views (about 1.1 MB of
    figures on the pinwheel, most of it the components' heatmaps).
    """
    view = st.segmented_control("View", RESULT_VIEWS, default=RESULT_VIEWS[0], required=True, key=S.sub(key, "view"),
                                label_visibility="collapsed")
    if view == "Replay":
        replay_panel(result, S.sub(key, f"replay_{result.number}"))  # a new run gets a fresh scrubber
    elif view == "Baselines":
        metrics_table(result.metrics)
        names = ["bv"] + ["b" + n for n in BASELINE_TITLES if n in result.metrics.get("baselines", {})]
        for col, fig in zip(st.columns(len(names)), names):
            with col:
                st.plotly_chart(_figure(result, fig), width="stretch", key=S.sub(key, f"{fig}"), alt=ALT["b"])
    else:
        fig = {"Thesis figure": "part", "Density": "dens", "Components": "comp", "Usage": "usage",
               "Curves": "curves"}[view]
        st.plotly_chart(_figure(result, fig), width="stretch", key=S.sub(key, f"{fig}"), alt=ALT[fig])


def export_panel(result: RunResult, key: str) -> None:
    """Download the checkpoint (with its config and history), the metrics and the run configuration.

    The files are made when a button is clicked (deferred ``data``), not on every rerun of the page.
    """
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download checkpoint", lambda: checkpoint_bytes(result), "vmonf_model.pt", "application/octet-stream",
                       key=S.sub(key, "dl_ckpt"), on_click="ignore")
    c2.download_button("Download metrics", lambda: json.dumps(jsonable_metrics(result.metrics), indent=2), "metrics.json",
                       "application/json", key=S.sub(key, "dl_metrics"), on_click="ignore")
    c3.download_button("Download run config", lambda: json.dumps(result.config, indent=2), "run_config.json",
                       "application/json", key=S.sub(key, "dl_cfg"), on_click="ignore")


def checkpoint_bytes(result: RunResult) -> bytes:
    """A complete checkpoint of a run: the model, its run configuration, history and train time."""
    buf = io.BytesIO()
    save_checkpoint(result.model, buf, extra={"run_config": result.config, "history": result.history,
                                              "seconds": result.metrics.get("seconds")})
    return buf.getvalue()


def checkpoint_uploader(key: str, dim: int | None = None):
    """Upload a checkpoint; returns ``(model, extra)`` or ``None``; errors are shown, never raised."""
    up = st.file_uploader("Load a checkpoint (.pt)", type=["pt"], key=key)
    if up is None:
        return None
    if up.size > MAX_UPLOAD_CHECKPOINT_BYTES:
        st.error(f"That file is {up.size / 1e6:.1f} MB; checkpoints are limited to {MAX_UPLOAD_CHECKPOINT_BYTES // 1024 // 1024} MB.")
        return None
    try:
        model, extra = load_checkpoint(io.BytesIO(up.getvalue()))
    except (ValueError, MemoryError) as e:
        st.error(f"Could not load that checkpoint: {e}.")
        return None
    if dim is not None and model.D != dim:
        st.error(f"That checkpoint models {model.D}-dimensional data; this page needs dim = {dim}.")
        return None
    return model, extra



def checkpoint_panel(key: str, data: Data | None, data_id: str | None) -> None:
    """Upload a 2-D checkpoint and, on click, use it on the current data: scored there, it becomes the page's result
    and joins the run history (its original train time kept). Problems are one sentence, never raised."""
    loaded = checkpoint_uploader(key, dim=2)
    if loaded is None or data is None or not st.button("Use this checkpoint on the current data", key=S.USE_CHECKPOINT):
        return
    from vmonf_core.experiments import score
    from vmonf_core.train_config import validate_data

    model, extra = loaded
    try:
        validate_data(data.x, model.K)
        metrics = score(model, data)
    except ValueError as e:
        st.error(f"Cannot use that checkpoint here: {e}")
        return
    if extra.get("seconds") is not None:  # a finite, non-negative float (checkpoints.check_extra)
        metrics["seconds"] = float(extra["seconds"])  # the original run's train time
    result = RunResult(model, metrics, extra.get("history", []), extra.get("run_config", {}), data, data_id=data_id)
    S.put(S.RESULT, result)
    remember(result)
    st.rerun()

# ------------------------------------------------------------------ history and comparison
def runs_table(runs: list[RunResult]) -> pd.DataFrame:
    return pd.DataFrame([r.summary() for r in runs])


def history_panel(key: str) -> None:
    """This session's last runs: a table, CSV download, drop, and two runs side by side."""
    runs: list[RunResult] = S.get(S.RUNS, [])
    if not runs:
        return
    st.subheader(f"Run history ({len(runs)} of the last {MAX_RUNS})")
    table = runs_table(runs)
    # a static table: at most MAX_RUNS rows, drawn with the page (the interactive grid's canvas and its deferred
    # accessibility table were the last 0.3 s of every return to a page that holds results: bench/ui_latency.py)
    st.table(table.set_index("run"))
    labels = {r.number: r.label() for r in runs}
    picked = st.multiselect("Pick runs (two to compare them side by side)", list(labels), format_func=labels.get,
                            key=S.sub(key, "pick"))
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button("Download the table (CSV)", lambda: table.to_csv(index=False), "vmonf_runs.csv", "text/csv",
                       key=S.sub(key, "csv"), width="stretch", on_click="ignore")
    if c2.button("Drop the picked runs", key=S.sub(key, "drop"), disabled=not picked, width="stretch"):
        runs[:] = [r for r in runs if r.number not in picked]
        st.session_state.pop(S.sub(key, "pick"), None)
        st.rerun()
    chosen = [r for r in runs if r.number in picked]
    if len(chosen) != 2:
        st.caption("Pick exactly two runs to see their thesis figures and curves side by side.")
        return
    for col, r in zip(st.columns(2), chosen):
        with col:
            st.markdown(f"**{r.label()}**")
            st.plotly_chart(_figure(r, "part"), width="stretch", key=S.sub(key, f"cmp_part_{r.number}"), alt=ALT["part"])
            st.plotly_chart(curves_figure(r.history, stacked=True), width="stretch", key=S.sub(key, f"cmp_curves_{r.number}"),
                            alt=ALT["curves"])
    st.table(runs_table(chosen).set_index("run").T)
