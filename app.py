"""VMoNF Explorer: the frame only (page config and navigation); pages live in pages/."""

import streamlit as st

st.set_page_config(page_title="VMoNF Explorer", page_icon="🌀", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/playground.py", title="Playground", icon="🎛️"),
    st.Page("pages/two_circles.py", title="Two circles lesson", icon="⭕"),
    st.Page("pages/mnist.py", title="MNIST digits", icon="🔢"),
]

st.navigation(PAGES).run()
