"""Flow builders, selectable by name. Each returns a K-batched :class:`Composite`."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .transforms import AffineCoupling, BatchNormFlow, Composite, LUAffine, MAFBlock, PReLU, Reverse, Transform

__all__ = ["FLOWS", "build_flow", "realnvp", "maf", "lu_prelu"]


def realnvp(
    K: int, dim: int, depth: int, hidden: int, hidden_layers: int = 2, batch_norm: bool = False, max_log_scale: float = 3.0
) -> Composite:
    """``depth`` affine couplings with alternating masks, optional batch-norm between them."""
    layers: list[Transform] = []
    for i in range(depth):
        mask = (torch.arange(dim) + i) % 2  # alternate which half passes through
        layers.append(AffineCoupling(K, dim, mask, [hidden] * hidden_layers, max_log_scale))
        if batch_norm and i < depth - 1:
            layers.append(BatchNormFlow(K, dim))
    return Composite(*layers)


def maf(
    K: int, dim: int, depth: int, hidden: int, hidden_layers: int = 1, batch_norm: bool = False, max_log_scale: float = 3.0
) -> Composite:
    """``depth`` MAF blocks, the order reversed between blocks, optional batch-norm."""
    layers: list[Transform] = []
    for i in range(depth):
        layers.append(MAFBlock(K, dim, [hidden] * hidden_layers, max_log_scale))
        if i < depth - 1:
            if batch_norm:
                layers.append(BatchNormFlow(K, dim))
            layers.append(Reverse(dim))
    return Composite(*layers)


def lu_prelu(
    K: int, dim: int, depth: int, hidden: int = 0, hidden_layers: int = 0, batch_norm: bool = False, max_log_scale: float = 3.0
) -> Composite:
    """``depth`` blocks of LU-affine + PReLU (+ batch-norm), closed by an LU-affine.

    ``hidden`` and ``hidden_layers`` are unused (these layers have no conditioner).
    """
    layers: list[Transform] = []
    for _ in range(depth):
        layers += [LUAffine(K, dim), PReLU(K, dim)]
        if batch_norm:
            layers.append(BatchNormFlow(K, dim))
    layers.append(LUAffine(K, dim))
    return Composite(*layers)


FLOWS: dict[str, Callable[..., Composite]] = {"realnvp": realnvp, "maf": maf, "lu-prelu": lu_prelu}


def build_flow(name: str, K: int, dim: int, **kwargs) -> Composite:
    """Build flow ``name`` (one of :data:`FLOWS`) with ``K`` components of dimension ``dim``."""
    if name not in FLOWS:
        raise ValueError(f"unknown flow {name!r}; choose one of {sorted(FLOWS)}")
    return FLOWS[name](K, dim, **kwargs)
