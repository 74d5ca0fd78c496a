"""This server's training engine: one :class:`vmonf_core.engine.Engine` per server process.

Kept apart from ``ui.jobs`` (which needs torch) so that app.py can start the local cluster's processes at the top of
the first script run, before the page imports torch and plotly: the two then happen at the same time.
``st.cache_resource`` holds the engine because it wraps the Dask client, which Streamlit refuses to cache bare.
"""

from __future__ import annotations

import threading

import streamlit as st

from vmonf_core.engine import Engine, settings_from_env


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """This server's engine; the local cluster (if any) starts in the background right away."""
    eng = Engine(settings_from_env())
    threading.Thread(target=lambda: eng.client, daemon=True, name="vmonf-cluster-start").start()
    return eng


def engine_or_error() -> Engine | None:
    """The engine, or ``None`` after showing why the settings are wrong (one sentence, no traceback)."""
    try:
        return engine()
    except ValueError as e:
        st.error(f"The training engine is misconfigured: {e}.")
        return None
