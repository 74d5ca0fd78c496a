"""VMoNF Explorer: the frame only (page config and navigation); pages live in pages/."""

import streamlit as st

import ui.worker  # noqa: F401  (sets torch to one thread per op before any page runs)

st.set_page_config(page_title="VMoNF Explorer", page_icon=":material/cyclone:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/playground.py", title="Playground", icon=":material/tune:"),
    st.Page("pages/two_circles.py", title="Two circles lesson", icon=":material/radio_button_unchecked:"),
    st.Page("pages/mnist.py", title="MNIST digits", icon=":material/grid_view:"),
]

st.navigation(PAGES).run()
