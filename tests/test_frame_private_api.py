"""The private Streamlit APIs that ui/frame.py leans on still exist: an upgrade that removes one fails here, loudly,
instead of silently breaking deep links on a fresh server, closed-tab detection or the URL clean-up."""

from __future__ import annotations

import inspect


def test_pages_manager_still_has_the_legacy_pages_directory_switch():
    from streamlit.runtime.pages_manager import PagesManager

    assert isinstance(PagesManager.uses_pages_directory, bool | None), (
        "PagesManager.uses_pages_directory is gone or changed: ui/frame.py's front_door() flips it to route a deep "
        "link on a fresh server through app.py's st.navigation")


def test_runtime_can_still_tell_an_active_session():
    from streamlit.runtime import Runtime

    assert callable(getattr(Runtime, "is_active_session", None)), (
        "Runtime.is_active_session is gone: ui/frame.session_connected() then cannot see a closed tab (the lease "
        "still ends its job, after 60 s instead of 5)")
    assert list(inspect.signature(Runtime.is_active_session).parameters) == ["self", "session_id"]


def test_session_state_still_exposes_its_query_params_context():
    from streamlit.runtime.state.session_state_proxy import get_session_state

    assert callable(get_session_state)
    from streamlit.runtime.state.safe_session_state import SafeSessionState

    assert callable(getattr(SafeSessionState, "query_params", None)), (
        "SafeSessionState.query_params() is gone: ui/frame.clean_query_params() cannot forget a dropped URL value")
