"""What the live view draws, computed where the model is (a Dask worker): plain arrays, no plotting library.

A *preview spec* is a small dict that says what to compute:
``{"kind": "partition", "bounds": (x0, x1, y0, y1), "n": 60, "per_component": 100}`` for 2-D data (argmax q on
a grid, log p(x), and samples) or ``{"kind": "images", "size": 14, "per_component": 8}`` for image data (one row
of samples per component, as the thesis's Figure 5.4). :func:`compute` evaluates a spec on a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

__all__ = ["bounds_of", "grid_eval", "partition_grid", "image_grid", "sample_grid", "partition_spec", "images_spec", "compute"]


def bounds_of(x: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """Square-ish plotting bounds around 2-D points."""
    lo, hi = x.min(0), x.max(0)
    pad = margin * max(float((hi - lo).max()), 1e-3)
    return float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad)


def _grid(model: Any, bounds: tuple[float, float, float, float], n: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """The ``n x n`` grid over ``bounds``: ``gx (n,)``, ``gy (n,)`` and its points ``(n*n, 2)`` (rows follow ``gy``)."""
    if model.D != 2:
        raise ValueError(f"grid plots need a 2-D model, got dim = {model.D}")
    gx = np.linspace(bounds[0], bounds[1], n)
    gy = np.linspace(bounds[2], bounds[3], n)
    xx, yy = np.meshgrid(gx, gy)
    pts = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1), dtype=model.dtype, device=model.device)
    return gx, gy, pts


@contextmanager
def _evaluating(model: Any) -> Iterator[None]:
    """Eval mode (batch norm on its running statistics) for the block, then the model's mode as it was."""
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


@torch.no_grad()
def grid_eval(model: Any, bounds: tuple[float, float, float, float], n: int = 120) -> dict[str, np.ndarray]:
    """Evaluate a 2-D model on an ``n x n`` grid.

    Returns:
        ``gx (n,)``, ``gy (n,)``, ``argmax_q (n, n)``, ``q (K, n, n)``, ``log_px (n, n)``,
        ``log_px_k (K, n, n)`` (rows follow ``gy``).
    """
    gx, gy, pts = _grid(model, bounds, n)
    with _evaluating(model):
        logits = model.posterior_logits(pts)
        lpk = model.component_log_prob(pts)
        lp = torch.logsumexp(lpk + model.log_prior(), -1)
    K = model.K
    return {
        "gx": gx, "gy": gy,
        "argmax_q": logits.argmax(-1).cpu().numpy().reshape(n, n),
        "q": torch.softmax(logits / float(model.temperature), -1).cpu().numpy().T.reshape(K, n, n),  # at the trained T
        "log_px": lp.cpu().numpy().reshape(n, n),
        "log_px_k": lpk.cpu().numpy().T.reshape(K, n, n),
    }


@torch.no_grad()
def partition_grid(model: Any, bounds: tuple[float, float, float, float], n: int = 60) -> dict[str, np.ndarray]:
    """``argmax_k q(k|x)`` on an ``n x n`` grid: what the partition preview draws (the posterior only, no flow).

    Returns:
        ``gx (n,)``, ``gy (n,)``, ``argmax_q (n, n)`` (rows follow ``gy``).
    """
    gx, gy, pts = _grid(model, bounds, n)
    with _evaluating(model):
        argmax = model.posterior_logits(pts).argmax(-1).cpu().numpy().reshape(n, n)
    return {"gx": gx, "gy": gy, "argmax_q": argmax}


def image_grid(images: np.ndarray, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tile ``rows*cols`` images ``(n, h, w)`` in [0, 1] into one array (missing tiles stay blank)."""
    n, h, w = images.shape
    out = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad))
    for i in range(min(n, rows * cols)):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = images[i]
    return out


def sample_grid(model: Any, size: int, per_component: int = 8, seed: int = 0) -> np.ndarray:
    """Rows are components, as in the thesis's Figure 5.4; pixels in [0, 1]. Seeded locally: no global RNG."""
    from .datasets import to_pixels

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rows = [model.sample(per_component, component=k)[0].cpu().numpy() for k in range(model.K)]
    return image_grid(to_pixels(np.concatenate(rows), size), model.K, per_component)


def partition_spec(x: np.ndarray, n: int = 60, per_component: int = 100) -> dict[str, Any]:
    """The live view of a 2-D run: ``n x n`` grid over the data's bounds, and samples."""
    return {"kind": "partition", "bounds": bounds_of(x), "n": int(n), "per_component": int(per_component)}


def images_spec(size: int, per_component: int = 8) -> dict[str, Any]:
    """The live view of an image run: a grid of samples, one row per component."""
    return {"kind": "images", "size": int(size), "per_component": int(per_component)}


def compute(model: Any, spec: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Evaluate a preview spec on ``model`` (eval mode); returns plain numpy arrays."""
    if spec["kind"] == "partition":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            s, k = model.sample(int(spec["per_component"]) * model.K)
        return {"kind": "partition", "grid": partition_grid(model, tuple(spec["bounds"]), int(spec["n"])),
                "samples": s.cpu().numpy(), "k": k.cpu().numpy(), "K": model.K}
    if spec["kind"] == "images":
        return {"kind": "images", "grid": sample_grid(model, int(spec["size"]), int(spec["per_component"]), seed), "K": model.K}
    raise ValueError(f"unknown preview kind {spec.get('kind')!r}")
