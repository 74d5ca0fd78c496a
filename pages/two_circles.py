"""The two-circles lesson: the unsupervised run, what the start decides (measured), then labels fix it."""

from ui.frame import front_door

front_door()  # a deep link on a fresh server runs app.py first (ui/frame.py)

import numpy as np
import streamlit as st

from ui import jobs as J
from ui import lesson as L
from ui import results as R
from ui import state as S
from ui.figures import data_figure, partition_figure
from ui.labeling import apply_selection, selected_points
from vmonf_core.experiments import label_subset
from vmonf_core.metrics import partition_kind

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
st.plotly_chart(data_figure(data.x, truth=data.y, title="Two circles (colour and shape = true circle)"), width="stretch",
                key="lesson_data", alt="Scatter plot of two concentric rings of points, coloured by ring.")
if step == 1 and st.button("Train without labels", type="primary", key="lesson_go_unsup"):
    if J.start(S.LESSON_UNSUP_JOB, L.unsup_config(), data, preview=R.partition_spec(data)) is not None:
        S.put(S.LESSON_STEP, 2)
        st.rerun()

if step >= 2:
    st.header("2. Unsupervised, from a random start")
    st.markdown(L.STEP2.format(seed=L.SEED))
    J.panel(S.LESSON_UNSUP_JOB, S.LESSON_UNSUP, "lesson_u",
            render_preview=lambda p, e: R.draw_partition(p, data, "lesson_live_u", f"live (epoch {e})"))
    unsup: R.RunResult | None = S.get(S.LESSON_UNSUP)
    if unsup is not None:
        m = unsup.metrics
        c1, c2, c3 = st.columns(3)
        c1.metric("ARI (unsupervised)", f"{m['ari']:.3f}")
        c2.metric("Accuracy", f"{m['accuracy']:.3f}")
        c3.metric("Final ELBO", f"{m['elbo']:.3f}", help=f"scored at the trained temperature T = {m['temperature']:.2f}")
        R.thesis_figure(unsup.model, data, key="lesson_unsup_fig", title="argmax q(k|x) and samples, no labels")
        R.metrics_table(m)

        st.subheader("Same objective, four starts")
        facts = L.starts()
        cols = st.columns(4)
        for col, (init, f) in zip(cols, facts["starts"].items()):
            t = f["typical"]
            g = {"gx": np.array(t["gx"]), "gy": np.array(t["gy"]), "argmax_q": np.array(t["argmax_q"])}
            fig = partition_figure(g, np.zeros((0, 2)), np.zeros(0, dtype=int), 2, data.x,
                                   title=f"seed {t['seed']}: ARI {L.num(t['ari'])}, ELBO {t['elbo']:.2f}")
            fig.update_layout(height=260, showlegend=False, title_font_size=12)
            with col:
                st.markdown(f"**{L.START_NAMES[init]}**")
                st.plotly_chart(fig, width="stretch", key=f"lesson_start_{init}",
                                alt=f"The partition of a typical run started from {L.START_NAMES[init]}.")
                st.caption(f"10 seeds: median ARI {L.num(f['median_ari'])} (range {L.num(f['min_ari'])} to {L.num(f['max_ari'])}), "
                           f"{f['n_ge_095']}/10 at ARI >= 0.95, median final ELBO {f['median_elbo']:.2f}")
        st.markdown(L.starts_text(facts))
        st.caption(f"Measured with `{facts['command']}` on {L.made_on(facts)} (README, \"Starts\"); each thumbnail is "
                   "the seed whose ARI is nearest its start's median. On another CPU the exact figures differ slightly "
                   "(README, \"Reproducibility\"); the kind of partition each start ends in holds.")
        c1, c2 = st.columns([2, 1])
        init = c1.selectbox("Rerun a start live", list(L.START_NAMES), format_func=L.START_NAMES.get, key="lesson_rerun_init")
        if c2.button("Rerun it", key="lesson_rerun", width="stretch"):
            seed = facts["starts"][init]["typical"]["seed"]
            rdata = L.start_data(seed)  # the sweep's own points for that seed
            J.start(S.LESSON_START_JOB, L.start_config(init, seed), rdata, preview=R.partition_spec(rdata))
            st.rerun()
        if S.get(S.LESSON_START_JOB) is not None:
            J.panel(S.LESSON_START_JOB, S.LESSON_START, "lesson_r",
                    render_preview=lambda p, e: R.draw_partition(p, S.get(S.LESSON_START_JOB).data, "lesson_live_r",
                                                                 f"rerun (epoch {e})"))
            rerun = S.get(S.LESSON_START)
            if rerun is not None:
                kind = partition_kind(rerun.data.x, rerun.metrics["predictions"], rerun.data.y)
                st.caption(L.rerun_caption(rerun.config, rerun.metrics, rerun.history, facts, kind))
        if step == 2 and st.button("Next: add labels", type="primary", key="lesson_go_labels"):
            S.put(S.LESSON_STEP, 3)
            st.rerun()

if step >= 3:
    st.header("3. Label a few points, then train again")
    st.markdown(L.STEP3.format(m=L.LABELS_PER_CIRCLE))
    labels = S.get(S.LESSON_LABELS, -np.ones(len(data.x), dtype=np.int64))
    c1, c2, c3 = st.columns([2, 1, 1])
    if c1.button(f"Label {L.LABELS_PER_CIRCLE} points per circle, spread over each ring", key="lesson_random"):
        labels = label_subset(data.y, L.LABELS_PER_CIRCLE, seed=L.SEED, x=data.x)
    cls = c2.selectbox("Selection labels as", ["outer circle", "inner circle"], key="lesson_class")
    if c3.button("Clear labels", key="lesson_clear"):
        labels = -np.ones(len(data.x), dtype=np.int64)
    version = S.get(S.LESSON_LABELS_V, 0)
    event = st.plotly_chart(data_figure(data.x, labels, title="Click, box or lasso points to label them", selectable=True),
                            on_select="rerun", selection_mode=("points", "box", "lasso"), key=f"lesson_chart_{version}",
                            width="stretch", alt="Scatter plot of the two rings; labeled points are large markers.")
    picked = [int(p["customdata"]) for p in selected_points(event) if p.get("customdata") is not None]
    if picked:  # the chart above was drawn before this selection: draw it again with the new labels
        S.put(S.LESSON_LABELS, apply_selection(labels, picked, 0 if cls == "outer circle" else 1))
        S.put(S.LESSON_LABELS_V, version + 1)
        st.rerun()
    S.put(S.LESSON_LABELS, labels)  # a button's labels were set before the chart: it already shows them
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
                             "final ELBO": round(m["elbo"], 3), "test log-likelihood": round(m["test_log_likelihood"], 3),
                             "training seconds": round(m["seconds"], 1)})
        st.dataframe(rows, hide_index=True, key="lesson_summary")
        st.info(L.SEEDS_NOTE)
