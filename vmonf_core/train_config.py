"""A training run's settings and the checks on its inputs: :class:`TrainConfig` (validated when built), the device
name, and the data and labels a run is given. Every check raises ``ValueError`` with a sentence naming the bad value.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["INITS", "TrainConfig", "check_device_name", "resolve_device", "validate_data", "validate_test_data",
           "validate_truth"]


INITS = ("random", "kmeans", "spectral", "mixed", "truth")


def _num(name: str, v: Any, lo: float, hi: float, lo_open: bool = False) -> None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (v > lo if lo_open else v >= lo) and v <= hi
    if not ok:
        raise ValueError(f"{name} must be a number in {'(' if lo_open else '['}{lo}, {hi}], got {v!r}")


def _int(name: str, v: Any, lo: int, hi: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")


@dataclass
class TrainConfig:
    """Optimisation settings. ``validate()`` raises ``ValueError`` naming the bad field."""

    epochs: int = 40
    batch_size: int = 128
    lr: float = 1e-2
    weight_decay: float = 0.0
    seed: int = 0
    t0: float = 1.0  # initial temperature T0
    t_decay: float = 1e-3  # rate per minibatch step
    t_min: float = 0.1  # floor of the temperature
    pretrain_epochs: int = 10  # semi-supervised: epochs on the labeled points first
    init: str = "random"  # "kmeans", "spectral", "mixed" or "truth": pretrain flows and q on (pseudo-)labels (see Trainer)
    init_epochs: int = 3
    semi_mode: str = "interleave"  # "alternate": thesis (a labeled pass, then an ELBO pass); "interleave": add the labeled loss to every ELBO step
    supervised_weight: float = 1.0  # weight of the labeled loss in "interleave" mode
    balance: float = 0.0  # weight of H(mean_n q(k|x_n)), which discourages merged clusters
    grad_clip: float = 100.0
    max_nonfinite: int = 20  # consecutive skipped steps before giving up
    eval_points: int = 1000  # per-epoch metrics use at most this many points
    val_fraction: float = 0.0  # held out of the training points (never the test split) to select snapshots / stop early
    select_by: str = "objective"  # snapshot criterion: "objective" (ELBO, minus the labeled loss) or "val_log_likelihood"
    patience: int = 0  # stop when the criterion has not improved for this many train epochs (0: never)
    device: str = "auto"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        _int("epochs", self.epochs, 1, 100_000)
        _int("batch_size", self.batch_size, 1, 1_000_000)
        _num("lr", self.lr, 0, 10, lo_open=True)
        _num("weight_decay", self.weight_decay, 0, 1)
        _int("seed", self.seed, 0, 2**31 - 1)
        _num("t0", self.t0, 0, 1e6, lo_open=True)
        _num("t_decay", self.t_decay, 0, 10)
        _num("t_min", self.t_min, 0, 1e6, lo_open=True)
        _int("pretrain_epochs", self.pretrain_epochs, 0, 10_000)
        _int("init_epochs", self.init_epochs, 0, 10_000)
        _num("balance", self.balance, 0, 1e3)
        _num("grad_clip", self.grad_clip, 0, 1e9, lo_open=True)
        _int("max_nonfinite", self.max_nonfinite, 1, 1_000_000)
        _int("eval_points", self.eval_points, 1, 10_000_000)
        _num("supervised_weight", self.supervised_weight, 0, 1e6)
        _num("val_fraction", self.val_fraction, 0, 0.5)
        _int("patience", self.patience, 0, 100_000)
        if self.select_by not in ("objective", "val_log_likelihood"):
            raise ValueError(f"select_by must be 'objective' or 'val_log_likelihood', got {self.select_by!r}")
        if self.select_by == "val_log_likelihood" and self.val_fraction <= 0:
            raise ValueError("select_by 'val_log_likelihood' needs val_fraction > 0")
        if self.semi_mode not in ("interleave", "alternate"):
            raise ValueError(f"semi_mode must be 'interleave' or 'alternate', got {self.semi_mode!r}")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {list(INITS)}, got {self.init!r}")
        check_device_name(self.device)
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown training options: {sorted(unknown)}")
        return cls(**d)


DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d{1,3})?|mps")


def check_device_name(name: Any) -> None:
    """Raise ``ValueError`` unless ``name`` is ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.

    Example:
        >>> check_device_name("cuda:1")
    """
    if not isinstance(name, str) or not DEVICE_PATTERN.fullmatch(name):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {name!r}")


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: ``"auto"`` picks CUDA when available, else the CPU; ``"cuda"``,
    ``"cuda:N"`` and ``"mps"`` must exist on this machine.

    Raises:
        ValueError: a malformed name, or a device this machine does not have (said as such).

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available on this machine")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r} requested but this machine has {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' requested but Apple's MPS backend is not available on this machine")
    return device


def validate_data(x: Any, K: int, labels: Any = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Check training data and labels; returns float64 ``(N, D)`` and int64 ``(N,)`` or ``None``.

    Raises:
        ValueError: NaN/inf, wrong shape, too few or all-identical points, labels out of range.
    """
    try:
        x = np.require(np.asarray(x, dtype=np.float64), requirements="W")  # a read-only input (a memmap) is copied
    except (TypeError, ValueError):
        raise ValueError("data must be a numeric array") from None
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"data must have shape (N, D), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("data contain NaN or infinite values")
    if len(x) < 2 * K:
        raise ValueError(f"need at least 2*K = {2 * K} points for K = {K} components, got {len(x)}")
    if np.ptp(x, axis=0).max() == 0:
        raise ValueError("all data points are identical; nothing to cluster")
    if labels is None:
        return x, None
    y = np.asarray(labels)
    if y.shape != (len(x),):
        raise ValueError(f"labels must have shape ({len(x)},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        try:
            ok = bool(np.all(np.isfinite(y)) and np.all(y == np.round(y)))
        except TypeError:
            ok = False
        if not ok:
            raise ValueError("labels must be integers (-1 for unlabeled)")
    if y.size and (y.min() < -1 or y.max() >= K):  # before the cast: 1e19 must not wrap around
        raise ValueError(f"labels must be in [0, K-1] = [0, {K - 1}] or -1 (unlabeled); got values in [{y.min()}, {y.max()}]")
    y = y.astype(np.int64)
    if y.min() < -1 or y.max() >= K:
        raise ValueError(f"labels must be in [0, K-1] = [0, {K - 1}] or -1 (unlabeled); got values in [{y.min()}, {y.max()}]")
    return x, y


def validate_test_data(x_test: Any, dim: int) -> np.ndarray | None:
    """Held-out points as a float64 ``(M, dim)`` array (``None`` when none are given); ``ValueError`` otherwise.

    Example:
        >>> validate_test_data([[0.0, 1.0]], 2).shape, validate_test_data(None, 2)
        ((1, 2), None)
    """
    if x_test is None or not len(x_test):
        return None
    xt = np.asarray(x_test, dtype=np.float64)
    if xt.ndim != 2 or xt.shape[1] != dim or not np.isfinite(xt).all():
        raise ValueError(f"test data must be a finite array of shape (M, {dim})")
    return xt


def validate_truth(truth: Any, n: int, K: int) -> np.ndarray:
    """The true classes for ``init="truth"`` (the control experiment): one int64 class in ``[0, K)`` per point."""
    if truth is None:
        raise ValueError("init 'truth' needs data with ground-truth classes")
    t = np.asarray(truth)
    if t.shape != (n,) or t.min() < 0 or t.max() >= K:
        raise ValueError(f"init 'truth' needs one class in [0, {K - 1}] per point")
    return t.astype(np.int64)
