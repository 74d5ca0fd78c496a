"""The two-circles lesson: the unsupervised failure, then 16 labels per circle fix it."""

from ui.frame import front_door

front_door()  # a deep link on a fresh server runs app.py first (ui/frame.py)


import numpy as np
import streamlit as st

from ui import jobs as J
from ui import lesson as L
from ui import results as R
from ui import state as S
from ui.figures import data_figure
from ui.labeling import apply_selection, selected_points
from vmonf_core.experiments import label_subset

st.title("Two circles lesson")
data = L.lesson_data()
step = S.get(S.LESSON_STEP, 1)
if st.button("Reset the lesson", key="lesson_reset"):
    for key in S.LESSON_KEYS:
        job = st.session_state.get(key)
        if hasattr(job, "stop"):
            job.stop()
        S.pop(key)
    st.rerun()

st.header("1. The data and the question")
st.markdown(L.STEP1.format(n=len(data.x)))
st.plotly_chart(data_figure(data.x, truth=data.y, title="Two circles (colour = true circle)"), width="stretch", key="lesson_data")
if step == 1 and st.button("Train without labels", type="primary", key="lesson_go_unsup"):
    if J.start(S.LESSON_UNSUP_JOB, L.unsup_config(), data, preview=R.partition_spec(data)) is not None:
        S.put(S.LESSON_STEP, 2)
        st.rerun()

if step >= 2:
    st.header("2. Unsupervised: the half-space split")
    J.panel(S.LESSON_UNSUP_JOB, S.LESSON_UNSUP, "lesson_u",
            render_preview=lambda p, e: R.draw_partition(p, data, "lesson_live_u", f"live (epoch {e})"))
    unsup = S.get(S.LESSON_UNSUP)
    if unsup is not None:
        m = unsup.metrics
        c1, c2 = st.columns(2)
        c1.metric("ARI (unsupervised)", f"{m['ari']:.3f}")
        c2.metric("Accuracy", f"{m['accuracy']:.3f}")
        R.thesis_figure(unsup.model, data, key="lesson_unsup_fig", title="argmax q(k|x) and samples, no labels")
        st.markdown(L.STEP2)
        R.metrics_table(m)
        if step == 2 and st.button("Next: add labels", type="primary", key="lesson_go_labels"):
            S.put(S.LESSON_STEP, 3)
            st.rerun()

if step >= 3:
    st.header("3. Label a few points, then train again")
    st.markdown(L.STEP3.format(m=L.LABELS_PER_CIRCLE))
    labels = S.get(S.LESSON_LABELS, -np.ones(len(data.x), dtype=np.int64))
    c1, c2, c3 = st.columns([2, 1, 1])
    if c1.button(f"Label {L.LABELS_PER_CIRCLE} random points per circle", key="lesson_random"):
        labels = label_subset(data.y, L.LABELS_PER_CIRCLE, seed=L.SEED)
    cls = c2.selectbox("Selection labels as", ["outer circle", "inner circle"], key="lesson_class")
    if c3.button("Clear labels", key="lesson_clear"):
        labels = -np.ones(len(data.x), dtype=np.int64)
    version = S.get(S.LESSON_LABELS_V, 0)
    event = st.plotly_chart(data_figure(data.x, labels, title="Select points to label them", selectable=True),
                            on_select="rerun", selection_mode=("points", "box", "lasso"), key=f"lesson_chart_{version}", width="stretch")
    picked = [int(p["customdata"]) for p in selected_points(event) if p.get("customdata") is not None]
    if picked:
        labels = apply_selection(labels, picked, 0 if cls == "outer circle" else 1)
        S.put(S.LESSON_LABELS_V, version + 1)
    if not np.array_equal(labels, S.get(S.LESSON_LABELS)):
        S.put(S.LESSON_LABELS, labels)
        st.rerun()
    counts = {"outer circle": int((labels == 0).sum()), "inner circle": int((labels == 1).sum())}
    st.dataframe([counts], hide_index=True, key="lesson_counts")
    if st.button("Train with labels", type="primary", key="lesson_go_semi", disabled=min(counts.values()) == 0):
        if J.start(S.LESSON_SEMI_JOB, L.semi_config(), L.with_labels(data, labels), preview=R.partition_spec(data)) is not None:
            S.put(S.LESSON_STEP, 4)
            st.rerun()
    if min(counts.values()) == 0:
        st.caption("Label at least one point of each circle to continue.")

if step >= 4:
    J.panel(S.LESSON_SEMI_JOB, S.LESSON_SEMI, "lesson_s",
            render_preview=lambda p, e: R.draw_partition(p, data, "lesson_live_s", f"live (epoch {e})"))
    semi, unsup = S.get(S.LESSON_SEMI), S.get(S.LESSON_UNSUP)
    if semi is not None:
        R.thesis_figure(semi.model, data, key="lesson_semi_fig", title="argmax q(k|x) and samples, with labels")
        st.header("4. Summary")
        rows = []
        for name, r in (("unsupervised", unsup), ("semi-supervised", semi)):
            if r is not None:
                m = r.metrics
                rows.append({"run": name, "ARI": round(m["ari"], 3), "accuracy": round(m["accuracy"], 3),
                             "test log-likelihood": round(m["test_log_likelihood"], 3), "training seconds": round(m["seconds"], 1)})
        st.dataframe(rows, hide_index=True, key="lesson_summary")
        st.info(L.SEEDS_NOTE.format(seed=L.SEED))
