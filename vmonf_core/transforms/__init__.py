"""Invertible transforms, all batched over K mixture components."""

from .autoregressive import MADE, MAFBlock
from .base import Composite, Reverse, Transform
from .coupling import AffineCoupling, soft_clamp
from .elementwise import PReLU
from .linear import LUAffine
from .normalization import BatchNormFlow

__all__ = [
    "Transform",
    "Composite",
    "Reverse",
    "LUAffine",
    "PReLU",
    "BatchNormFlow",
    "AffineCoupling",
    "MADE",
    "MAFBlock",
    "soft_clamp",
]
