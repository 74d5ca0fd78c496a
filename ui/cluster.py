"""This server's training engine and its warm-up: what a fresh server does before torch is loaded.

One :class:`vmonf_core.engine.Engine` per server process. ``streamlit run app.py`` serves app.py's ``st.App``, whose
:func:`lifespan` starts the local cluster and imports the pages' heavy modules (torch, the model, scikit-learn) when
the server starts, so the first visitor meets a warm server (issue 20). Under AppTest (no server) the same happens
lazily: the engine on the first script run, the imports in a background thread once the first page is drawn. This
module imports neither torch nor plotly at module level, so Home can render without them.
``st.cache_resource`` holds the engine because it wraps the Dask client, which Streamlit refuses to cache bare.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from contextlib import asynccontextmanager

import streamlit as st

from vmonf_core.engine import Engine, settings_from_env


@st.cache_resource(show_spinner=False)
def engine() -> Engine:
    """This server's engine; the local cluster (if any) starts in the background right away."""
    from .frame import session_connected

    eng = Engine(settings_from_env())
    eng.owner_alive = session_connected  # a closed tab frees its worker within seconds
    threading.Thread(target=lambda: eng.client, daemon=True, name="vmonf-cluster-start").start()
    return eng


def engine_or_error() -> Engine | None:
    """The engine, or ``None`` after showing why the settings are wrong (one sentence, no traceback)."""
    try:
        return engine()
    except ValueError as e:
        st.error(f"The training engine is misconfigured: {e}.")
        return None


# what the pages import; loaded off the first script run (issue 20: a fresh Home no longer waits for torch)
PAGE_MODULES = ("torch", "plotly.graph_objects", "ui.figures", "ui.jobs", "ui.results", "ui.data_panel", "ui.settings", "ui.labeling", "ui.lesson",
                "ui.mnist_view", "vmonf_core.training", "vmonf_core.experiments")


class Preload:
    """The background import of :data:`PAGE_MODULES`; the event ``torch`` is set once torch is loaded."""

    # Imported here, in the script thread, before the background thread starts: plotly (and Streamlit) peek into
    # sys.modules for these, and a module another thread is still importing is seen half-initialised (a real
    # failure: "partially initialized module 'pandas' has no attribute 'Series'" while a figure was built).
    PEEKED = ("pandas", "PIL.Image")

    def __init__(self) -> None:
        for name in self.PEEKED:
            importlib.import_module(name)
        self.torch = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._work, daemon=True, name="vmonf-preload").start()

    def _work(self) -> None:
        try:
            from vmonf_core.runtime import configure_torch

            configure_torch(1)  # the server only renders and evaluates; training runs in the engine's workers
            self.torch.set()
            for name in PAGE_MODULES:
                importlib.import_module(name)
            from vmonf_core.metrics import warm_imports

            warm_imports()  # scipy and scikit-learn, which the metrics load when first used
        finally:
            self.done.set()
            self.torch.set()  # also when an import failed: Home then shows the device (or the page its import error)


@st.cache_resource(show_spinner=False)
def preload() -> Preload:
    """Import :data:`PAGE_MODULES` in a background thread, once per server.

    The server's :func:`lifespan` calls it before the first request. Without one (AppTest), app.py calls it after a
    page is drawn: imports hold the GIL, so running them beside the first page's own work would only slow that page
    down. A page that needs a module sooner simply imports it (Python's import lock waits).
    """
    return Preload()


def device_line() -> str | None:
    """The server's compute device, once torch is loaded (``None`` before: Home does not wait for it)."""
    if not preload().torch.is_set():
        return None
    import torch

    from vmonf_core.train_config import resolve_device

    device = resolve_device("auto")
    name = f" ({torch.cuda.get_device_name(0)})" if device.type == "cuda" else ""
    return f"Compute device of this server: **{device.type.upper()}**{name}, torch {torch.__version__}."


def engine_status() -> None:
    """Where training runs, how many workers are ready, and the server's device; refreshes twice a second until the
    first worker is up and torch is loaded."""
    eng = engine_or_error()
    if eng is None:
        return

    def line() -> tuple[str, int]:
        where = eng.settings.scheduler or "a local cluster on this machine"
        try:
            workers = eng.workers() if eng.started else {}  # asked afresh until one is up
        except Exception as e:  # noqa: BLE001 (shown, never raised)
            return f"Training engine: cannot reach {where} ({type(e).__name__}).", 0
        gpus = sum(1 for w in workers.values() if w.get("resources", {}).get("GPU"))
        gpu = f", {gpus} with a GPU" if gpus else ""
        n = len(workers)
        return (f"Training engine: Dask, {where}: **{n} worker{'s' if n != 1 else ''} ready**{gpu}." if n else
                f"Training engine: Dask, {where}: starting..."), n

    text, n = line()
    ready = bool(n) and device_line() is not None

    @st.fragment(run_every=None if ready else 0.5)
    def _status() -> None:
        t, m = line()
        device = device_line()
        st.info(device or "Compute device of this server: loading torch...")
        st.info(t)
        if m and device is not None and not ready:
            st.rerun()  # workers are up and torch is loaded: stop refreshing

    _status()


SERVER_READY_WAIT = 60.0  # seconds the server's start waits for its first worker (a remote scheduler may be slow)


def warm_server(eng: Engine | None) -> None:
    """What a fresh server does before it takes its first request: the pages' modules imported, torch configured,
    the local cluster's first worker registered (up to :data:`SERVER_READY_WAIT`; a remote scheduler's workers come
    and go on their own, so it is not waited for). Each step is an optimisation: a failure here is met again, and
    said, by the page that needs it."""
    pre = preload()  # the imports, in their thread (pandas and PIL first, here)
    if eng is not None and not eng.settings.scheduler:
        try:
            eng.client.wait_for_workers(1, timeout=SERVER_READY_WAIT)
        except Exception:  # noqa: BLE001 (Home says what the engine's state is)
            pass
    pre.done.wait(SERVER_READY_WAIT)



@asynccontextmanager
async def lifespan(app):
    """The server's start and end (``st.App``'s lifespan hook): the training engine's cluster and the pages' heavy
    imports are ready before ``streamlit run app.py`` serves its first page; the cluster closes with the server."""
    try:
        eng = engine()
    except ValueError:  # a malformed VMONF_* setting: every page says so in one sentence (engine_or_error)
        eng = None
    await asyncio.to_thread(warm_server, eng)
    try:
        yield None
    finally:
        if eng is not None:
            eng.close()
