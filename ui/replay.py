"""Replay a run: a scrubber over its live previews on the thesis figure, and an animated GIF of them.

The GIF is drawn with Pillow (which Streamlit already brings), not by exporting plotly figures: each frame is the
``argmax q`` partition as coloured bands, the training points as dark dots and each component's samples in its
colour, with the epoch written on top.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from . import state as S
from .figures import BACKGROUND, STRONG
from .partition import draw_partition

SIZE = 360  # pixels per side of a GIF frame
HEADER = 22


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def frame_image(preview: dict[str, Any], x: np.ndarray, epoch: int, size: int = SIZE) -> Image.Image:
    """One replay frame: partition bands, data dots and samples, as a Pillow image of ``size`` x ``size + HEADER``."""
    g = preview["grid"]
    gx, gy, am = np.asarray(g["gx"]), np.asarray(g["gy"]), np.asarray(g["argmax_q"])
    palette = np.array([_rgb(BACKGROUND[k % len(BACKGROUND)]) for k in range(int(preview["K"]))], dtype=np.uint8)
    bands = palette[np.clip(am, 0, len(palette) - 1)][::-1]  # rows follow gy upwards; images go downwards
    img = Image.new("RGB", (size, size + HEADER), "white")
    img.paste(Image.fromarray(bands).resize((size, size), Image.NEAREST), (0, HEADER))
    draw = ImageDraw.Draw(img)

    def to_px(p: np.ndarray) -> np.ndarray:
        u = (p[:, 0] - gx[0]) / (gx[-1] - gx[0]) * (size - 1)
        v = (gy[-1] - p[:, 1]) / (gy[-1] - gy[0]) * (size - 1) + HEADER
        return np.stack([u, v], 1)

    for u, v in to_px(np.asarray(x, dtype=np.float64)):
        draw.point((float(u), float(v)), fill=(30, 30, 30))
    s, k = np.asarray(preview["samples"], dtype=np.float64), np.asarray(preview["k"])
    for (u, v), c in zip(to_px(s), k):
        col = _rgb(STRONG[int(c) % len(STRONG)])
        draw.ellipse((u - 2, v - 2, u + 2, v + 2), outline=col)
    draw.text((6, 4), f"epoch {epoch}", fill=(0, 0, 0))
    return img


def gif_bytes(frames: list[tuple[int, dict[str, Any]]], x: np.ndarray, ms_per_frame: int = 250) -> bytes:
    """An animated GIF (looping; the last frame held 2 s) of ``(epoch, preview)`` frames."""
    if not frames:
        raise ValueError("this run has no replay frames")
    images = [frame_image(p, x, ep) for ep, p in frames]
    durations = [ms_per_frame] * (len(images) - 1) + [2000]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=False)
    return buf.getvalue()


def replay_panel(result: Any, key: str) -> None:
    """A slider (and Play) over the run's previews on the thesis figure; a GIF download of them."""
    frames = result.previews
    if len(frames) < 2:
        st.caption("This run has no replay: replays are recorded while a 2-D run trains on this server "
                   "(a loaded checkpoint has none).")
        return
    n = len(frames)
    pos_key, play_key = S.sub(key, "pos"), S.sub(key, "play")
    st.session_state.setdefault(pos_key, n - 1)
    playing = st.session_state.get(play_key, False)

    def toggle() -> None:
        st.session_state[play_key] = not st.session_state.get(play_key, False)
        if st.session_state[play_key] and st.session_state[pos_key] >= n - 1:
            st.session_state[pos_key] = 0  # play from the start

    @st.fragment(run_every=0.5 if playing else None)
    def _scrubber() -> None:
        if st.session_state.get(play_key):
            if st.session_state[pos_key] < n - 1:
                st.session_state[pos_key] += 1
            else:
                st.session_state[play_key] = False
                st.rerun()  # stop refreshing
        c1, c2 = st.columns([4, 1])
        i = c1.slider("Replay frame", 0, n - 1, key=pos_key, help="Drag to scrub through the run")
        c2.button("Pause" if st.session_state.get(play_key) else "Play", key=S.sub(key, "play_btn"), width="stretch",
                  on_click=toggle)
        if playing != bool(st.session_state.get(play_key)):
            st.rerun()  # switch the refresh on or off
        ep, pv = frames[i]
        draw_partition(pv, result.data, S.sub(key, "fig"), f"replay: epoch {ep} of {frames[-1][0]} (frame {i + 1} of {n})")

    _scrubber()
    gkey = S.sub(key, "gif")
    if gkey not in result.cache:
        result.cache[gkey] = gif_bytes(frames, result.data.x)
    st.download_button(f"Download the replay as an animated GIF ({n} frames)", result.cache[gkey], "vmonf_replay.gif",
                       "image/gif", key=S.sub(key, "dl"))
