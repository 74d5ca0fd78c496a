"""Playground: pick, draw or upload 2-D data; train live; compare with the baselines."""

import dataclasses

import numpy as np
import streamlit as st

from ui import jobs as J
from ui import state as S
from ui import widgets as W
from ui.data_panel import data_source
from ui.labeling import current_labels, labeling_panel
from vmonf_core.plots import data_figure
from vmonf_core.training import validate_data

st.title("Playground")

data = data_source()
settings = W.settings_panel("pg", dataset=data.info["name"] if data is not None else None)
did = W.data_id(data.x) if data is not None else None
if data is not None:
    current_labels(data, did)  # a changed dataset clears stale labels (with a notice)
notice = S.pop(S.NOTICE)
if notice:
    st.warning(notice)

result = S.get(S.RESULT)
if data is not None:
    with st.expander("Label points for a semi-supervised run", expanded=False):
        labels = labeling_panel(data, did, int(settings["K"]) if int(settings["K"]) > 0 else 1,
                                result["model"] if result and result.get("data_id") == did else None)
    n_labeled = int((labels >= 0).sum())
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(data_figure(data.x, labels, truth=data.y, title=f"{data.info['name']}: {len(data.x)} training points, "
                                    f"{len(data.x_test)} held out, {n_labeled} labeled"), width="stretch", key="pg_data")
    with right:
        st.subheader("Train")
        st.caption(W.settings_caption(settings))
        if n_labeled:
            st.caption(f"{n_labeled} labeled points: the run pretrains on them, then adds the labeled loss to every "
                       "ELBO step.")
        if n_labeled and len(np.unique(labels[labels >= 0])) == 1:
            st.warning("All labels are of one class: the other components get no supervision.")

    def train_now() -> None:
        try:
            cfg = W.build_config(settings, dim=2)
            run_data = dataclasses.replace(data, labels=labels.copy() if n_labeled else None)
            validate_data(run_data.x, cfg["model"]["n_components"], run_data.labels)
            cfg["data"] = {"name": data.info["name"], "data_id": did}
            J.start(S.JOB, cfg, run_data, preview=W.partition_spec(run_data))
        except ValueError as e:
            st.error(f"Cannot train: {e}")

    def preview(p, epoch):
        W.draw_partition(p, S.get(S.JOB).data, key="pg_live_part", title=f"live: argmax q and samples (epoch {epoch})")

    J.panel(S.JOB, S.RESULT, "pg", train_now, render_preview=preview)


result = S.get(S.RESULT)
if result is not None:
    if "data_id" not in result:
        result["data_id"] = W.data_id(result["data"].x)
    st.divider()
    same = data is not None and result["data_id"] == W.data_id(data.x)
    st.subheader("Results" + ("" if same else " (of a model trained on another dataset)"))
    m = result["metrics"]
    cols = st.columns(5)
    for col, (k, name) in zip(cols, [("ari", "ARI"), ("nmi", "NMI"), ("accuracy", "Accuracy"),
                                     ("test_log_likelihood", "Test log-lik"), ("seconds", "Train time (s)")]):
        if k in m:
            col.metric(name, f"{m[k]:.3f}" if k != "seconds" else f"{m[k]:.1f}")
    W.results_panel(result, "pg_res")
    W.export_panel(result, "pg_exp")

with st.expander("Load a checkpoint"):
    loaded = W.checkpoint_uploader("pg_ckpt", dim=2)
    if loaded is not None and data is not None and st.button("Use this checkpoint on the current data", key="pg_use_ckpt"):
        from vmonf_core.experiments import score

        model, extra = loaded
        try:
            validate_data(data.x, model.K)
            metrics = score(model, data)
            if isinstance(extra.get("seconds"), int | float):
                metrics["seconds"] = float(extra["seconds"])  # the original run's train time
            S.put(S.RESULT, {"model": model, "metrics": metrics, "history": extra.get("history", []),
                             "config": extra.get("run_config", {}), "data": data, "data_id": W.data_id(data.x)})
            st.rerun()
        except ValueError as e:
            st.error(f"Cannot use that checkpoint here: {e}")
