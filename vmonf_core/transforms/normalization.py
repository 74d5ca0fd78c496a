"""Batch normalization as a flow layer (Dinh et al. 2017, appendix E; Papamakarios et al. 2017)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..nets import batch_stats, running_stats
from .base import Transform

__all__ = ["BatchNormFlow"]


class BatchNormFlow(Transform):
    """``z = (x - mu) / sqrt(var + eps) * exp(log_gamma) + beta`` per component.

    In training mode ``mu, var`` are the batch statistics over ``N`` (and the running
    averages are updated); in eval mode the running averages are used. The log-det
    treats the statistics as constants: ``sum(log_gamma - 0.5 log(var + eps))``.

    ``inverse`` always uses the running statistics (it is only meaningful once the
    layer has seen data, i.e. for sampling in eval mode). Always evaluate densities
    in eval mode: the batch statistics of a single test batch are not the model.
    """

    def __init__(self, K: int, dim: int, momentum: float = 0.05, eps: float = 1e-5) -> None:
        super().__init__()
        running_stats(self, K, dim, momentum, eps)
        self.log_gamma = nn.Parameter(torch.zeros(K, 1, dim))
        self.beta = nn.Parameter(torch.zeros(K, 1, dim))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mu, var = batch_stats(x, self.running_mean, self.running_var, self.momentum, self.training)
        z = (x - mu) * torch.rsqrt(var + self.eps) * self.log_gamma.exp() + self.beta
        ladj = (self.log_gamma - 0.5 * torch.log(var + self.eps)).sum(-1)  # (K, 1)
        return z, ladj.expand(-1, x.shape[1])

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        mu, var = self.running_mean, self.running_var
        x = (z - self.beta) * (-self.log_gamma).exp() * torch.sqrt(var + self.eps) + mu
        ladj = -(self.log_gamma - 0.5 * torch.log(var + self.eps)).sum(-1)
        return x, ladj.expand(-1, z.shape[1])
