"""Data sources for the playground: toy generators, drawing on a click grid, CSV upload."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vmonf_core.datasets import MAX_CSV_BYTES, MAX_CSV_ROWS, TOY_DATASETS, load_csv, make_toy
from vmonf_core.experiments import Data, split_data

from . import state as S
from .labeling import selected_points

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


DEFAULT_NOISE = {"pinwheel": 1.0, "circles": 0.03, "moons": 0.06, "blobs": 0.12, "spirals": 0.03, "checkerboard": 0.0}


def _split(x: np.ndarray, y: np.ndarray | None, seed: int, name: str) -> Data:
    return split_data(x, y, 0.2 if len(x) >= 10 else 0.0, seed, name)


MAX_DRAWN = MAX_CSV_ROWS


def _draw_canvas() -> np.ndarray:
    """A click grid: click, box- or lasso-select grid cells to spray points there."""
    drawn = S.get(S.DRAWN, [])
    c1, c2, c3 = st.columns([2, 1, 1])
    spray = c1.slider("Points per click (spray)", 1, 20, 5, key="pg_spray")
    if c2.button("Undo", key="pg_draw_undo", disabled=not drawn, width="stretch"):
        hist = S.get(S.DRAWN + "_hist", [])
        S.put(S.DRAWN, hist.pop() if hist else [])
        st.rerun()
    if c3.button("Clear", key="pg_draw_clear", disabled=not drawn, width="stretch"):
        S.get(S.DRAWN + "_hist", []).append(list(drawn))
        S.put(S.DRAWN, [])
        st.rerun()
    gx, gy = np.meshgrid(GRID, GRID)
    fig = go.Figure(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="canvas",
                                 marker=dict(size=7, color="rgba(150,150,150,0.12)"), hoverinfo="none"))
    if drawn:
        d = np.asarray(drawn)
        fig.add_trace(go.Scatter(x=d[:, 0], y=d[:, 1], mode="markers", name="your points",
                                   marker=dict(size=5, color="#1f3b73")))
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), dragmode="lasso", showlegend=False,
                      title=f"Draw: click grid dots, or box/lasso-select an area ({len(drawn)} points)", plot_bgcolor="white")
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    version = S.get(S.DRAWN + "_v", 0)
    event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key=f"pg_canvas_{version}",
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
        S.get(S.DRAWN + "_hist", []).append(list(drawn))
        S.put(S.DRAWN, (drawn + new.round(4).tolist())[:MAX_DRAWN])
        S.put(S.DRAWN + "_v", version + 1)  # a fresh chart key clears the selection
        st.rerun()
    return np.asarray(drawn, dtype=np.float64).reshape(-1, 2)


def data_source() -> Data | None:
    """Sidebar data controls; returns the current data or ``None`` (with a message shown)."""
    sb = st.sidebar
    sb.header("Data")
    source = sb.radio("Source", ["Toy dataset", "Draw", "Upload CSV"], horizontal=True, key="pg_source")
    if source == "Toy dataset":
        name = sb.selectbox("Dataset", list(TOY_DATASETS), key="pg_dataset")
        n = sb.slider("Points", 100, 5000, 1000, 100, key="pg_n")
        noise = sb.slider("Noise", 0.0, 2.0 if name == "pinwheel" else 0.3, DEFAULT_NOISE[name], 0.01, key=f"pg_noise_{name}")
        seed = sb.number_input("Data seed", 0, 10_000, 0, key="pg_data_seed")
        x, y = cached_toy(name, n, float(noise), int(seed))
        return _split(x, y, int(seed), name)
    if source == "Draw":
        with st.expander("Draw your own dataset", expanded=True):
            x = _draw_canvas()
        if len(x) == 0:
            st.info("Click on the canvas above to add points.")
            return None
        return _split(x, None, 0, "drawn")
    up = sb.file_uploader("CSV: x, y[, label] (label -1 = unlabeled)", type=["csv", "txt"], key="pg_csv")
    if up is None:
        st.info("Upload a CSV with two numeric columns (and optionally an integer label column).")
        return None
    if up.size > MAX_CSV_BYTES:
        st.error(f"That CSV is {up.size / 1e6:.1f} MB; the limit is {MAX_CSV_BYTES // 1024 // 1024} MB.")
        return None
    x, y, error = cached_csv(up.getvalue())
    if error is not None:
        st.error(f"Could not read that CSV: {error}")
        return None
    return _split(x, y, 0, up.name)
