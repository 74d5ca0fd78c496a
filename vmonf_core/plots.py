"""Plotly figure builders: arrays (or a model) in, figures out. No Streamlit here.

:func:`grid_eval` evaluates a model on a 2-D grid once; the figure functions then draw
from its arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .previews import bounds_of, grid_eval, image_grid  # noqa: F401  (re-exported: figure inputs)

__all__ = [
    "BACKGROUND",
    "STRONG",
    "grid_eval",
    "data_figure",
    "partition_figure",
    "density_figure",
    "components_figure",
    "usage_figure",
    "curves_figure",
    "labels_partition_figure",
    "image_grid",
    "image_grid_figure",
    "contingency_figure",
]

BACKGROUND = ["#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#d9d9d9"]
STRONG = ["#1f3b73", "#a63603", "#1b5e20", "#7f0000", "#4a148c", "#3e2723", "#880e4f", "#5f5f00", "#006064", "#212121"]


def _scatter(n: int):
    """SVG scatter for small data (browsers cap WebGL contexts per page), WebGL for large."""
    return go.Scattergl if n > 5000 else go.Scatter


def _color(palette: list[str], k: int) -> str:
    return palette[k % len(palette)]


def _square(fig: go.Figure, height: int = 460) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.05))
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
    colors = "#888888" if truth is None else [_color(BACKGROUND, int(t)) for t in truth[unl]]
    fig.add_trace(_scatter(len(x))(x=x[unl, 0], y=x[unl, 1], mode="markers", name="unlabeled",
                               marker=dict(size=5, color=colors, opacity=0.8 if truth is not None else 0.6),
                               customdata=np.flatnonzero(unl)))
    for k in np.unique(labels[~unl]):
        idx = np.flatnonzero(labels == k)
        fig.add_trace(_scatter(len(x))(x=x[idx, 0], y=x[idx, 1], mode="markers", name=f"{label_names} {k + 1}",
                                   marker=dict(size=9, color=_color(STRONG, int(k)), symbol="diamond",
                                               line=dict(width=1, color="white")),
                                   customdata=idx))
    fig.update_layout(title=title, dragmode="lasso" if selectable else "zoom")
    return _square(fig)


def _partition_heatmap(g: dict[str, np.ndarray], K: int) -> go.Heatmap:
    scale = []
    for k in range(K):  # a discrete colour scale: one flat band per component
        c = _color(BACKGROUND, k)
        scale += [[k / K, c], [(k + 1) / K, c]]
    return go.Heatmap(x=g["gx"], y=g["gy"], z=g["argmax_q"], zmin=-0.5, zmax=K - 0.5, colorscale=scale,
                      showscale=False, hovertemplate="argmax q = %{z}<extra></extra>")


def partition_figure(g: dict[str, np.ndarray], samples: np.ndarray, sample_k: np.ndarray, K: int,
                     x: np.ndarray | None = None, title: str = "argmax q(k|x) with samples from each component") -> go.Figure:
    """The thesis figure: background coloured by ``argmax_k q(k|x)``, samples of each component on top."""
    fig = go.Figure(_partition_heatmap(g, K))
    if x is not None:
        fig.add_trace(_scatter(len(x))(x=x[:, 0], y=x[:, 1], mode="markers", name="data",
                                       marker=dict(size=3, color="rgba(80,80,80,0.35)")))
    for k in range(K):
        s = samples[sample_k == k]
        fig.add_trace(_scatter(len(samples))(x=s[:, 0], y=s[:, 1], mode="markers", name=f"samples of component {k + 1}",
                                   marker=dict(size=5, color=_color(STRONG, k), symbol="circle-open" if k % 2 else "x-thin-open",
                                               line=dict(width=1.5, color=_color(STRONG, k)))))
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
                                   marker=dict(size=4, color=_color(STRONG, int(k)))))
    fig.update_layout(title=title, showlegend=False)
    return _square(fig, 340)


def density_figure(g: dict[str, np.ndarray], x: np.ndarray | None = None, title: str = "log p(x)") -> go.Figure:
    """Heatmap of ``log p(x)`` (clipped below for contrast) with the data on top."""
    z = g["log_px"]
    lo = np.percentile(z, 5)
    fig = go.Figure(go.Heatmap(x=g["gx"], y=g["gy"], z=np.maximum(z, lo), colorscale="Viridis",
                               colorbar=dict(title="log p"), hovertemplate="log p = %{z:.2f}<extra></extra>"))
    if x is not None:
        fig.add_trace(_scatter(len(x))(x=x[:, 0], y=x[:, 1], mode="markers", name="data",
                                       marker=dict(size=3, color="rgba(255,255,255,0.6)")))
    fig.update_layout(title=title, showlegend=False)
    return _square(fig)


def components_figure(g: dict[str, np.ndarray]) -> go.Figure:
    """Small multiples: row 1 ``q(k|x)``, row 2 ``log p(x|k)``, one column per component."""
    K = g["q"].shape[0]
    fig = make_subplots(rows=2, cols=K, horizontal_spacing=0.02, vertical_spacing=0.08,
                        subplot_titles=[f"q({k + 1}|x)" for k in range(K)] + [f"log p(x|{k + 1})" for k in range(K)])
    lo = np.percentile(g["log_px_k"], 5)
    for k in range(K):
        fig.add_trace(go.Heatmap(x=g["gx"], y=g["gy"], z=g["q"][k], zmin=0, zmax=1, colorscale="Blues", showscale=k == 0,
                                 colorbar=dict(len=0.45, y=0.78)), 1, k + 1)
        fig.add_trace(go.Heatmap(x=g["gx"], y=g["gy"], z=np.maximum(g["log_px_k"][k], lo), colorscale="Viridis",
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


def curves_figure(history: list[dict[str, Any]]) -> go.Figure:
    """ELBO and its terms, log p(x) (and the gap), and the temperature, against the epoch.

    Three panels laid out by hand (``make_subplots`` costs ~0.2 s, too slow for a 1 Hz live view).
    """
    traces: list[dict[str, Any]] = []
    if history:
        ep = [h["epoch"] for h in history]
        for key, name, color in (("elbo", "ELBO", "#1f3b73"), ("expected_log_likelihood", "E_q[log p(x|k)]", "#1b5e20"),
                                 ("prior_cross_entropy", "CE(q, p(k))", "#a63603"), ("entropy", "H(q)", "#4a148c"),
                                 ("log_px", "log p(x)", "#888888")):
            traces.append(dict(type="scatter", x=ep, y=[h.get(key) for h in history], name=name, mode="lines", line=dict(color=color)))
        traces.append(dict(type="scatter", x=ep, y=[h["log_px"] - h["elbo"] for h in history], name="gap", mode="lines",
                           line=dict(color="#7f0000"), showlegend=False, xaxis="x2", yaxis="y2"))
        traces.append(dict(type="scatter", x=ep, y=[h["temperature"] for h in history], name="T", mode="lines",
                           line=dict(color="#006064"), showlegend=False, xaxis="x3", yaxis="y3"))
    layout: dict[str, Any] = dict(height=300, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.3))
    titles = ["ELBO and its terms", "log p(x) − ELBO (gap)", "temperature T"]
    for i, (lo, hi) in enumerate(((0.0, 0.3), (0.37, 0.65), (0.72, 1.0))):
        sfx = "" if i == 0 else str(i + 1)
        layout[f"xaxis{sfx}"] = dict(domain=[lo, hi], anchor=f"y{sfx}", title=dict(text="epoch"))
        layout[f"yaxis{sfx}"] = dict(anchor=f"x{sfx}")
    layout["annotations"] = [dict(text=t, x=(lo + hi) / 2, y=1.08, xref="paper", yref="paper", showarrow=False, font=dict(size=14))
                             for t, (lo, hi) in zip(titles, ((0.0, 0.3), (0.37, 0.65), (0.72, 1.0)))]
    return go.Figure(data=traces, layout=layout)


def image_grid_figure(grid: np.ndarray, rows: int, title: str = "", row_labels: list[str] | None = None) -> go.Figure:
    """Show a tiled image grid (white background, dark digits) with optional row labels."""
    fig = go.Figure(go.Heatmap(z=1 - grid[::-1], colorscale="Greys", reversescale=True, showscale=False, hoverinfo="skip"))
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
    """Heatmap of a row-normalized contingency table: rows are true classes, columns clusters (thesis Table 5.1)."""
    K = table.shape[1]
    fig = go.Figure(go.Heatmap(z=table[::-1], x=[f"cluster {k + 1}" for k in range(K)], y=[f"digit {c}" for c in classes[::-1]],
                               colorscale="Blues", zmin=0, zmax=1, text=np.round(table[::-1], 2), texttemplate="%{text}",
                               colorbar=dict(title="share")))
    fig.update_layout(title=title, height=80 + 45 * len(classes), margin=dict(l=10, r=10, t=40, b=10))
    return fig
