"""The transform contract shared by every layer.

Every transform acts on a batch laid out as ``(K, N, D)``: ``K`` mixture components
(each with its own parameters), ``N`` points and ``D`` features. ``forward`` is the
density direction (data ``x`` to latent ``z``) and ``inverse`` samples (``z`` to ``x``).
Both return the log-absolute-determinant of the Jacobian of the map they apply,
with shape ``(K, N)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["Transform", "Composite", "Reverse"]


class Transform(nn.Module):
    """An invertible map applied independently by each of ``K`` components.

    Subclasses implement:
        forward(x): ``(K, N, D) -> (z (K, N, D), logabsdet (K, N))``, data to latent.
        inverse(z): ``(K, N, D) -> (x (K, N, D), logabsdet (K, N))``, latent to data,
            where ``logabsdet`` is that of the inverse map.
    """

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError


class Composite(Transform):
    """Chains transforms: ``forward`` runs them in order, ``inverse`` in reverse order."""

    def __init__(self, *transforms: Transform) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        ladj = x.new_zeros(x.shape[:-1])
        for t in self.transforms:
            x, l = t(x)
            ladj = ladj + l  # log|det J| of a composition is the sum of the parts
        return x, ladj

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        ladj = z.new_zeros(z.shape[:-1])
        for t in reversed(self.transforms):
            z, l = t.inverse(z)
            ladj = ladj + l
        return z, ladj


class Reverse(Transform):
    """Reverses the feature order (a permutation, so log|det J| = 0).

    Used between MAF blocks so each block conditions on a different ordering.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("perm", torch.arange(dim - 1, -1, -1))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x[..., self.perm], x.new_zeros(x.shape[:-1])

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        return z[..., self.perm], z.new_zeros(z.shape[:-1])  # reversal is its own inverse
