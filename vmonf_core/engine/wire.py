"""What travels between the server and a worker: the names of a job's channels, msgpack-safe messages, the job's
statuses, and the plain-data result turned back into a model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["progress_channel", "stop_channel", "train_key", "pack", "unpack", "preview_stride", "model_from_result",
           "JobLost", "TERMINAL", "PREVIEW_FRAMES", "SWEEP_FIELDS", "BASELINE_FIELDS"]


def progress_channel(job_id: str) -> str:
    """The name of job ``job_id``'s progress ``Queue`` (the worker puts, the server drains).

    >>> progress_channel("ab12")
    'vmonf-progress-ab12'
    """
    return f"vmonf-progress-{job_id}"


def stop_channel(job_id: str) -> str:
    """The name of job ``job_id``'s Stop ``Event`` (the server sets, the worker's courier reads).

    >>> stop_channel("ab12")
    'vmonf-stop-ab12'
    """
    return f"vmonf-stop-{job_id}"


def train_key(job_id: str) -> str:
    """The Dask key of job ``job_id``'s training task."""
    return f"vmonf-train-{job_id}"


SWEEP_FIELDS = ("preset", "seed", "init", "ari", "nmi", "accuracy", "elbo", "log_px", "test_log_likelihood",
                "seconds", "worker", "made_on")


TERMINAL = ("done", "stopped", "error", "cancelled")


# Preview frames per run, by training progress: the live view and the replay. About 10 ms each on the pinwheel
# (posterior on a 60 x 60 grid and 100 samples per component), so about 0.3 s per run.
PREVIEW_FRAMES = 30


class JobLost(RuntimeError):
    """The worker process running a job died (killed, out of memory)."""


def pack(obj: Any) -> Any:
    """Make ``obj`` msgpack-safe for Dask Queues: numpy arrays become ``{"__nd__": [dtype, shape, bytes]}``."""
    if isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj)
        return {"__nd__": [a.dtype.str, list(a.shape), a.tobytes()]}
    if isinstance(obj, dict):
        return {str(k): pack(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [pack(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def unpack(obj: Any) -> Any:
    """Inverse of :func:`pack`."""
    if isinstance(obj, dict):
        if set(obj) == {"__nd__"}:
            dtype, shape, raw = obj["__nd__"]
            return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape).copy()
        return {k: unpack(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):  # msgpack may hand sequences back as tuples
        return [unpack(v) for v in obj]
    return obj


def preview_stride(epochs: int, frames: int) -> int:
    """Epochs between two preview frames: about ``frames`` frames over ``epochs`` (the last one is the returned model).

    Example:
        >>> preview_stride(400, 40), preview_stride(40, 40), preview_stride(30, 8)
        (10, 1, 4)
    """
    return max(1, -(-int(epochs) // max(1, int(frames))))


def model_from_result(result: dict[str, Any]):
    """The :class:`~vmonf_core.mixture.VMoNF` of a job's plain-data result, in the dtype it was trained in, eval mode
    (the one rebuild that the app and the CLI share)."""
    import torch

    from ..mixture import ModelConfig, VMoNF

    model = VMoNF.from_config(ModelConfig.from_dict(result["model_config"])).to(getattr(torch, result["dtype"]))
    model.load_state_dict(result["model_state"])
    return model.eval()


BASELINE_FIELDS = ("ari", "nmi", "accuracy", "test_log_likelihood")
