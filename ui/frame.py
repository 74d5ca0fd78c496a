"""What every page does first: make a deep link behave like the front door.

``streamlit run app.py`` decides on a fresh server whether the app is a legacy "pages directory" app before
app.py has run once: a ``pages/`` folder beside it is enough. If a session's *first* request is a deep link
(``/playground?dataset=circles``), Streamlit runs that page script directly, skipping app.py (no page config,
no navigation: the sidebar lists "app, home, mnist, playground, two circles"). The first ``st.navigation`` call
switches that mode off for good, so a page that finds itself run in the legacy mode switches it off and runs
app.py in its place, in the same script run (so a widget event in that run is not lost): app.py's navigation
routes the same URL (query string included) to this page, which then renders normally.
"""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP = Path(__file__).resolve().parent.parent / "app.py"


def front_door() -> None:
    """Call first in every page script: run app.py instead when the page was reached in legacy mode."""
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what app.py's st.navigation sets
        runpy.run_path(str(APP), run_name="__main__")  # page config, navigation, and this page through it
        st.stop()  # the legacy run of this page ends here


MAX_PARAM_CHARS = 64  # no setting's value is longer; a longer one is not a setting


def bad_query_value(value: str) -> bool:
    """Whether a URL parameter's value would break a widget: a non-finite or out-of-range number, or an overlong one.

    Streamlit converts a bound number widget's URL value with ``int(float(value))``, which raises on ``inf`` and
    ``1e400`` (an error page instead of the Playground); any value our widgets accept is short and finite.

    Example:
        >>> [bad_query_value(v) for v in ("5", "0.004", "circles", "inf", "-inf", "1e400", "nan", "9" * 80)]
        [False, False, False, True, True, True, True, True]
    """
    if len(value) > MAX_PARAM_CHARS:
        return True
    try:
        v = float(value)
    except ValueError:
        return False  # text: the widget checks it against its options
    return not math.isfinite(v) or abs(v) >= 2.0**53


def clean_query_params() -> list[str]:
    """Drop URL parameters that would break a widget before any widget reads them; returns their names.

    A shared link is pasted and forwarded: a mangled value must cost only that setting (its default is used), never
    the page.
    """
    dropped = [key for key in list(st.query_params) if any(bad_query_value(v) for v in st.query_params.get_all(key))]
    if not dropped:
        return []
    for key in dropped:
        del st.query_params[key]
    # Bound widgets seed themselves from the URL as it first arrived, not from st.query_params: forget the dropped
    # values there too (Streamlit's own step after a page transition; no public API does this).
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as qp:
        qp.set_initial_query_params_from_current()
    return dropped
