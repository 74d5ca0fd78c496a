"""Plotly figure builders: arrays in, figures out. No Streamlit, and no torch: Home draws with this module before
the server has imported torch (the grids the figures draw come from :mod:`vmonf_core.previews`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "BACKGROUND",
    "STRONG",
    "data_figure",
    "partition_figure",
    "density_figure",
    "components_figure",
    "usage_figure",
    "curves_figure",
    "labels_partition_figure",
    "image_grid_figure",
    "contingency_figure",
]

# Colour-blind-safe: Okabe & Ito's palette (yellow left out: it vanishes on white) plus three of Paul Tol's
# "muted" colours, for K up to 10; each component also has its own marker shape, so colour is never the only cue.
STRONG = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#999933", "#332288", "#000000"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "triangle-down", "star", "pentagon", "hexagon"]


def _lighten(hex_color: str, amount: float = 0.62) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in (r, g, b))


BACKGROUND = [_lighten(c) for c in STRONG]  # the partition's flat bands: light versions of the same colours


def symbol(k: int, open_: bool = False) -> str:
    s = SYMBOLS[k % len(SYMBOLS)]
    return s + "-open" if open_ and s not in ("cross", "x") else s + ("-thin-open" if open_ else "")


def _scatter(n: int):
    """SVG scatter for small data (browsers cap WebGL contexts per page), WebGL for large."""
    return go.Scattergl if n > 5000 else go.Scatter


def _color(palette: list[str], k: int) -> str:
    return palette[k % len(palette)]


def _square(fig: go.Figure, height: int = 460) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.12))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def data_figure(x: np.ndarray, labels: np.ndarray | None = None, title: str = "Data", selectable: bool = False,
                label_names: str = "class", truth: np.ndarray | None = None) -> go.Figure:
    """Scatter of the data.

    ``labels``: ``-1`` = unlabeled (small dots), else a class colour with a large diamond marker.
    ``truth``: optional ground-truth classes that colour the unlabeled dots (grey without it).
    """
    fig = go.Figure()
    if labels is None:
        labels = -np.ones(len(x), dtype=int)
    unl = labels < 0
    t = truth[unl].astype(int) if truth is not None else None
    marker = (dict(size=5, color="#888888", opacity=0.6) if t is None else
              dict(size=5, color=[_color(STRONG, int(c)) for c in t], symbol=[symbol(int(c)) for c in t], opacity=0.55))
    fig.add_trace(_scatter(len(x))(x=x[unl, 0], y=x[unl, 1], mode="markers", name="unlabeled", marker=marker,
                                   customdata=np.flatnonzero(unl)))
    for k in np.unique(labels[~unl]):
        idx = np.flatnonzero(labels == k)
        fig.add_trace(_scatter(len(x))(x=x[idx, 0], y=x[idx, 1], mode="markers", name=f"{label_names} {k + 1}",
                                   marker=dict(size=11, color=_color(STRONG, int(k)), symbol=symbol(int(k)),
                                               line=dict(width=1.5, color="black")),
                                   customdata=idx))
    # Selectable: no dragmode of our own. Streamlit then starts in pan mode with click-to-select, so a single click
    # picks the point under it; box and lasso stay in the modebar. (A "lasso" default turns clicks off.)
    fig.update_layout(title=title, dragmode=None if selectable else "zoom")
    return _square(fig)


def _partition_heatmap(g: dict[str, np.ndarray], K: int) -> go.Heatmap:
    scale = []
    for k in range(K):  # a discrete colour scale: one flat band per component
        c = _color(BACKGROUND, k)
        scale += [[k / K, c], [(k + 1) / K, c]]
    z = np.asarray(g["argmax_q"]).astype(np.int16) + 1  # numbered as in the legend: component 1..K
    # zsmooth="fast": the browser scales one image pixel per grid cell, instead of plotly painting a plot-sized
    # canvas cell by cell and encoding it (0.15-0.2 s less per figure in headless Chromium; a boundary is one cell
    # of blended colour instead of a staircase)
    return go.Heatmap(x=g["gx"], y=g["gy"], z=z, zmin=0.5, zmax=K + 0.5, colorscale=scale, zsmooth="fast",
                      showscale=False, hovertemplate="argmax q: component %{z}<extra></extra>")


def partition_figure(g: dict[str, np.ndarray], samples: np.ndarray, sample_k: np.ndarray, K: int,
                     x: np.ndarray | None = None, title: str = "argmax q(k|x) with samples from each component") -> go.Figure:
    """The thesis figure: background coloured by ``argmax_k q(k|x)``, samples of each component on top."""
    fig = go.Figure(_partition_heatmap(g, K))
    if x is not None:
        fig.add_trace(_scatter(len(x))(x=x[:, 0], y=x[:, 1], mode="markers", name="data",
                                       marker=dict(size=4, color="rgba(20,20,20,0.7)")))
    for k in range(K):  # open markers, so the data stay visible under the samples
        s = samples[sample_k == k]
        fig.add_trace(_scatter(len(samples))(x=s[:, 0], y=s[:, 1], mode="markers", name=f"samples of component {k + 1}",
                                   marker=dict(size=6, color=_color(STRONG, k), symbol=symbol(k, open_=True), opacity=0.8,
                                               line=dict(width=1.3, color=_color(STRONG, k)))))
    fig.update_layout(title=title)
    fig.update_xaxes(range=[g["gx"][0], g["gx"][-1]])
    fig.update_yaxes(range=[g["gy"][0], g["gy"][-1]])
    return _square(fig)


def labels_partition_figure(x: np.ndarray, labels: np.ndarray, title: str) -> go.Figure:
    """Points coloured by a clustering (for the baselines)."""
    fig = go.Figure()
    for k in np.unique(labels):
        idx = labels == k
        fig.add_trace(_scatter(len(x))(x=x[idx, 0], y=x[idx, 1], mode="markers", name=f"cluster {k + 1}",
                                   marker=dict(size=5, color=_color(STRONG, int(k)), symbol=symbol(int(k)))))
    fig.update_layout(title=title, showlegend=False)
    return _square(fig, 340)


def density_figure(g: dict[str, np.ndarray], x: np.ndarray | None = None, title: str = "log p(x)") -> go.Figure:
    """Heatmap of ``log p(x)`` with the data on top.

    The colour scale spans the data's own range (1st percentile of log p at the data points up to the grid's
    maximum), so the region where the data lie is not saturated by the empty corners.
    """
    z = np.asarray(g["log_px"], dtype=np.float32)  # float32 halves what the browser receives; colours need no more
    lo, hi = color_range(g, x)
    fig = go.Figure(go.Heatmap(x=g["gx"], y=g["gy"], z=z, zmin=lo, zmax=hi, colorscale="Viridis",
                               colorbar=dict(title="log p"), hovertemplate="log p = %{z:.2f}<extra></extra>"))
    if x is not None:
        fig.add_trace(_scatter(len(x))(x=x[:, 0], y=x[:, 1], mode="markers", name="data",
                                       marker=dict(size=3, color="rgba(255,255,255,0.6)")))
    fig.update_layout(title=title, showlegend=False)
    return _square(fig)


def at_points(g: dict[str, np.ndarray], x: np.ndarray, field: str = "log_px") -> np.ndarray:
    """A grid field read at the points ``x`` (nearest grid node)."""
    i = np.clip(np.searchsorted(g["gx"], x[:, 0]), 0, len(g["gx"]) - 1)
    j = np.clip(np.searchsorted(g["gy"], x[:, 1]), 0, len(g["gy"]) - 1)
    return g[field][j, i]


def color_range(g: dict[str, np.ndarray], x: np.ndarray | None) -> tuple[float, float]:
    """``(1st percentile of log p at the data, max of the grid)``; the grid's 5th percentile without data."""
    z = g["log_px"]
    finite = z[np.isfinite(z)]
    hi = float(finite.max()) if finite.size else 0.0
    if x is None or not len(x):
        return float(np.percentile(finite, 5)) if finite.size else hi - 1, hi
    at = at_points(g, x)
    at = at[np.isfinite(at)]
    lo = float(np.percentile(at, 1)) if at.size else hi - 1
    return min(lo, hi - 1e-6), hi


def components_figure(g: dict[str, np.ndarray]) -> go.Figure:
    """Small multiples: row 1 ``q(k|x)``, row 2 ``log p(x|k)``, one column per component."""
    K = g["q"].shape[0]
    fig = make_subplots(rows=2, cols=K, horizontal_spacing=0.02, vertical_spacing=0.08,
                        subplot_titles=[f"q({k + 1}|x)" for k in range(K)] + [f"log p(x|{k + 1})" for k in range(K)])
    lo = np.percentile(g["log_px_k"], 5)
    for k in range(K):
        fig.add_trace(go.Heatmap(x=g["gx"], y=g["gy"], z=g["q"][k].astype(np.float32), zmin=0, zmax=1, colorscale="Blues", showscale=k == 0,
                                 colorbar=dict(len=0.45, y=0.78)), 1, k + 1)
        fig.add_trace(go.Heatmap(x=g["gx"], y=g["gy"], z=np.maximum(g["log_px_k"][k], lo).astype(np.float32), colorscale="Viridis",
                                 showscale=False), 2, k + 1)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=200 + 120 * min(K, 4) // 2, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def usage_figure(cluster_sizes: np.ndarray, prior: np.ndarray) -> go.Figure:
    """Fraction of points assigned to each component next to the prior weight p(k)."""
    K = len(prior)
    names = [f"{k + 1}" for k in range(K)]
    frac = cluster_sizes / max(cluster_sizes.sum(), 1)
    fig = go.Figure([go.Bar(x=names, y=frac, name="share of points (argmax q)", marker_color=[_color(STRONG, k) for k in range(K)]),
                     go.Bar(x=names, y=prior, name="prior p(k)", marker_color="#bbbbbb")])
    fig.update_layout(barmode="group", title="Component usage", height=300, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title="component", yaxis_title="fraction")
    return fig


def phase_spans(history: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """``(phase, first epoch, last epoch)`` of each run of equal phases in a history."""
    spans: list[tuple[str, int, int]] = []
    for h in history:
        ph, ep = str(h.get("phase", "train")), int(h["epoch"])
        if spans and spans[-1][0] == ph:
            spans[-1] = (ph, spans[-1][1], ep)
        else:
            spans.append((ph, ep, ep))
    return spans


PHASE_NAMES = {"init": "init (pseudo-labels)", "pretrain": "pretrain (labels)", "supervised": "supervised"}


def elbo_phase_range(history: list[dict[str, Any]], series: list[list[Any]], pad: float = 0.08) -> tuple[float, float] | None:
    """The y-range of ``series`` over the ELBO-phase epochs, padded, when earlier epochs fall outside it, else ``None``.

    The init phase's ELBO can sit a hundred nats below the trained one (the flows fit only their own pseudo-labels);
    an autoscaled axis would flatten the part of the curve a reader is watching. Epochs outside the range stay
    drawn, off scale, and the phase band says so.
    """
    train = [i for i, h in enumerate(history) if h.get("phase", "train") == "train"]
    vals = [float(v[i]) for v in series for i in train if v[i] is not None and np.isfinite(v[i])]
    every = [float(x) for v in series for x in v if x is not None and np.isfinite(x)]
    if not vals or not every:
        return None
    lo, hi = min(vals), max(vals)
    if min(every) >= lo and max(every) <= hi:
        return None  # nothing off scale: autoscale
    span = max(hi - lo, 1e-3 * max(1.0, abs(hi)))
    return lo - pad * span, hi + pad * span


def _range(ranges: list[tuple[float, float] | None], i: int) -> dict[str, Any]:
    r = ranges[i] if i < len(ranges) else None
    return {} if r is None else {"range": list(r)}


def curves_figure(history: list[dict[str, Any]], height: int | None = None, stacked: bool = False) -> go.Figure:
    """ELBO and its terms with train and held-out log p(x); the gap; the temperature: against the epoch.

    Epochs before the ELBO phase (init on pseudo-labels, pretraining on labels) are shaded and named, so the
    start of the unsupervised objective is visible. Three panels laid out by hand (``make_subplots`` costs
    ~0.2 s, too slow for a 1 Hz live view): side by side, or ``stacked`` for a half-width column. One function
    on purpose: the traces, phase bands and axes are one layout, built in one pass over the history.
    """
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    domains = ((0.0, 0.3), (0.37, 0.65), (0.72, 1.0))
    if height is None:
        height = 640 if stacked else 320
    ranges: list[tuple[float, float] | None] = [None, None]
    if history:
        ep = [h["epoch"] for h in history]
        for key, name, color, dash in (("elbo", "ELBO", STRONG[0], "solid"), ("expected_log_likelihood", "E_q[log p(x|k)]", STRONG[2], "solid"),
                                       ("prior_cross_entropy", "CE(q, p(k))", STRONG[1], "solid"), ("entropy", "H(q)", STRONG[3], "solid"),
                                       ("log_px", "log p(x), train", "#777777", "solid"),
                                       ("val_log_likelihood", "log p(x), validation", STRONG[4], "dot"),
                                       ("test_log_likelihood", "log p(x), held out", "#777777", "dash")):
            if any(key in h for h in history):
                traces.append(dict(type="scatter", x=ep, y=[h.get(key) for h in history], name=name, mode="lines",
                                   line=dict(color=color, dash=dash)))
        gap = [None if h.get("log_px") is None or h.get("elbo") is None else h["log_px"] - h["elbo"] for h in history]
        traces.append(dict(type="scatter", x=ep, y=gap, name="gap", mode="lines",
                           line=dict(color=STRONG[6]), showlegend=False, xaxis="x2", yaxis="y2"))
        traces.append(dict(type="scatter", x=ep, y=[h.get("temperature") for h in history], name="T", mode="lines",
                           line=dict(color=STRONG[8]), showlegend=False, xaxis="x3", yaxis="y3"))
        ranges = [elbo_phase_range(history, [t["y"] for t in traces if t.get("yaxis") is None]),
                  elbo_phase_range(history, [t["y"] for t in traces if t.get("yaxis") == "y2"])]
        off_scale = ranges[0] is not None
        for phase, first, last in phase_spans(history):
            if phase == "train" or phase == "mixed":
                continue
            for i in range(3):
                sfx = "" if i == 0 else str(i + 1)
                shapes.append(dict(type="rect", xref=f"x{sfx}", yref=f"y{sfx} domain", x0=first - 1, x1=last, y0=0, y1=1,
                                   fillcolor="rgba(128,128,128,0.15)", line=dict(width=0), layer="below"))
            notes.append(dict(text=PHASE_NAMES.get(phase, phase) + (" (off scale)" if off_scale else ""),
                              x=(first - 1 + last) / 2, y=1, xref="x", yref="y domain",
                              showarrow=False, yanchor="top", font=dict(size=10, color="#777777")))
    layout: dict[str, Any] = dict(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3),
                                  shapes=shapes)
    titles = ["ELBO, its terms and log p(x)", "gap: log p(x) − ELBO", "temperature T"]
    if stacked:  # top to bottom: the first panel gets half the height
        vdomains = ((0.5, 1.0), (0.27, 0.42), (0.0, 0.15))
        for i, (lo, hi) in enumerate(vdomains):
            sfx = "" if i == 0 else str(i + 1)
            # one epoch axis, labelled at the bottom: tick labels above would run into the next panel's title
            layout[f"xaxis{sfx}"] = dict(anchor=f"y{sfx}", title=dict(text="epoch") if i == 2 else None, showticklabels=i == 2,
                                         **({} if i == 2 else {"matches": "x3"}))
            layout[f"yaxis{sfx}"] = dict(domain=[lo, hi], anchor=f"x{sfx}", **_range(ranges, i))
        layout["annotations"] = notes + [dict(text=t, x=0.5, y=hi + 0.005, xref="paper", yref="paper", showarrow=False,
                                              yanchor="bottom", font=dict(size=13)) for t, (lo, hi) in zip(titles, vdomains)]
        layout["legend"] = dict(orientation="h", y=-0.12)
    else:
        for i, (lo, hi) in enumerate(domains):
            sfx = "" if i == 0 else str(i + 1)
            layout[f"xaxis{sfx}"] = dict(domain=[lo, hi], anchor=f"y{sfx}", title=dict(text="epoch"))
            layout[f"yaxis{sfx}"] = dict(anchor=f"x{sfx}", **_range(ranges, i))
        layout["annotations"] = notes + [dict(text=t, x=(lo + hi) / 2, y=1.08, xref="paper", yref="paper", showarrow=False,
                                              font=dict(size=13)) for t, (lo, hi) in zip(titles, domains)]
    return go.Figure(data=traces, layout=layout)


def image_grid_figure(grid: np.ndarray, rows: int, title: str = "", row_labels: list[str] | None = None) -> go.Figure:
    """Show a tiled image grid (white background, dark digits) with optional row labels.

    The grey levels travel as bytes (plotly sends numpy arrays as typed arrays): 8 times less than float64.
    """
    z = np.round(255 * (1 - np.clip(grid[::-1], 0, 1))).astype(np.uint8)
    fig = go.Figure(go.Heatmap(z=z, zmin=0, zmax=255, colorscale="Greys", reversescale=True, showscale=False,
                               hoverinfo="skip"))
    h = grid.shape[0]
    if row_labels:
        step = h / rows
        fig.update_yaxes(tickvals=[h - (i + 0.5) * step for i in range(rows)], ticktext=row_labels)
    else:
        fig.update_yaxes(showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    fig.update_layout(title=title, height=max(220, 40 * rows + 80), margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white")
    return fig


def contingency_figure(table: np.ndarray, classes: np.ndarray, title: str = "Normalized contingency table") -> go.Figure:
    """Heatmap of a row-normalized contingency table: rows are true classes, columns clusters (thesis Table 5.1),
    ordered by the Hungarian matching so that a good clustering is a bright diagonal."""
    from vmonf_core.metrics import matched_columns  # scipy: loaded when a contingency table is drawn

    order = matched_columns(table)  # each class's matched cluster on the diagonal
    table = table[:, order]
    fig = go.Figure(go.Heatmap(z=table[::-1], x=[f"cluster {k + 1}" for k in order], y=[f"digit {c}" for c in classes[::-1]],
                               colorscale="Blues", zmin=0, zmax=1, text=np.round(table[::-1], 2), texttemplate="%{text}",
                               colorbar=dict(title="share")))
    fig.update_layout(title=title, height=80 + 45 * len(classes), margin=dict(l=10, r=10, t=40, b=10))
    return fig
