"""What a model is: :class:`ModelConfig`, everything needed to rebuild a :class:`~vmonf_core.mixture.VMoNF`
(saved as JSON in checkpoints), checked field by field and against the resource budget before anything is built.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from . import budget
from .flows import FLOWS

__all__ = ["ModelConfig", "MAX_DIM"]


MAX_DIM = 4096


def _check_int(name: str, value: Any, lo: int, hi: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be an integer {rng}, got {value!r}")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a :class:`VMoNF` (saved as JSON in checkpoints)."""

    dim: int
    n_components: int
    flow: str = "realnvp"
    depth: int = 4
    hidden: int = 32
    hidden_layers: int = 2
    batch_norm: bool = False
    posterior_hidden: list[int] = field(default_factory=lambda: [64, 64])
    posterior_batch_norm: bool = True
    prior: str = "uniform"
    restarts: int = 1
    max_log_scale: float = 3.0

    def __post_init__(self) -> None:
        self.posterior_hidden = [int(h) if isinstance(h, float) and h.is_integer() else h for h in self.posterior_hidden]
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        _check_int("dim", self.dim, 1, MAX_DIM)
        _check_int("n_components", self.n_components, 1, 256)
        _check_int("depth", self.depth, 1, 64)
        _check_int("hidden_layers", self.hidden_layers, 0, 8)
        _check_int("restarts", self.restarts, 1, 64)
        if self.flow not in FLOWS:
            raise ValueError(f"flow must be one of {sorted(FLOWS)}, got {self.flow!r}")
        if self.flow != "lu-prelu":
            _check_int("hidden", self.hidden, 1, 8192)
            if self.hidden_layers < 1:
                raise ValueError(f"hidden_layers must be >= 1 for flow {self.flow!r}, got {self.hidden_layers}")
        if self.flow == "realnvp" and self.dim < 2:
            raise ValueError("flow 'realnvp' needs dim >= 2 (a coupling splits the features); use 'maf' or 'lu-prelu'")
        if not isinstance(self.posterior_hidden, list | tuple):
            raise ValueError(f"posterior_hidden must be a list of widths, got {self.posterior_hidden!r}")
        if len(self.posterior_hidden) > 16:
            raise ValueError(f"posterior_hidden has {len(self.posterior_hidden)} layers; at most 16")
        for h in self.posterior_hidden:
            _check_int("posterior_hidden width", h, 1, 8192)
        if self.prior not in ("uniform", "learned"):
            raise ValueError(f"prior must be 'uniform' or 'learned', got {self.prior!r}")
        if not (isinstance(self.max_log_scale, int | float) and 0 < self.max_log_scale <= 20):
            raise ValueError(f"max_log_scale must be in (0, 20], got {self.max_log_scale!r}")
        for name in ("batch_norm", "posterior_batch_norm"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        budget.check_model(self)  # before anything is allocated

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["posterior_hidden"] = list(d["posterior_hidden"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown model options: {sorted(unknown)}")
        try:
            return cls(**d)
        except TypeError as e:  # a missing required field
            raise ValueError(f"bad model config: {e}") from None
