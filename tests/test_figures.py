"""Figure builders: what a reader takes from them is true (ordering, colour range, phases, palette, replay frames)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ui.figures import STRONG, SYMBOLS, color_range, contingency_figure, curves_figure, phase_spans
from ui.replay import frame_image, gif_bytes
from vmonf_core.metrics import matched_columns


def test_contingency_columns_follow_the_hungarian_matching():
    table = np.array([[0.1, 0.0, 0.9], [0.8, 0.1, 0.1], [0.0, 0.95, 0.05]])  # class c lives mostly in cluster order[c]
    order = matched_columns(table)
    assert list(order) == [2, 0, 1]
    fig = contingency_figure(table, np.array([0, 1, 2]))
    z = np.asarray(fig.data[0].z)[::-1]  # rows back in class order
    assert np.allclose(np.diag(z), [0.9, 0.8, 0.95])
    assert list(fig.data[0].x) == ["cluster 3", "cluster 1", "cluster 2"]


def test_density_colour_range_spans_the_data_not_the_empty_corners():
    gx = gy = np.linspace(-3, 3, 61)
    xx, yy = np.meshgrid(gx, gy)
    g = {"gx": gx, "gy": gy, "log_px": -(xx**2 + yy**2) * 10}  # -180 in the corners, 0 at the centre
    x = np.random.default_rng(0).normal(0, 0.3, (500, 2))
    lo, hi = color_range(g, x)
    assert hi == 0 and -10 < lo < -1  # the data reach about r = 0.8; the corners' -180 is off the scale


def test_curves_shade_the_phases_before_the_elbo():
    hist = [{"epoch": e, "phase": "init" if e <= 3 else "train", "elbo": -1.0, "log_px": -0.9, "temperature": 1.0,
             "test_log_likelihood": -1.1} for e in range(1, 11)]
    assert phase_spans(hist) == [("init", 1, 3), ("train", 4, 10)]
    fig = curves_figure(hist)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 3 and {(r.x0, r.x1) for r in rects} == {(0, 3)}  # one per panel, over epochs 1-3
    names = {t.name for t in fig.data}
    assert {"log p(x), train", "log p(x), held out"} <= names


def test_curves_keep_the_elbo_phase_readable_when_the_init_is_far_below():
    hist = [{"epoch": e, "phase": "init" if e <= 5 else "train", "elbo": -130.0 + e if e <= 5 else 0.2 + 0.01 * e,
             "log_px": 0.5, "temperature": 1.0} for e in range(1, 21)]
    fig = curves_figure(hist)
    lo, hi = fig.layout.yaxis.range
    train = [h["elbo"] for h in hist if h["phase"] == "train"] + [0.5]
    assert lo <= min(train) and hi >= max(train)  # the ELBO phase fits
    assert hi - lo < 1.0 and lo > -125  # and fills the panel: the init's -125..-130 are off scale
    assert any("off scale" in a.text for a in fig.layout.annotations)
    flat = [dict(h, elbo=0.3) for h in hist]  # nothing outside the ELBO phase's range: autoscale
    assert curves_figure(flat).layout.yaxis.range is None


def test_palette_has_ten_distinct_colours_and_shapes():
    assert len(set(STRONG)) == len(STRONG) == 10 and len(set(SYMBOLS)) == 10


def test_replay_gif_has_one_frame_per_preview():
    gx = gy = np.linspace(-1, 1, 20)
    frames = []
    for e in range(1, 7):
        am = (np.add.outer(gy, gx * e / 6) > 0).astype(int)  # the boundary turns as training goes on
        frames.append((e, {"kind": "partition", "K": 2, "grid": {"gx": gx, "gy": gy, "argmax_q": am},
                           "samples": np.zeros((4, 2)), "k": np.array([0, 0, 1, 1])}))
    x = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    gif = Image.open(io.BytesIO(gif_bytes(frames, x)))
    assert gif.format == "GIF" and gif.n_frames == 6
    a, b = (np.asarray(frame_image(p, x, e)) for e, p in (frames[0], frames[-1]))
    assert a.shape == b.shape and (a != b).any()  # frames differ as the partition moves
