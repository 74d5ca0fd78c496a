"""Helpers for Streamlit AppTest-based page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent


def page(name: str) -> AppTest:
    """Run the app (``app.py``, with its navigation) on page ``pages/<name>.py``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if name != "home":
        at.switch_page(f"pages/{name}.py")
        at.run()
    assert not at.exception, at.exception
    return at


def wait_for_job(at: AppTest, key: str, timeout: float = 300) -> None:
    """Wait for the engine job in ``session_state[key]`` and rerun the page (twice: the fragment stores the
    result, the full rerun then shows it)."""
    job = at.session_state[key]
    job.wait(timeout)
    assert job.finished, "training did not finish"
    at.run()
    at.run()
    assert not at.exception, at.exception


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error] + [w.value for w in at.warning]
    parts += [i.value for i in at.info] + [s.value for s in at.subheader] + [t.value for t in at.title]
    return "\n".join(str(p) for p in parts)
