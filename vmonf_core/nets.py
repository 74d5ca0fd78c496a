"""K-batched neural network layers.

Weights carry a leading axis of size ``K`` so that one ``torch.baddbmm`` evaluates
the same architecture with ``K`` independent parameter sets: all mixture components
(or all restarts of the posterior) run in a single pass instead of a Python loop.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["BatchedLinear", "BatchedMLP", "BatchedBatchNorm", "made_masks"]


class BatchedLinear(nn.Module):
    """``K`` independent affine layers ``y_k = x_k W_k + b_k``.

    Args:
        K: number of parameter sets.
        in_features: input width.
        out_features: output width.
        mask: optional ``(in_features, out_features)`` 0/1 mask applied to every ``W_k``
            (used by MADE). Stored as a buffer.
        zero_init: start with ``W = 0, b = 0`` so that a conditioner outputs zeros and
            the flow it drives starts at the identity.

    Shapes:
        x: ``(K, N, in_features)`` -> ``(K, N, out_features)``.
    """

    def __init__(
        self,
        K: int,
        in_features: int,
        out_features: int,
        mask: Tensor | None = None,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(max(in_features, 1))
        w = torch.empty(K, in_features, out_features).uniform_(-bound, bound)
        self.weight = nn.Parameter(torch.zeros_like(w) if zero_init else w)
        self.bias = nn.Parameter(torch.zeros(K, 1, out_features))
        if mask is not None:
            if mask.shape != (in_features, out_features):
                raise ValueError(f"mask shape {tuple(mask.shape)} != {(in_features, out_features)}")
            self.register_buffer("mask", mask.float())
        else:
            self.mask = None

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight if self.mask is None else self.weight * self.mask
        return torch.baddbmm(self.bias, x, w)  # (K,N,in) @ (K,in,out) + (K,1,out)


def running_stats(module: nn.Module, K: int, features: int, momentum: float, eps: float) -> None:
    """Give a batch norm ``module`` its settings and ``K`` sets of running statistics (buffers ``(K, 1, features)``:
    mean 0, variance 1), which :func:`batch_stats` reads and updates."""
    module.momentum, module.eps = momentum, eps
    module.register_buffer("running_mean", torch.zeros(K, 1, features))
    module.register_buffer("running_var", torch.ones(K, 1, features))


def batch_stats(x: Tensor, running_mean: Tensor, running_var: Tensor, momentum: float,
                training: bool) -> tuple[Tensor, Tensor]:
    """Mean and biased variance over the ``N`` axis of ``x`` ``(K, N, H)``, each ``(K, 1, H)``.

    In training mode (and for more than one point) the batch's statistics, and the running ones move toward them in
    place: ``running <- (1 - momentum) running + momentum batch``. Otherwise the running statistics.

    Example:
        >>> m, v = torch.zeros(1, 1, 2), torch.ones(1, 1, 2)
        >>> mean, var = batch_stats(torch.tensor([[[0.0, 2.0], [2.0, 2.0]]]), m, v, 0.5, training=True)
        >>> mean.tolist(), var.tolist(), m.tolist(), v.tolist()
        ([[[1.0, 2.0]]], [[[1.0, 0.0]]], [[[0.5, 1.0]]], [[[1.0, 0.5]]])
    """
    if training and x.shape[1] > 1:
        mean = x.mean(1, keepdim=True)
        var = x.var(1, unbiased=False, keepdim=True)
        with torch.no_grad():
            running_mean.lerp_(mean, momentum)
            running_var.lerp_(var, momentum)
        return mean, var
    return running_mean, running_var


class BatchedBatchNorm(nn.Module):
    """Plain batch normalization with ``K`` independent sets of statistics.

    Normalizes over the ``N`` axis of a ``(K, N, H)`` input: batch statistics in
    training mode, running statistics in eval mode. (Not a flow: no log-det.)
    """

    def __init__(self, K: int, features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        running_stats(self, K, features, momentum, eps)
        self.weight = nn.Parameter(torch.ones(K, 1, features))
        self.bias = nn.Parameter(torch.zeros(K, 1, features))

    def forward(self, x: Tensor) -> Tensor:
        mean, var = batch_stats(x, self.running_mean, self.running_var, self.momentum, self.training)
        return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias


class BatchedMLP(nn.Module):
    """An MLP with ``K`` independent parameter sets.

    Args:
        K: number of parameter sets.
        in_features: input width.
        hidden: widths of the hidden layers (may be empty: a linear map).
        out_features: output width.
        batch_norm: insert :class:`BatchedBatchNorm` after each hidden linear layer.
        zero_init_last: zero the last layer (identity-like flows).
        activation: hidden non-linearity.
    """

    def __init__(
        self,
        K: int,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        batch_norm: bool = False,
        zero_init_last: bool = False,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(BatchedLinear(K, width, h))
            if batch_norm:
                layers.append(BatchedBatchNorm(K, h))
            layers.append(activation())
            width = h
        layers.append(BatchedLinear(K, width, out_features, zero_init=zero_init_last))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def made_masks(dim: int, hidden: Sequence[int], n_outputs_per_dim: int) -> list[Tensor]:
    """Degree masks of MADE (Germain et al. 2015) for the natural input order.

    Input ``d`` has degree ``d + 1``; hidden unit ``j`` of a layer has degree
    ``j mod max(1, D - 1) + 1``; output ``d`` (repeated ``n_outputs_per_dim`` times,
    in blocks) has degree ``d + 1``. A connection is allowed from degree ``a`` to a
    hidden unit of degree ``b`` when ``b >= a`` and to an output of degree ``b``
    when ``b > a``, so output ``d`` depends only on inputs ``< d``.

    Returns:
        One ``(in, out)`` float mask per linear layer.
    """
    degrees = [torch.arange(1, dim + 1)]  # m(input d) = d + 1
    for h in hidden:
        degrees.append(torch.arange(h) % max(1, dim - 1) + 1)
    masks = [(d_out[None, :] >= d_in[:, None]).float() for d_in, d_out in zip(degrees[:-1], degrees[1:])]
    d_final = torch.arange(1, dim + 1).repeat(n_outputs_per_dim)
    masks.append((d_final[None, :] > degrees[-1][:, None]).float())  # strict: no self-dependence
    return masks


@contextlib.contextmanager
def population_batch_stats(model: nn.Module):
    """Batch norms in eval mode (running statistics, not updated) inside the block; gradients still flow.

    The labeled points are a tiny, skewed batch (16 points of 2 wings). In train mode their forward pass replaced
    q's normalisation by their own statistics and, worse, dragged the running statistics that every evaluation
    uses toward them, even when the labeled loss had weight 0 (on the pinwheel with 2 of 5 wings labeled, the
    selected restart's ELBO fell by a nat within one epoch).
    """
    norms = [mod for mod in model.modules() if hasattr(mod, "running_mean") and mod.training]  # the batch norms
    for mod in norms:
        mod.train(False)
    try:
        yield
    finally:
        for mod in norms:
            mod.train(True)
