"""Interactive labeling for semi-supervised runs: select points on the chart, assign a class."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vmonf_core.experiments import Data, label_subset, uncertain_points

from . import state as S
from .figures import data_figure

UNCERTAIN_HELP = ("The points where q(k|x) is least sure, one from each stretch of the boundaries. What labeling "
                  "them does to the ARI is measured by bench/labels.py (README, \"Labels never hurt?\"). Train again to use them.")

MAX_SELECTED = 20_000  # points per selection event; a crafted event cannot ask for more


def _finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)


def selected_points(event) -> list[dict]:
    """The well-formed points of a plotly selection event (works for the live widget and injected test state).

    A point must be a dict whose ``x`` and ``y`` (when present) are finite numbers and whose ``customdata`` (when
    present) is an integer index or a list starting with one; anything else is dropped, never raised on.
    """
    try:
        pts = event["selection"]["points"] if event else []
    except (KeyError, TypeError, IndexError):
        return []
    if not isinstance(pts, list):
        return []
    out = []
    for p in pts[:MAX_SELECTED]:
        if not isinstance(p, dict) or not all(_finite(p[k]) for k in ("x", "y") if k in p):
            continue
        cd = p.get("customdata")
        if isinstance(cd, list):
            cd = cd[0] if cd else None
        if cd is not None and not (isinstance(cd, int | float) and not isinstance(cd, bool) and float(cd).is_integer()
                                   and abs(cd) < 2**31):
            continue
        out.append({**p, "customdata": None if cd is None else int(cd)})
    return out


def current_labels(data: Data, data_id: str) -> np.ndarray:
    """The session's labels for this dataset; a changed dataset clears them with a notice."""
    labels = S.get(S.LABELS)
    owner = S.get(S.LABELS_FOR)
    if labels is None or owner != data_id or len(labels) != len(data.x):
        had = labels is not None and owner is not None and owner != data_id and (labels >= 0).any()
        labels = data.labels.copy() if data.labels is not None else -np.ones(len(data.x), dtype=np.int64)
        S.put(S.LABELS, labels)
        S.put(S.LABELS_FOR, data_id)
        S.put(S.LABEL_HISTORY, [])
        if had:
            S.put(S.NOTICE, "The dataset changed, so the labels made on the previous one were cleared.")
    return labels


def _commit(new: np.ndarray) -> None:
    S.get(S.LABEL_HISTORY, []).append(S.get(S.LABELS).copy())
    S.put(S.LABELS, new)
    S.put(S.LABELS_V, S.get(S.LABELS_V, 0) + 1)  # fresh chart key clears the selection


def apply_selection(labels: np.ndarray, indices: list[int], cls: int) -> np.ndarray:
    """Assign ``cls`` (0-based; -1 to unlabel) to ``indices``."""
    out = labels.copy()
    idx = np.asarray([i for i in indices if 0 <= i < len(out)], dtype=np.int64)
    out[idx] = cls
    return out


def labeling_panel(data: Data, data_id: str, K: int, model=None) -> np.ndarray:
    """The labeling UI; returns the current labels (``-1`` = unlabeled)."""
    labels = current_labels(data, data_id)
    c1, c2, c3, c4 = st.columns([1.3, 1, 1, 1])
    cls = c1.selectbox("Class to assign", list(range(1, K + 1)) + ["erase"], key=S.LABEL_CLASS)
    if c2.button("Undo", key=S.LABEL_UNDO, disabled=not S.get(S.LABEL_HISTORY), width="stretch"):
        S.put(S.LABELS, S.get(S.LABEL_HISTORY).pop())
        S.put(S.LABELS_V, S.get(S.LABELS_V, 0) + 1)
        st.rerun()
    if c3.button("Clear", key=S.LABEL_CLEAR, disabled=not (labels >= 0).any(), width="stretch"):
        _commit(-np.ones(len(labels), dtype=np.int64))
        st.rerun()
    suggestions = np.array([], dtype=np.int64)
    if model is not None and model.D == data.x.shape[1]:
        suggestions = uncertain_points(model, data.x, labels)
    if data.y is not None:
        n_rand = c4.number_input("Random per class", 1, 100, 16, key=S.LABEL_N)
        if st.button(f"Label {n_rand} points per true class, spread over each class", key=S.LABEL_RANDOM):
            _commit(label_subset(data.y, int(n_rand), seed=S.get(S.LABELS_V, 0), x=data.x))
            st.rerun()
        if len(suggestions) and st.button(f"Label {len(suggestions)} uncertain points (★) with their true class",
                                          key=S.LABEL_SUGGEST,
                                          help=UNCERTAIN_HELP):
            new = labels.copy()
            new[suggestions] = data.y[suggestions]
            _commit(new)
            st.rerun()
    fig = data_figure(data.x, labels, title="Select points (click, box or lasso) to label them", selectable=True)
    if len(suggestions):
        fig.add_scatter(x=data.x[suggestions, 0], y=data.x[suggestions, 1], mode="markers", name="uncertain",
                        marker=dict(symbol="star", size=13, color="gold", line=dict(width=1, color="black")),
                        customdata=suggestions)
    event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"),
                            key=S.sub(S.LABEL_CHART, str(S.get(S.LABELS_V, 0))), width="stretch")
    picked = [p["customdata"] for p in selected_points(event) if p.get("customdata") is not None]
    if picked:
        _commit(apply_selection(labels, picked, -1 if cls == "erase" else int(cls) - 1))
        st.rerun()
    counts = {f"class {k + 1}": int((labels == k).sum()) for k in range(K)}
    counts["unlabeled"] = int((labels < 0).sum())
    st.dataframe([counts], hide_index=True, key=S.LABEL_COUNTS)
    return labels
