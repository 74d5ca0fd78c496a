"""The thesis figure as a page element: the plane coloured by argmax q(k|x), with samples of each component.

One module that the results, the replay and the live views all draw with (it imports neither of them).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from vmonf_core.experiments import Data

from . import state as S
from .figures import partition_figure

__all__ = ["PARTITION_ALT", "draw_partition"]

PARTITION_ALT = ("Scatter plot: the plane coloured by the component that q(k|x) assigns, the training points as dark "
                 "dots, and samples from each component as open markers of its colour and shape.")


def draw_partition(preview: dict[str, Any], data: Data, key: str, title: str) -> None:
    cache = st.session_state.get(S.sub(key, "fig"))
    if cache is None or cache[0] is not preview:  # build each preview's figure once; live reruns re-send it
        cache = (preview, partition_figure(preview["grid"], preview["samples"], preview["k"], preview["K"], data.x, title=title))
        st.session_state[S.sub(key, "fig")] = cache
    st.plotly_chart(cache[1], width="stretch", key=key, alt=PARTITION_ALT)
