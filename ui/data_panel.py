"""Data sources for the playground: toy generators, drawing on a click grid, CSV upload."""

from __future__ import annotations

import hashlib

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vmonf_core.datasets import MAX_CSV_BYTES, MAX_CSV_ROWS, TOYS, load_csv, make_toy
from vmonf_core.experiments import Data, split_data

from . import state as S
from .labeling import selected_points
from .settings import KEEP, dataset_changed

GRID = np.linspace(-1.2, 1.2, 49)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_toy(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return make_toy(name, n=n, noise=noise, seed=seed)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_csv(raw: bytes) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    """``(x, y, None)`` or ``(None, None, message)``: a rejected file is cached too, so it is not reparsed every rerun."""
    try:
        x, y = load_csv(raw)
    except (ValueError, MemoryError) as e:
        return None, None, str(e) or type(e).__name__
    return x, y, None




def _split(x: np.ndarray, y: np.ndarray | None, seed: int, name: str) -> Data:
    return split_data(x, y, 0.2 if len(x) >= 10 else 0.0, seed, name)


MAX_DRAWN = MAX_CSV_ROWS


def _draw_canvas() -> np.ndarray:
    """A click grid: click, box- or lasso-select grid cells to spray points there."""
    drawn = S.get(S.DRAWN, [])
    c1, c2, c3 = st.columns([2, 1, 1])
    spray = c1.slider("Points per click (spray)", 1, 20, 5, key=S.SPRAY)
    if c2.button("Undo", key=S.DRAW_UNDO, disabled=not drawn, width="stretch"):
        hist = S.get(S.sub(S.DRAWN, "hist"), [])
        S.put(S.DRAWN, hist.pop() if hist else [])
        st.rerun()
    if c3.button("Clear", key=S.DRAW_CLEAR, disabled=not drawn, width="stretch"):
        S.get(S.sub(S.DRAWN, "hist"), []).append(list(drawn))
        S.put(S.DRAWN, [])
        st.rerun()
    gx, gy = np.meshgrid(GRID, GRID)
    fig = go.Figure(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="canvas",
                                 marker=dict(size=7, color="rgba(150,150,150,0.12)"), hoverinfo="none"))
    if drawn:
        d = np.asarray(drawn)
        fig.add_trace(go.Scatter(x=d[:, 0], y=d[:, 1], mode="markers", name="your points",
                                   marker=dict(size=5, color="#1f3b73")))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      title=f"Draw: click grid dots, or box/lasso-select an area ({len(drawn)} points)")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    version = S.get(S.sub(S.DRAWN, "v"), 0)
    event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key=S.sub(S.CANVAS, str(version)),
                            width="stretch")
    pts = [p for p in selected_points(event) if p.get("curve_number", 0) == 0 and "x" in p and "y" in p]
    if pts and len(drawn) >= MAX_DRAWN:
        st.warning(f"A drawing holds at most {MAX_DRAWN:,} points (the CSV cap); undo or clear some first.")
        pts = []
    if pts:
        rng = np.random.default_rng(len(drawn))
        centres = np.array([[p["x"], p["y"]] for p in pts])
        per = spray if len(centres) == 1 else max(1, spray // 3)
        new = np.repeat(centres, per, 0) + (0.03 * rng.standard_normal((len(centres) * per, 2)) if spray > 1 else 0)
        S.get(S.sub(S.DRAWN, "hist"), []).append(list(drawn))
        S.put(S.DRAWN, (drawn + new.round(4).tolist())[:MAX_DRAWN])
        S.put(S.sub(S.DRAWN, "v"), version + 1)  # a fresh chart key clears the selection
        st.rerun()
    return np.asarray(drawn, dtype=np.float64).reshape(-1, 2)


def data_id(x: np.ndarray, labels: np.ndarray | None = None) -> str:
    """A short fingerprint of a dataset (and of the labels it came with, so a re-upload with new labels is new)."""
    h = hashlib.sha1(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    if labels is not None:
        h.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return h.hexdigest()[:12]


def _dataset_changed() -> None:
    """A new toy dataset brings its own noise level and K (both can still be changed)."""
    name = st.session_state[S.DATASET]
    st.session_state[S.NOISE] = TOYS[name].noise
    dataset_changed()


def data_source() -> Data | None:
    """Sidebar data controls; returns the current data or ``None`` (with a message shown)."""
    sb = st.sidebar
    sb.header("Data")
    source = sb.radio("Source", ["Toy dataset", "Draw", "Upload CSV"], horizontal=True, key=S.SOURCE, **KEEP)
    if source == "Toy dataset":
        name = sb.selectbox("Dataset", list(TOYS), key=S.DATASET, on_change=_dataset_changed, **KEEP)
        n = sb.slider("Points", 100, 5000, 1000, 100, key=S.N_POINTS, **KEEP)
        st.session_state.setdefault(S.NOISE, TOYS[name].noise)
        noise = sb.slider("Noise", 0.0, 2.0, step=0.01, key=S.NOISE, **KEEP,
                          help=f"The generator's noise scale; {TOYS[name].noise:g} is the usual {name}.")
        seed = sb.number_input("Data seed", 0, 10_000, 0, key=S.DATA_SEED, **KEEP)
        x, y = cached_toy(name, n, float(noise), int(seed))
        return _split(x, y, int(seed), name)
    if source == "Draw":
        with st.expander("Draw your own dataset", expanded=True):
            x = _draw_canvas()
        if len(x) == 0:
            st.info("Click on the canvas above to add points.")
            return None
        return _split(x, None, 0, "drawn")
    up = sb.file_uploader("CSV: x, y[, label] (label -1 = unlabeled)", type=["csv", "txt"], key=S.CSV)
    if up is not None:
        if up.size > MAX_CSV_BYTES:
            st.error(f"That CSV is {up.size / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES // 1024 // 1024} MB.")
            return None
        raw, fname = up.getvalue(), up.name
    elif S.get(S.UPLOAD) is not None:  # the file uploaded before a page switch
        fname, raw = S.get(S.UPLOAD)
        sb.caption(f"Using **{fname}**, uploaded earlier in this session. Upload another file to replace it.")
    else:
        st.info("Upload a CSV with two numeric columns (and optionally an integer label column).")
        return None
    x, y, error = cached_csv(raw)
    if error is not None:
        st.error(f"Could not read that CSV: {error}")
        return None
    S.put(S.UPLOAD, (fname, raw))
    return _split(x, y, 0, fname)


def data_csv(data: Data, labels: np.ndarray | None) -> str:
    """The training points and their labels (-1 = unlabeled) as a CSV that Upload CSV reads back."""
    lab = labels if labels is not None else -np.ones(len(data.x), dtype=np.int64)
    rows = [f"{a:.6g},{b:.6g},{int(c)}" for (a, b), c in zip(data.x, lab)]
    return "x,y,label\n" + "\n".join(rows) + "\n"
