"""Datasets: the 2-D toy generators and their registry, CSV loading with validation, and the train/test split
(MNIST lives in :mod:`vmonf_core.mnist`; its names are also importable from here).

Every generator returns ``(x, y)``: float64 ``(N, 2)`` points and int64 ``(N,)`` labels.
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import csv_lines, read_capped
from .mnist import MNIST_ASSET, Redequantizer, inverse_logit_transform, load_mnist, load_mnist_idx, logit_transform, preprocess_images, to_pixels

__all__ = [
    "TOYS",
    "Toy",
    "TOY_DATASETS",
    "make_toy",
    "pinwheel",
    "two_circles",
    "moons",
    "blobs",
    "spirals",
    "checkerboard",
    "train_test_split",
    "load_csv",
    "load_mnist",
    "load_mnist_idx",
    "preprocess_images",
    "Redequantizer",
    "logit_transform",
    "inverse_logit_transform",
    "to_pixels",
    "MNIST_ASSET",
    "MAX_CSV_ROWS",
    "MAX_CSV_BYTES",
]

MAX_CSV_ROWS = 100_000
MAX_CSV_BYTES = 10 * 1024 * 1024


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def _check_n(n: int, minimum: int = 2) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum or n > 1_000_000:
        raise ValueError(f"number of points must be an integer in [{minimum}, 1000000], got {n!r}")


def _check_noise(noise: float) -> None:
    if not (isinstance(noise, int | float) and np.isfinite(noise) and 0 <= noise <= 10):
        raise ValueError(f"noise must be a number in [0, 10], got {noise!r}")


def pinwheel(
    n: int = 1000, n_wings: int = 5, radial_std: float = 0.3, tangential_std: float = 0.05, rate: float = 0.4,
    noise: float = 1.0, seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The pinwheel of Johnson et al. (2016), scaled to about ``[-1, 1]^2`` as in the thesis.

    Args:
        n: total number of points (split evenly over the wings).
        n_wings: number of wings (classes).
        radial_std, tangential_std: spread along and across a wing (scaled by ``noise``).
        rate: how much the wings curl.
        noise: multiplier on both standard deviations.
        seed: RNG seed.
    """
    _check_n(n)
    _check_noise(noise)
    if not 1 <= n_wings <= 32:
        raise ValueError(f"n_wings must be in [1, 32], got {n_wings}")
    rng = _rng(seed)
    y = np.arange(n) % n_wings
    rads = np.linspace(0, 2 * np.pi, n_wings, endpoint=False)
    feats = rng.standard_normal((n, 2)) * np.array([radial_std, tangential_std]) * noise
    feats[:, 0] += 1.0
    angles = rads[y] + rate * np.exp(feats[:, 0])  # the wing curls with the radius
    c, s = np.cos(angles), np.sin(angles)
    x = np.stack([feats[:, 0] * c - feats[:, 1] * s, feats[:, 0] * s + feats[:, 1] * c], 1)
    x = x / 2  # the thesis scales by 10/20
    perm = rng.permutation(n)
    return x[perm], y[perm].astype(np.int64)


def two_circles(n: int = 1000, noise: float = 0.03, r_outer: float = 0.8, r_inner: float = 0.4, seed: int | None = 0):
    """Two concentric circles (radii 0.8 and 0.4, as in the thesis); label 0 is the outer one."""
    _check_n(n)
    _check_noise(noise)
    rng = _rng(seed)
    y = (np.arange(n) % 2).astype(np.int64)
    theta = rng.uniform(0, 2 * np.pi, n)
    r = np.where(y == 0, r_outer, r_inner)
    x = np.stack([r * np.cos(theta), r * np.sin(theta)], 1) + noise * rng.standard_normal((n, 2))
    perm = rng.permutation(n)
    return x[perm], y[perm]


def moons(n: int = 1000, noise: float = 0.06, seed: int | None = 0):
    """scikit-learn's two moons, centred and scaled to about ``[-1, 1]^2``."""
    from sklearn.datasets import make_moons

    _check_n(n)
    _check_noise(noise)
    x, y = make_moons(n, noise=noise, random_state=seed)
    x = (x - np.array([0.5, 0.25])) / 1.2
    return x, y.astype(np.int64)


def blobs(n: int = 1000, noise: float = 0.12, n_blobs: int = 4, seed: int | None = 0):
    """Isotropic Gaussian blobs with centres on a circle of radius 0.6."""
    _check_n(n)
    _check_noise(noise)
    rng = _rng(seed)
    y = np.arange(n) % n_blobs
    ang = 2 * np.pi * np.arange(n_blobs) / n_blobs
    centres = 0.6 * np.stack([np.cos(ang), np.sin(ang)], 1)
    x = centres[y] + noise * rng.standard_normal((n, 2))
    perm = rng.permutation(n)
    return x[perm], y[perm].astype(np.int64)


def spirals(n: int = 1000, noise: float = 0.03, n_arms: int = 2, seed: int | None = 0):
    """Interleaved spiral arms."""
    _check_n(n)
    _check_noise(noise)
    rng = _rng(seed)
    y = np.arange(n) % n_arms
    t = np.sqrt(rng.uniform(0, 1, n)) * 2.5 * np.pi  # uniform density along the arm
    r = t / (2.5 * np.pi) * 0.9 + 0.05
    a = t + 2 * np.pi * y / n_arms
    x = np.stack([r * np.cos(a), r * np.sin(a)], 1) + noise * rng.standard_normal((n, 2))
    perm = rng.permutation(n)
    return x[perm], y[perm].astype(np.int64)


def checkerboard(n: int = 1000, noise: float = 0.0, seed: int | None = 0):
    """Uniform points on the black squares of a 4x4 board on ``[-1, 1]^2``; label = colour class of the square pair."""
    _check_n(n)
    _check_noise(noise)
    rng = _rng(seed)
    cells = [(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0]
    c = rng.integers(0, len(cells), n)
    ij = np.array(cells)[c]
    x = (ij + rng.uniform(0, 1, (n, 2))) / 2 - 1 + noise * rng.standard_normal((n, 2))
    y = (ij[:, 0] // 2 * 2 + ij[:, 1] // 2).astype(np.int64)  # which 2x2 quadrant
    return x, y


@dataclass(frozen=True)
class Toy:
    """A toy dataset of the registry :data:`TOYS`: everything the library and the app know about it, in one entry.

    Attributes:
        make: the generator, ``make(n=..., noise=..., seed=...) -> (x, y)``; its ``noise`` default is the dataset's
            usual noise (:attr:`noise` reads it from the signature, so it is written once).
        K: the Playground's default number of components (its classes; the checkerboard's two colours).
        preset: the :data:`vmonf_core.presets.PRESETS` entry whose recipes the Playground offers for it.
    """

    make: Callable[..., tuple[np.ndarray, np.ndarray]]
    K: int
    preset: str = "pinwheel"

    @property
    def noise(self) -> float:
        """The generator's default noise scale.

        >>> TOYS["circles"].noise
        0.03
        """
        return float(inspect.signature(self.make).parameters["noise"].default)


# The toy datasets: adding one is one entry here (and its test in tests/test_datasets.py, which runs every entry)
TOYS: dict[str, Toy] = {
    "pinwheel": Toy(pinwheel, K=5, preset="pinwheel"),
    "circles": Toy(two_circles, K=2, preset="circles"),
    "moons": Toy(moons, K=2, preset="moons"),
    "blobs": Toy(blobs, K=4),
    "spirals": Toy(spirals, K=2),
    "checkerboard": Toy(checkerboard, K=2),
}
TOY_DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {name: t.make for name, t in TOYS.items()}


def make_toy(name: str, n: int = 1000, noise: float | None = None, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generate toy dataset ``name`` (see :data:`TOY_DATASETS`); ``noise=None`` keeps its default."""
    if name not in TOY_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(TOY_DATASETS)}")
    kwargs = {} if noise is None else {"noise": noise}
    return TOY_DATASETS[name](n=n, seed=seed, **kwargs)


def train_test_split(x: np.ndarray, y: np.ndarray | None = None, test_fraction: float = 0.2, seed: int | None = 0):
    """Shuffle and split; returns ``x_train, x_test, y_train, y_test`` (labels ``None`` if ``y`` is)."""
    if not 0 <= test_fraction < 1:
        raise ValueError(f"test_fraction must be in [0, 1), got {test_fraction}")
    n = len(x)
    perm = _rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    te, tr = perm[:n_test], perm[n_test:]
    if y is None:
        return x[tr], x[te], None, None
    return x[tr], x[te], y[tr], y[te]


def load_csv(source: str | Path | bytes | io.IOBase, max_rows: int = MAX_CSV_ROWS, max_bytes: int = MAX_CSV_BYTES):
    """Load 2-D points from CSV: two numeric columns and an optional integer label column.

    A header row is allowed (skipped when it is not numeric). Labels ``-1`` mean unlabeled.

    Returns:
        ``x`` float64 ``(N, 2)`` and ``y`` int64 ``(N,)`` or ``None``.

    Raises:
        ValueError: with a message naming what is wrong (size, encoding, columns, values).
    """
    lines = csv_lines(read_capped(source, max_bytes, "CSV"), "CSV")
    rows = [ln.split(",") for ln in lines]

    def numeric(row: list[str]) -> bool:
        try:
            [float(v) for v in row]
            return True
        except ValueError:
            return False

    if not numeric(rows[0]):
        rows = rows[1:]  # header
    if not rows:
        raise ValueError("CSV has a header but no data rows")
    if len(rows) > max_rows:
        raise ValueError(f"CSV has {len(rows)} rows; the limit is {max_rows}")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"CSV rows have different numbers of columns: {sorted(widths)[:5]}")
    width = widths.pop()
    if width not in (2, 3):
        hint = " (is the delimiter a comma?)" if width == 1 else ""
        raise ValueError(f"CSV must have 2 columns (x, y) or 3 (x, y, label), found {width}{hint}")
    try:
        arr = np.array([[float(v) for v in r] for r in rows], dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"CSV has a non-numeric value: {str(e)[:100]}") from None
    if not np.isfinite(arr).all():
        bad = int(np.argwhere(~np.isfinite(arr))[0, 0]) + 1
        raise ValueError(f"CSV contains NaN or infinite values (first in data row {bad})")
    x = arr[:, :2]
    y = None
    if width == 3:
        lab = arr[:, 2]
        if not np.all(lab == np.round(lab)) or lab.min() < -1:
            raise ValueError("CSV label column must hold integers >= -1 (-1 = unlabeled)")
        y = lab.astype(np.int64)
    return x, y
