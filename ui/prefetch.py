"""Warm the browser for the next page: load the frontend code of the app's widgets while the reader is on this one.

Streamlit's frontend fetches each widget's code the first time a page shows that widget (one JavaScript chunk per
widget type, with its helpers). A first Home -> Playground switch fetched and compiled 50 such files (Chromium's
request log, ``bench/ui_latency.py``); with this module it fetches 4. Once per browser session, after the first page
has drawn, a small script imports the chunks of the app's widgets in the background, so the next page finds them
loaded.

The chunk files are Streamlit's own build (``streamlit/static/static/js/<Widget>.<hash>.js``): found by name on
disk, so an upgrade that renames them costs only this optimisation (nothing is imported).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from . import state as S

# The widgets the app's pages draw (Streamlit's frontend component names)
WIDGETS = ("Button", "ButtonGroup", "Checkbox", "DownloadButton", "FileUploader", "Metric", "Multiselect",
           "NumberInput", "Radio", "Selectbox", "Slider", "TextInput")
DELAY_MS = 300  # then the browser's first idle moment: the imports do not compete with the page being drawn


def widget_chunks(static: Path | None = None) -> list[str]:
    """The URLs (relative to the page) of the frontend chunks of :data:`WIDGETS` in the installed Streamlit.

    Example:
        >>> any(u.startswith("./static/js/Slider.") for u in widget_chunks())
        True
    """
    if static is None:
        static = Path(st.__file__).parent / "static" / "static" / "js"
    found = []
    for name in WIDGETS:
        found += sorted(f"./static/js/{p.name}" for p in static.glob(f"{name}.*.js") if p.name.count(".") == 2)
    return found


SCRIPT = """<script>
setTimeout(() => requestIdleCallback(() => {{
  for (const u of {urls}) import(new URL(u, document.baseURI).href).catch(() => {{}});
}}, {{timeout: 2000}}), {delay});
</script>"""


def prefetch_widget_code() -> None:
    """Once per session, after the page: a hidden script that imports the widgets' chunks (see the module doc)."""
    if S.get(S.PREFETCHED):
        return
    S.put(S.PREFETCHED, True)
    urls = widget_chunks()
    if urls:
        st.html(SCRIPT.format(urls=json.dumps(urls), delay=DELAY_MS), unsafe_allow_javascript=True)
