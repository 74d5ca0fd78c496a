"""Process-level settings, set explicitly in one place (never as a side effect of an import)."""

from __future__ import annotations

import torch

__all__ = ["configure_torch"]


def configure_torch(threads: int) -> None:
    """Use ``threads`` intra-op threads in this process.

    The app's server renders and evaluates small models with one thread, so that it never competes with
    the training workers; each Dask worker trains with one thread (one job per worker process); the CLI
    uses what ``--threads`` asks for.

    Example:
        >>> configure_torch(1)
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
