"""The engine's settings: where jobs run and how many may wait, read from ``VMONF_*`` environment variables."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping

__all__ = ["EngineSettings", "settings_from_env", "DEFAULT_MAX_QUEUE", "SCHEDULER_ADDRESS"]


# tcp://host:port (or tls://); a host name, an IPv4 address or a bracketed IPv6 one; nothing else (no ";" and friends)
SCHEDULER_ADDRESS = re.compile(r"(tcp|tls)://([A-Za-z0-9][A-Za-z0-9.\-]*|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")


CONNECT_TIMEOUT = 5.0  # seconds to reach a remote scheduler's port before saying it cannot be reached


DEFAULT_MAX_QUEUE = 32  # a class of 30 each pressing Train at once, and two more (issue 25)


RECONNECT_GRACE = 3.0  # seconds a client may be reconnecting before its scheduler counts as lost


REAP_INTERVAL = 1.0  # seconds between the reaper's looks at the active jobs


OWNER_GRACE = 4.0  # seconds a job's browser session may stay disconnected (a reconnecting tab) before it is cancelled


@dataclasses.dataclass(frozen=True)
class EngineSettings:
    """Where jobs run and how many may wait. Read from the environment by :func:`settings_from_env`."""

    scheduler: str | None = None  # tcp://HOST:PORT of an external cluster; None = embedded local cluster
    workers: int = 1  # embedded cluster: worker processes (one thread each)
    max_queue: int = DEFAULT_MAX_QUEUE  # running + queued jobs of this server
    lease: float = 60.0  # seconds without a poll before a job is cancelled


def _env_int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {raw!r}") from None
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {raw!r}")
    return v


def settings_from_env(env: Mapping[str, str] | None = None) -> EngineSettings:
    """``VMONF_SCHEDULER``, ``VMONF_WORKERS``, ``VMONF_MAX_QUEUE``, ``VMONF_LEASE_SECONDS`` (and ``VMONF_MAX_MODEL_GB``), validated.

    Raises:
        ValueError: a setting is malformed (the message names it and the accepted range).
    """
    env = os.environ if env is None else env
    from ..budget import limit_bytes

    limit_bytes(env)  # a malformed VMONF_MAX_MODEL_GB stops here, with the other settings
    scheduler = (env.get("VMONF_SCHEDULER") or "").strip() or None
    if scheduler is not None and not SCHEDULER_ADDRESS.fullmatch(scheduler):
        raise ValueError(f"VMONF_SCHEDULER must be a scheduler address such as tcp://127.0.0.1:8786, got {scheduler!r}")
    cores = os.cpu_count() or 2
    return EngineSettings(
        scheduler=scheduler,
        workers=_env_int(env, "VMONF_WORKERS", max(1, cores - 1), 1, 256),
        max_queue=_env_int(env, "VMONF_MAX_QUEUE", DEFAULT_MAX_QUEUE, 1, 10_000),
        lease=float(_env_int(env, "VMONF_LEASE_SECONDS", 60, 5, 86_400)),
    )
