"""Resource estimates: refuse models that cannot fit before anything is allocated.

One function, :func:`check`, is used by ``ModelConfig.validate`` (parameters), by the trainer (parameters, Adam's
state and activations for a batch) and so by the CLI, the engine and the app, and by checkpoint loading.

The estimate counts float32 numbers:

* parameters: counted on the model itself, its flows and q built (on the CPU when small, else on torch's ``meta``
  device: shapes, no storage, the way nanoGPT counts its parameters), so every layer is counted, batch norms included. A config whose rough count
  (:func:`rough_parameter_count`) is already 64 times over the cap is refused without building anything;
* training: parameters x 4 (weights, gradients, Adam's two moments) + activations ``batch x R*K x depth x
  (L*hidden + 3D) x 3`` (forward values kept for backward, with a factor for temporaries).

Example:
    >>> check_model(dict(dim=2, n_components=5, depth=4, hidden=32)) < 1e6  # fine: returns the estimate in bytes
    True
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["parameter_count", "rough_parameter_count", "training_bytes", "limit_bytes", "check_model", "check_training"]

FLOAT = 4
CPU_COUNT_LIMIT = 2_000_000  # parameters (roughly counted) up to which a model is counted by building it on the CPU


def limit_bytes(env: Any = None) -> int:
    """The cap: ``VMONF_MAX_MODEL_GB`` (default 2 GB).

    Raises:
        ValueError: the variable is set but is not a positive, finite number (it used to fall back to 2 GB
            silently; a malformed ``VMONF_*`` setting now stops the app with this sentence).
    """
    raw = (os.environ if env is None else env).get("VMONF_MAX_MODEL_GB")
    if raw is None or not raw.strip():
        return int(2e9)
    try:
        gb = float(raw)
    except ValueError:
        gb = float("nan")
    if not (gb > 0 and gb < float("inf")):
        raise ValueError(f"VMONF_MAX_MODEL_GB must be a positive number of gigabytes, got {raw!r}")
    return int(max(gb, 0.001) * 1e9)


def _g(cfg: Any, name: str, default: Any) -> Any:
    return cfg.get(name, default) if isinstance(cfg, dict) else getattr(cfg, name, default)


def parameter_count(cfg: Any) -> int:
    """Number of parameters of the model ``cfg`` (a ``ModelConfig`` or its dict) describes, all restarts included:
    its flows and posterior network built (see :data:`CPU_COUNT_LIMIT`) and counted, plus the prior's ``R*K`` logits.

    Example:
        >>> from vmonf_core import VMoNF
        >>> cfg = dict(dim=2, n_components=5, depth=4, hidden=32, restarts=2)
        >>> parameter_count(cfg) == sum(p.numel() for p in VMoNF(**cfg).parameters())
        True
    """
    rough = rough_parameter_count(cfg)
    if FLOAT * rough > 64 * limit_bytes():  # refused anyway: do not build a giant module graph to count it
        return rough
    import torch

    from .flows import build_flow
    from .nets import BatchedMLP

    D, K, R = int(_g(cfg, "dim", 2)), int(_g(cfg, "n_components", 2)), int(_g(cfg, "restarts", 1))
    # a small model is simply built on the CPU (milliseconds; torch's first meta-device op imports torch._dynamo,
    # about 1 s, which every first Playground visit and every worker's first job paid); a large one on `meta`
    device = "cpu" if rough <= CPU_COUNT_LIMIT else "meta"
    with torch.random.fork_rng(devices=[]), torch.device(device):  # initial weights drawn here are thrown away
        flows = build_flow(_g(cfg, "flow", "realnvp"), R * K, D, depth=int(_g(cfg, "depth", 4)),
                           hidden=int(_g(cfg, "hidden", 32)), hidden_layers=int(_g(cfg, "hidden_layers", 2)),
                           batch_norm=bool(_g(cfg, "batch_norm", False)), max_log_scale=float(_g(cfg, "max_log_scale", 3.0)))
        q = BatchedMLP(R, D, [int(w) for w in _g(cfg, "posterior_hidden", [64, 64])], K,
                       batch_norm=bool(_g(cfg, "posterior_batch_norm", True)))
    return sum(p.numel() for p in flows.parameters()) + sum(p.numel() for p in q.parameters()) + R * K


def rough_parameter_count(cfg: Any) -> int:
    """A closed-form count without building anything (coupling nets ``D/2 -> hidden^L -> D``, MADE ``D -> hidden^L
    -> 2D``, LU ``D x D``; batch norms left out): within a factor of about 2 of :func:`parameter_count`."""
    D, K, R = int(_g(cfg, "dim", 2)), int(_g(cfg, "n_components", 2)), int(_g(cfg, "restarts", 1))
    depth, h, L = int(_g(cfg, "depth", 4)), int(_g(cfg, "hidden", 32)), max(1, int(_g(cfg, "hidden_layers", 2)))
    flow = _g(cfg, "flow", "realnvp")
    if flow == "lu-prelu":
        block = D * D + 2 * D + 1
    else:
        d_in, d_out = (D - D // 2, 2 * (D // 2)) if flow == "realnvp" else (D, 2 * D)
        block = d_in * h + h + (L - 1) * (h * h + h) + h * d_out + d_out
    q_widths = [D, *[int(w) for w in _g(cfg, "posterior_hidden", [64, 64])], K]
    q = sum(a * b + b for a, b in zip(q_widths, q_widths[1:]))
    return R * K * depth * block + R * q + R * K


def training_bytes(cfg: Any, batch_size: int) -> int:
    """Parameters, gradients and Adam's state, plus the activations of one batch."""
    D, K, R = int(_g(cfg, "dim", 2)), int(_g(cfg, "n_components", 2)), int(_g(cfg, "restarts", 1))
    depth, h, L = int(_g(cfg, "depth", 4)), int(_g(cfg, "hidden", 32)), max(1, int(_g(cfg, "hidden_layers", 2)))
    activations = batch_size * R * K * depth * (L * h + 3 * D) * 3
    return FLOAT * (4 * parameter_count(cfg) + activations)


def _gb(b: float) -> str:
    return f"{b / 1e9:.2f} GB" if b >= 1e8 else f"{b / 1e6:.1f} MB"


def check_model(cfg: Any) -> int:
    """Raise ``ValueError`` if the parameters alone exceed the cap; returns their bytes."""
    n = FLOAT * parameter_count(cfg)
    if n > limit_bytes():
        raise ValueError(f"this model needs about {_gb(n)} for its parameters, above the {_gb(limit_bytes())} limit "
                         "(fewer components, restarts, blocks or a smaller width; VMONF_MAX_MODEL_GB raises the limit)")
    return n


def check_training(cfg: Any, batch_size: int) -> int:
    """Raise ``ValueError`` if training (parameters, Adam, one batch's activations) exceeds the cap; returns bytes."""
    n = training_bytes(cfg, batch_size)
    if n > limit_bytes():
        raise ValueError(f"training this model needs about {_gb(n)} of memory, above the {_gb(limit_bytes())} limit "
                         "(fewer components, restarts, blocks, a smaller width or batch; VMONF_MAX_MODEL_GB raises it)")
    return n
