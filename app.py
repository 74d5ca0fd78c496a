"""VMoNF Explorer: the frame only (page config and navigation); pages live in pages/.

``streamlit run app.py`` reads this file twice over. The server imports it once as a module and serves the
``st.App`` below, whose lifespan starts the training engine and the heavy imports when the server starts, before
anyone opens a page (issue 20). Every session's script run executes it as ``__main__``: :func:`main`.
"""

from pathlib import Path

import streamlit as st

PAGES = [
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/playground.py", "Playground", ":material/tune:"),
    ("pages/two_circles.py", "Two circles lesson", ":material/radio_button_unchecked:"),
    ("pages/mnist.py", "MNIST digits", ":material/grid_view:"),
]


def main() -> None:
    """One script run: page config, the engine's settings checked, the URL cleaned, then the page."""
    from ui.cluster import engine_or_error, preload
    from ui.frame import clean_query_params
    from ui.prefetch import prefetch_widget_code

    engine = engine_or_error()  # started by the server's lifespan; first here only under AppTest
    st.set_page_config(page_title="VMoNF Explorer", page_icon=str(Path(__file__).parent / "assets" / "favicon.png"),
                       layout="wide")  # shipped: no font fetched
    if engine is None:  # a malformed VMONF_* setting: said in one sentence above; stop
        st.stop()
    dropped = clean_query_params()  # before any widget reads the URL
    if dropped:
        st.warning(f"This link's value for {', '.join(dropped)} is not a number the app can use, so the default is used.")
    pages = [st.Page(path, title=title, icon=icon, default=i == 0) for i, (path, title, icon) in enumerate(PAGES)]
    try:
        st.navigation(pages).run()
        prefetch_widget_code()  # once per session: the other pages' widget code loads while this one is read
    finally:
        preload()  # a no-op once the lifespan has run it; under AppTest, the heavy modules load after the page


if __name__ == "__main__":
    main()
else:  # the server, imported once by `streamlit run app.py`
    from starlette.middleware import Middleware

    from ui.cluster import lifespan
    from ui.frame import NestedPathRedirect

    app = st.App(__file__, lifespan=lifespan, middleware=[Middleware(NestedPathRedirect)])
