"""VMoNF Explorer: the frame only (page config and navigation); pages live in pages/."""

from pathlib import Path

import streamlit as st

from ui.cluster import engine_or_error, preload
from ui.frame import clean_query_params

# First, so that the local cluster's processes start while this run imports torch and plotly for the page (issue 20)
ENGINE = engine_or_error()

st.set_page_config(page_title="VMoNF Explorer", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"), layout="wide")  # shipped: no font fetched

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/playground.py", title="Playground", icon=":material/tune:"),
    st.Page("pages/two_circles.py", title="Two circles lesson", icon=":material/radio_button_unchecked:"),
    st.Page("pages/mnist.py", title="MNIST digits", icon=":material/grid_view:"),
]

if ENGINE is None:  # a malformed VMONF_* setting: said in one sentence above; stop
    st.stop()
dropped = clean_query_params()  # before any widget reads the URL
if dropped:
    st.warning(f"This link's value for {', '.join(dropped)} is not a number the app can use, so the default is used.")
try:
    st.navigation(PAGES).run()
finally:
    preload()  # the pages' heavy modules (torch, the model) load in the background once the first page is drawn
