"""LU-decomposed affine transform (Kingma & Dhariwal 2018, Glow, section 3.2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import Transform

__all__ = ["LUAffine"]


class LUAffine(Transform):
    """``z = A x + b`` with ``A = P L (U + diag(s))`` for each of ``K`` components.

    ``P`` is a fixed random permutation (buffer), ``L`` unit lower-triangular, ``U``
    strictly upper-triangular and ``s = exp(log_s) > 0``, so
    ``log|det A| = sum(log_s)`` costs O(D) and inversion is two triangular solves.
    Initialised at ``A = P`` (a permutation), ``b = 0``.

    Args:
        K: number of components.
        dim: feature dimension ``D``.
    """

    def __init__(self, K: int, dim: int) -> None:
        super().__init__()
        self.K, self.dim = K, dim
        self.lower = nn.Parameter(torch.zeros(K, dim, dim))
        self.upper = nn.Parameter(torch.zeros(K, dim, dim))
        self.log_s = nn.Parameter(torch.zeros(K, dim))
        self.bias = nn.Parameter(torch.zeros(K, 1, dim))
        self.register_buffer("P", torch.eye(dim)[torch.randperm(dim)])
        self.register_buffer("tril_mask", torch.tril(torch.ones(dim, dim), -1))

    def _factors(self) -> tuple[Tensor, Tensor]:
        eye = torch.eye(self.dim, dtype=self.lower.dtype, device=self.lower.device)
        L = self.lower * self.tril_mask + eye  # unit lower-triangular
        U = self.upper * self.tril_mask.T + torch.diag_embed(self.log_s.exp())  # U + diag(s)
        return L, U

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        L, U = self._factors()
        A = self.P @ L @ U  # (K, D, D)
        z = torch.baddbmm(self.bias, x, A.transpose(1, 2))  # z_n = A x_n + b
        ladj = self.log_s.sum(-1, keepdim=True).expand(-1, x.shape[1])  # log|det A|
        return z, ladj

    def inverse(self, z: Tensor) -> tuple[Tensor, Tensor]:
        L, U = self._factors()
        y = (z - self.bias).transpose(1, 2)  # (K, D, N)
        y = self.P.T @ y  # P^-1 = P^T
        y = torch.linalg.solve_triangular(L, y, upper=False, unitriangular=True)
        x = torch.linalg.solve_triangular(U, y, upper=True).transpose(1, 2)
        ladj = -self.log_s.sum(-1, keepdim=True).expand(-1, z.shape[1])
        return x, ladj
