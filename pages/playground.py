"""Playground: pick, draw or upload 2-D data; train live; compare with the baselines and with earlier runs."""

from ui.frame import front_door

front_door()  # a deep link on a fresh server runs app.py first (ui/frame.py)

import dataclasses

import numpy as np
import streamlit as st

from ui import jobs as J
from ui import results as R
from ui import settings as U
from ui import state as S
from ui.data_panel import data_csv, data_id, data_source
from ui.figures import data_figure
from ui.labeling import current_labels, labeling_panel
from vmonf_core.train_config import validate_data

st.title("Playground")

data = data_source()
settings = U.settings_panel(dataset=data.info["name"] if data is not None else None)
U.link_panel(S.PLAYGROUND_LINK, note="Drawn points, uploaded files and labels are too big for a link: "
                                     "download them as a CSV under the data chart, and upload it with *Upload CSV*.")
did = data_id(data.x, data.labels) if data is not None else None
if data is not None:
    current_labels(data, did)  # a changed dataset clears stale labels (with a notice)
notice = S.pop(S.NOTICE)
if notice:
    st.warning(notice)

result: R.RunResult | None = S.get(S.RESULT)
if data is not None:
    K = int(settings["K"]) if int(settings["K"]) > 0 else 1
    box = st.expander("Label points for a semi-supervised run", key=S.LABELING_OPEN, on_change="rerun")
    if box.open:  # its chart, table and uncertain points are built only while it is open
        with box:
            labels = labeling_panel(data, did, K, result.model if result is not None and result.data_id == did else None)
    else:
        labels = current_labels(data, did)
    n_labeled = int((labels >= 0).sum())
    left, right = st.columns([1, 1])
    with left:
        st.plotly_chart(data_figure(data.x, labels, truth=data.y, title=f"{data.info['name']}: {len(data.x)} training points, "
                                    f"{len(data.x_test)} held out, {n_labeled} labeled"), width="stretch", key="pg_data",
                        alt="Scatter plot of the training data; labeled points are large markers of their class's "
                            "colour and shape.")
        st.download_button("Download these points and labels (CSV)", lambda: data_csv(data, labels), "vmonf_data.csv",
                           "text/csv", key="pg_dl_data", on_click="ignore",
                           help="x, y, label (-1 = unlabeled): Upload CSV reads it back")
    with right:
        st.subheader("Train")
        st.caption(U.settings_caption(settings))
        classes = np.unique(labels[labels >= 0])
        if n_labeled:
            st.caption(U.labels_caption(settings, n_labeled))
        if n_labeled and len(classes) < K:
            st.warning(f"Only {len(classes)} of the K = {K} classes have labels. The other components stay free: "
                       "they keep the clusters the start gave them (measured with some wings of the pinwheel "
                       "labeled: README, \"Labels never hurt?\"). Label every class for the strongest effect.")

    def train_now() -> None:
        try:
            cfg = U.build_config(settings, dim=2)
            run_data = dataclasses.replace(data, labels=labels.copy() if n_labeled else None)
            validate_data(run_data.x, cfg["model"]["n_components"], run_data.labels)
            cfg["data"] = {"name": data.info["name"], "data_id": did}
            J.start(S.JOB, cfg, run_data, preview=R.partition_spec(run_data))  # live view and replay frames
        except ValueError as e:
            st.error(f"Cannot train: {e}")

    def preview(p, epoch):
        R.draw_partition(p, S.get(S.JOB).data, key="pg_live_part", title=f"live: argmax q and samples (epoch {epoch})")

    J.panel(S.JOB, S.RESULT, "pg", train_now, render_preview=preview, remember_runs=True)


result = S.get(S.RESULT)
if result is not None:
    st.divider()
    same = data is not None and result.data_id == did
    st.subheader("Results" + ("" if same else " (of a model trained on another dataset)"))
    m = result.metrics
    cols = st.columns(5)
    for col, (k, name) in zip(cols, [("ari", "ARI"), ("nmi", "NMI"), ("accuracy", "Accuracy"),
                                     ("test_log_likelihood", "Test log-lik"), ("seconds", "Train time (s)")]):
        if k in m:
            col.metric(name, f"{m[k]:.3f}" if k != "seconds" else f"{m[k]:.1f}")
    R.results_panel(result, "pg_res")
    R.export_panel(result, "pg_exp")

R.history_panel("pg_hist")

ckpt_box = st.expander("Load a checkpoint", key=S.CHECKPOINT_OPEN, on_change="rerun")
if ckpt_box.open:  # the uploader is built only while its box is open
    with ckpt_box:
        R.checkpoint_panel("pg_ckpt", data, did)
