"""Sweep grids: seeds x starts as validated run configurations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["sweep_configs"]


def sweep_configs(preset: str, seeds: Iterable[int], inits: Iterable[str] | None = None, recipe: str = "default",
                  data: dict | None = None, model: dict | None = None, train: dict | None = None) -> list[dict[str, Any]]:
    """The grid seeds x inits as validated run configurations (raises ``ValueError`` before anything runs)."""
    from ..experiments import resolve

    cfgs = []
    for init in list(inits or [None]):
        for seed in seeds:
            t = dict(train or {}, seed=int(seed))
            if init is not None:
                t["init"] = init
            cfgs.append(resolve(preset, recipe, data, model, t))
    return cfgs
