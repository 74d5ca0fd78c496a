"""What every page does first: make a deep link behave like the front door.

``streamlit run app.py`` decides on a fresh server whether the app is a legacy "pages directory" app before
app.py has run once: a ``pages/`` folder beside it is enough. If a session's *first* request is a deep link
(``/playground?dataset=circles``), Streamlit runs that page script directly, skipping app.py (no page config,
no navigation: the sidebar lists "app, home, mnist, playground, two circles"). The first ``st.navigation`` call
switches that mode off for good, so a page that finds itself run in the legacy mode switches it off and runs
app.py in its place, in the same script run (so a widget event in that run is not lost): app.py's navigation
routes the same URL (query string included) to this page, which then renders normally.

Private Streamlit APIs this module leans on, each guarded by ``tests/test_frame_private_api.py`` (which fails
loudly on an upgrade that removes them): ``PagesManager.uses_pages_directory`` (the workaround above; Streamlit
auto-discovers a folder named ``pages/``, and its documentation for ``st.navigation`` apps suggests another folder
name, which the product's layout rules out; Streamlit 1.67 has no supported switch), ``Runtime.is_active_session``
(a closed tab, :func:`session_connected`) and the session state's ``query_params()`` context
(:func:`clean_query_params`).
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


def _server_runtime():
    """Streamlit's server runtime, or ``None`` (no server; AppTest runs a script with a mock in its place)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    return runtime if type(runtime) is Runtime else None


def session_id() -> str | None:
    """This browser session's id in the server's runtime (``None`` without a server: AppTest gives every session
    the same id, and outside a script run there is none).

    Private API (``streamlit.runtime.scriptrunner``), guarded: the engine then falls back to its lease.
    """
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        if _server_runtime() is None:
            return None
        ctx = get_script_run_ctx()
        return None if ctx is None else str(ctx.session_id)
    except Exception:  # noqa: BLE001 (a Streamlit without it)
        return None


def session_connected(sid: str) -> bool | None:
    """Whether the browser session ``sid`` is still connected to this server: ``None`` when that cannot be told
    (no server runtime, as under AppTest, or a Streamlit whose ``Runtime.is_active_session`` is gone).

    A closed tab's session leaves Streamlit's active sessions at once (a reconnecting one comes back), so the
    engine frees a closed tab's worker within seconds instead of waiting for the lease (issue 25 row 11).
    """
    try:
        runtime = _server_runtime()
        return None if runtime is None else bool(runtime.is_active_session(sid))
    except Exception:  # noqa: BLE001 (private API moved: the lease decides)
        return None


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


class NestedPathRedirect:
    """ASGI middleware of the server (app.py's ``st.App``): a mistyped nested path gets the page it starts with.

    Streamlit serves its page shell for any path, and the shell loads its scripts relative to the path, so
    ``/playground/extra/x`` (or ``/pages/playground.py``) loaded nothing and stayed a blank white page after a long
    wait (issue 25). Such a request is redirected to its first segment (``/playground``; ``/pages/X.py`` to ``/X``),
    query string kept: a page name opens that page, anything else gets Streamlit's own "page not found" notice on
    Home. Streamlit's own routes are left alone, and so is any path with one of their names in it: the page shell
    probes ``/<page>/_stcore/health`` to find its base path, and must get Streamlit's 404 there, not a redirect.
    """

    RESERVED = frozenset({"_stcore", "static", "media", "component", "app"})

    def __init__(self, app) -> None:
        self.app = app

    @staticmethod
    def target(path: str) -> str | None:
        """Where a request for ``path`` goes instead (``None``: serve it as it is).

        Example:
            >>> [NestedPathRedirect.target(p) for p in ("/playground/extra/x", "/pages/two_circles.py", "/mnist",
            ...                                           "/static/js/a.js", "/playground/_stcore/health")]
            ['/playground', '/two_circles', None, None, None]
        """
        parts = [p for p in path.split("/") if p]
        if len(parts) < 2 or NestedPathRedirect.RESERVED.intersection(parts):
            return None
        if parts[0] == "pages" and parts[1].endswith(".py"):
            return "/" + parts[1][: -len(".py")]
        return "/" + parts[0]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            where = self.target(scope.get("path", "/"))
            if where is not None:
                qs = scope.get("query_string", b"").decode("latin-1")
                location = where + ("?" + qs if qs else "")
                await send({"type": "http.response.start", "status": 307,
                            "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")]})
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
