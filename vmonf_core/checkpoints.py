"""Checkpoint safety: what a loaded file must pass before any of it is used.

A checkpoint is a torch zip archive holding a JSON config, JSON metadata and tensors
(:func:`vmonf_core.mixture.save_checkpoint`). Everything in it may be crafted, so each part is checked before the
next step trusts it: the archive's inflated size, the JSON texts' size and nesting depth, the derived buffers against
the config, and the metadata a view reads (training history, run configuration, train time) field by field. Each
check raises ``ValueError`` with a sentence naming the bad part; :func:`vmonf_core.mixture.load_checkpoint` runs
them in order.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import torch
from torch import Tensor

__all__ = ["MAX_CHECKPOINT_BYTES", "MAX_UNCOMPRESSED_BYTES", "MAX_JSON_CHARS", "MAX_JSON_DEPTH", "HISTORY_PHASES",
           "check_archive", "load_json_dict", "check_buffers", "check_history", "check_run_config", "check_extra"]

MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024  # the file
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024  # its members, inflated
MAX_JSON_CHARS = 2_000_000
MAX_JSON_DEPTH = 32


def _json_depth(text: str) -> int:
    """Maximum nesting of ``[``/``{`` outside strings (checked before ``json.loads``, which recurses)."""
    depth = top = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            top = max(top, depth)
        elif ch in "]}":
            depth -= 1
    return top


def load_json_dict(raw: Any, what: str) -> dict[str, Any]:
    """``raw`` parsed as a JSON object, its size and nesting checked first (``what`` names it in the error)."""
    if not isinstance(raw, str) or len(raw) > MAX_JSON_CHARS:
        raise ValueError(f"corrupt checkpoint: {what} is not a JSON text of at most {MAX_JSON_CHARS} characters")
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise ValueError(f"corrupt checkpoint: {what} is nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError, ValueError) as e:
        raise ValueError(f"corrupt checkpoint: {what} is not valid JSON ({str(e)[:100]})") from None
    if not isinstance(value, dict):
        raise ValueError(f"corrupt checkpoint: {what} must be a JSON object, got {type(value).__name__}")
    return value


def check_archive(data: bytes) -> None:
    """A torch checkpoint is a zip: check its members' inflated sizes before torch.load inflates them."""
    import zipfile

    if not data:
        raise ValueError("not a VMoNF checkpoint: the file is empty")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValueError("not a VMoNF checkpoint: the file is not a torch zip archive (truncated or another format)") from None
    total = sum(i.file_size for i in infos)
    if len(infos) > 10_000 or total > MAX_UNCOMPRESSED_BYTES:
        raise ValueError(f"checkpoint archive inflates to {total / 1e6:.0f} MB in {len(infos)} members; refusing to load it")


def check_buffers(model: torch.nn.Module, state: dict[str, Tensor]) -> None:
    """Derived buffers must match the config (masks, permutations); statistics must be valid."""
    fresh = dict(model.named_buffers())
    for k, v in state.items():
        leaf = k.rsplit(".", 1)[-1]
        if leaf in ("mask", "perm", "tril_mask") and not torch.equal(v.to(fresh[k].dtype), fresh[k]):
            raise ValueError(f"checkpoint buffer {k!r} does not match its config (masks and orders are derived from it)")
        if leaf == "P":  # LU's fixed permutation: random at creation, so check that it is one
            if not (torch.all((v == 0) | (v == 1)) and torch.all(v.sum(-1) == 1) and torch.all(v.sum(-2) == 1)):
                raise ValueError(f"checkpoint buffer {k!r} is not a permutation matrix")
        if leaf in ("scale", "running_var", "temperature") and not torch.all(v > 0):
            raise ValueError(f"checkpoint buffer {k!r} must be positive")
    r = int(state["active_restart"])
    if not 0 <= r < model.R:
        raise ValueError(f"checkpoint's active_restart {r} is not in [0, {model.R - 1}]")


HISTORY_NUMBERS = ("elbo", "temperature", "log_px", "expected_log_likelihood", "prior_cross_entropy", "entropy",
                   "objective", "val_log_likelihood", "test_log_likelihood", "seconds")
HISTORY_COUNTS = ("epochs", "step", "nonfinite_steps", "best_restart")
# the trainer's phases (Trainer._phases), and two names of older histories that ui.figures still draws
HISTORY_PHASES = ("init", "pretrain", "train", "supervised", "mixed")
MAX_HISTORY = 1_000_000  # epoch records in one saved history


def _finite(value: Any, what: str, gaps: bool = False) -> float | None:
    """``value`` as a finite float, or ``ValueError`` naming ``what`` (bools, strings, huge ints refused).

    With ``gaps``, NaN and infinities (a diverged epoch in an honest history) become ``None``: a gap in a curve.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is not a number")
    try:
        f = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large") from None
    if not math.isfinite(f):
        if gaps:
            return None
        raise ValueError(f"{what} is not finite")
    return f


def _count(value: Any, what: str, hi: int = 10**12) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise ValueError(f"{what} is not a whole number in [0, {hi}]")
    return value


def check_history(history: Any) -> list[dict[str, Any]]:
    """A saved training history, checked field by field before any view reads it (raises ``ValueError``).

    Each record needs ``epoch`` (a whole number) and, to be drawn, ``elbo``, ``log_px`` and ``temperature``
    (numbers); the other known numbers too (NaN or infinite values, a diverged epoch, become ``None``: a gap in
    the curve), ``phase`` one of the trainer's phases. Keys a view never reads (the live ETA and plan, per-restart
    lists, unknown keys) are dropped, so nothing unchecked reaches a figure.

    >>> check_history([{"epoch": 1, "elbo": -1, "log_px": -0.5, "temperature": 1, "plan": [1]}])
    [{'epoch': 1, 'elbo': -1.0, 'temperature': 1.0, 'log_px': -0.5}]
    >>> check_history([{"epoch": 1, "elbo": 10**400, "log_px": 0, "temperature": 1}])
    Traceback (most recent call last):
    ...
    ValueError: checkpoint history entry 0: elbo is too large
    """
    if not isinstance(history, list) or len(history) > MAX_HISTORY:
        raise ValueError(f"checkpoint history must be a list of at most {MAX_HISTORY:,} epoch records")
    out = []
    for i, h in enumerate(history):
        where = f"checkpoint history entry {i}"
        if not isinstance(h, dict):
            raise ValueError(f"{where} is not an epoch record")
        rec: dict[str, Any] = {"epoch": _count(h.get("epoch"), f"{where}: epoch", 10**9)}
        for key in ("elbo", "log_px", "temperature"):
            if key not in h:
                raise ValueError(f"{where} has no {key}")
        for key in HISTORY_NUMBERS:
            if key in h:
                rec[key] = _finite(h[key], f"{where}: {key}", gaps=True)
        for key in HISTORY_COUNTS:
            if key in h:
                rec[key] = _count(h[key], f"{where}: {key}")
        if "phase" in h:
            if h["phase"] not in HISTORY_PHASES:
                raise ValueError(f"{where}: phase must be one of {', '.join(HISTORY_PHASES)}")
            rec["phase"] = h["phase"]
        out.append(rec)
    return out


def check_run_config(run_config: Any) -> dict[str, Any]:
    """A saved run configuration: a mapping whose ``data``, ``model`` and ``train`` parts are mappings.

    The values inside are shown as text and never run, so only the shape is checked (raises ``ValueError``).

    >>> check_run_config({"model": {"n_components": 3}, "train": {}})
    {'model': {'n_components': 3}, 'train': {}}
    >>> check_run_config([1, 2])
    Traceback (most recent call last):
    ...
    ValueError: checkpoint run_config must be a mapping, not list
    """
    if not isinstance(run_config, dict):
        raise ValueError(f"checkpoint run_config must be a mapping, not {type(run_config).__name__}")
    for part in ("data", "model", "train"):
        if part in run_config and not isinstance(run_config[part], dict):
            raise ValueError(f"checkpoint run_config[{part!r}] must be a mapping, not {type(run_config[part]).__name__}")
    return run_config


def check_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """The parts of a checkpoint's metadata that views read: history, run configuration, train seconds."""
    if "history" in extra:
        extra["history"] = check_history(extra["history"])
    if "run_config" in extra:
        extra["run_config"] = check_run_config(extra["run_config"])
    if extra.get("seconds") is not None:
        seconds = _finite(extra["seconds"], "checkpoint seconds")
        if seconds < 0:
            raise ValueError("checkpoint seconds must not be negative")
        extra["seconds"] = seconds
    return extra
