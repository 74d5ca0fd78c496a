"""Masked autoregressive flow block (Papamakarios et al. 2017, MAF) built on MADE."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..nets import BatchedLinear, made_masks
from .base import Transform
from .coupling import soft_clamp

__all__ = ["MADE", "MAFBlock"]


class MADE(nn.Module):
    """K-batched MADE (Germain et al. 2015) outputting a shift and log-scale per feature.

    Output ``d`` depends only on inputs ``< d`` (natural order). The last layer is
    zero-initialised.

    Shapes:
        x: ``(K, N, D)`` -> ``mu, alpha``: ``(K, N, D)`` each.
    """

    def __init__(self, K: int, dim: int, hidden: list[int]) -> None:
        super().__init__()
        masks = made_masks(dim, hidden, 2)
        layers: list[nn.Module] = []
        for i, m in enumerate(masks):
            last = i == len(masks) - 1
            layers.append(BatchedLinear(K, m.shape[0], m.shape[1], mask=m, zero_init=last))
            if not last:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, alpha = self.net(x).chunk(2, dim=-1)
        return mu, alpha


class MAFBlock(Transform):
    """``z_d = (x_d - mu_d(x_<d)) * exp(-alpha_d(x_<d))``: one pass to evaluate, D to sample.

    ``log|det dz/dx| = -sum_d alpha_d``, with ``alpha`` softly bounded.
    """

    def __init__(self, K: int, dim: int, hidden: list[int], max_log_scale: float = 3.0) -> None:
        super().__init__()
        self.dim, self.max_log_scale = dim, max_log_scale
        self.made = MADE(K, dim, hidden)

    def _params(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, alpha = self.made(x)
        return mu, soft_clamp(alpha, self.max_log_scale)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, alpha = self._params(x)
        z = (x - mu) * (-alpha).exp()
        return z, -alpha.sum(-1)

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        x = torch.zeros_like(z)
        for d in range(self.dim):  # x_d needs x_<d: D sequential passes
            mu, alpha = self._params(x)
            x = x.clone()
            x[..., d] = z[..., d] * alpha[..., d].exp() + mu[..., d]
        mu, alpha = self._params(x)
        return x, alpha.sum(-1)
