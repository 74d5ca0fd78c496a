"""Element-wise invertible non-linearities."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import Transform

__all__ = ["PReLU"]


class PReLU(Transform):
    """Parametric ReLU with a positive slope: ``z = x`` if ``x >= 0`` else ``alpha x``.

    ``alpha = exp(log_alpha) > 0`` per component and feature keeps the map a
    bijection; ``log|det J| = sum_d [x_d < 0] log alpha_d``. Initialised at
    ``alpha = 1`` (identity).
    """

    def __init__(self, K: int, dim: int) -> None:
        super().__init__()
        self.log_alpha = nn.Parameter(torch.zeros(K, 1, dim))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        neg = x < 0
        z = torch.where(neg, x * self.log_alpha.exp(), x)
        ladj = (neg * self.log_alpha).sum(-1)  # log alpha on the negative side only
        return z, ladj

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        neg = z < 0  # alpha > 0 preserves the sign
        x = torch.where(neg, z * (-self.log_alpha).exp(), z)
        ladj = -(neg * self.log_alpha).sum(-1)
        return x, ladj
