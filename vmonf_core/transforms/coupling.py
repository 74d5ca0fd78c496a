"""Affine coupling layer (Dinh et al. 2017, RealNVP)."""

from __future__ import annotations

import torch
from torch import Tensor

from ..nets import BatchedMLP
from .base import Transform

__all__ = ["AffineCoupling", "soft_clamp"]


def soft_clamp(s: Tensor, bound: float) -> Tensor:
    """Smoothly bound a log-scale to ``(-bound, bound)``: ``bound * tanh(s / bound)``."""
    return bound * torch.tanh(s / bound)


class AffineCoupling(Transform):
    """``z = m*x + (1-m) * (x * exp(s(m*x)) + t(m*x))`` for a binary mask ``m``.

    The features where ``m = 1`` pass through and condition an MLP that outputs the
    log-scale ``s`` (softly bounded) and shift ``t`` of the others, so
    ``log|det J| = sum((1-m) * s)``. The last layer is zero-initialised: the layer
    starts as the identity.

    Args:
        K: number of components.
        dim: feature dimension ``D >= 2``.
        mask: ``(D,)`` 0/1 tensor, the features that pass through.
        hidden: hidden widths of the conditioner.
        max_log_scale: bound on ``|s|``.
    """

    def __init__(self, K: int, dim: int, mask: Tensor, hidden: list[int], max_log_scale: float = 3.0) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError(f"affine coupling needs dim >= 2, got {dim}")
        self.max_log_scale = max_log_scale
        self.register_buffer("mask", mask.float().reshape(1, 1, dim))
        self.net = BatchedMLP(K, dim, hidden, 2 * dim, zero_init_last=True, activation=torch.nn.ReLU)

    def _scale_shift(self, x_masked: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self.net(x_masked).chunk(2, dim=-1)
        free = 1 - self.mask
        return soft_clamp(s, self.max_log_scale) * free, t * free  # masked features untouched

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self._scale_shift(x * self.mask)
        z = x * s.exp() + t  # s = t = 0 where the mask passes x through
        return z, s.sum(-1)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self._scale_shift(z * self.mask)  # z*m == x*m
        x = (z - t) * (-s).exp()
        return x, -s.sum(-1)
