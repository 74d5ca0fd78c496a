"""Process-level settings, set explicitly in one place (never as a side effect of an import)."""

from __future__ import annotations

import os
import platform

import torch

__all__ = ["configure_torch", "provenance"]


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


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance() -> dict[str, str | int | None]:
    """Where a number is made: CPU model, torch version, ATen's kernel path, MKL's code path and thread count.

    Training amplifies the last bits that differ between kernel paths (``ATEN_CPU_CAPABILITY``, ``MKL_CBWR``), so a
    stored result reproduces exactly only where these agree; every stored result carries this record.

    Example:
        >>> sorted(provenance())
        ['cpu', 'kernel', 'mkl_cbwr', 'threads', 'torch']
    """
    return {"cpu": _cpu_model(), "torch": torch.__version__, "kernel": torch.backends.cpu.get_cpu_capability(),
            "mkl_cbwr": os.environ.get("MKL_CBWR"), "threads": torch.get_num_threads()}
