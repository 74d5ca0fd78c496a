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
