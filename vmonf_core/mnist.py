"""MNIST, offline: the digits shipped in ``assets/`` (or IDX files), and the pixel preprocessing of the thesis
(pooling to 14x14, uniform dequantisation, the logit transform of RealNVP and MAF) with its inverse for samples.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

__all__ = ["MNIST_ASSET", "load_mnist", "load_mnist_idx", "preprocess_images", "Redequantizer", "logit_transform",
           "inverse_logit_transform", "to_pixels"]


MNIST_ASSET = Path(__file__).resolve().parent.parent / "assets" / "mnist_digits.npz"


# --------------------------------------------------------------------- MNIST
def load_mnist(
    digits: list[int] | tuple[int, ...] = (0, 1, 2, 3, 4), path: str | Path | None = None, n: int | None = None,
    seed: int | None = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images of the chosen digits, offline.

    Args:
        digits: which digits to keep.
        path: ``None`` for the shipped asset (10,000 test-set digits, see ``assets/``),
            or a folder holding the official IDX files (``train-images-idx3-ubyte[.gz]``
            and ``train-labels-idx1-ubyte[.gz]``).
        n: keep at most ``n`` images (a random subset), ``None`` for all.
        seed: RNG seed of the subset.

    Returns:
        ``images`` uint8 ``(N, 28, 28)`` and ``labels`` int64 ``(N,)``.
    """
    digits = sorted({int(d) for d in digits})
    if not digits or min(digits) < 0 or max(digits) > 9:
        raise ValueError(f"digits must be a non-empty subset of 0..9, got {digits}")
    if path is None:
        if not MNIST_ASSET.is_file():
            raise ValueError(f"MNIST asset missing: {MNIST_ASSET} (run scripts/build_mnist_asset.py)")
        with np.load(MNIST_ASSET) as f:
            images, labels = f["images"], f["labels"].astype(np.int64)
    else:
        images, labels = load_mnist_idx(path)
    keep = np.isin(labels, digits)
    images, labels = images[keep], labels[keep]
    if n is not None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if n < len(labels):
            idx = np.sort(np.random.default_rng(seed).permutation(len(labels))[:n])
            images, labels = images[idx], labels[idx]
    return images, labels


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read(200 * 1024 * 1024)
    if len(data) < 8:
        raise ValueError(f"{path.name} is too short to be an IDX file")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise ValueError(f"{path.name} is not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    if ndim == 3 and shape[1:] != (28, 28):  # MNIST images are 28x28; anything else would be reshaped into giant arrays
        raise ValueError(f"{path.name}: images must be 28x28, the header says {shape[1]}x{shape[2]}")
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path.name}: header says {shape}, file holds {body.size} bytes")
    return body.reshape(shape)


def load_mnist_idx(folder: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read the official MNIST IDX files (optionally gzipped) from a local folder.

    Raises:
        ValueError: the folder or files are missing or malformed.
    """
    folder = Path(str(folder)).expanduser()
    if not folder.is_dir():
        raise ValueError(f"MNIST folder not found: {str(folder)[:200]}")
    prefix = "train" if split == "train" else "t10k"

    def find(kind: str) -> Path:
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte", f"{prefix}-{kind}.idx{3 if kind == 'images' else 1}-ubyte"):
            for suffix in ("", ".gz"):
                p = folder / (name + suffix)
                if p.is_file():
                    real = p.resolve()  # a symlink must not lead outside the folder the user was allowed to use
                    if real != p and folder.resolve() not in real.parents:
                        raise ValueError(f"{p.name} links outside the MNIST folder; copy the file there instead")
                    return p
        raise ValueError(f"no {prefix}-{kind} IDX file in {str(folder)[:200]}")

    images, labels = _read_idx(find("images")), _read_idx(find("labels"))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError("MNIST IDX files have inconsistent shapes")
    return images, labels.astype(np.int64)


def logit_transform(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """``logit(alpha + (1 - 2 alpha) p)`` (RealNVP/MAF preprocessing)."""
    s = alpha + (1 - 2 * alpha) * p
    return np.log(s) - np.log1p(-s)


def inverse_logit_transform(v: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Inverse of :func:`logit_transform`: ``(sigmoid(v) - alpha) / (1 - 2 alpha)``."""
    return (1 / (1 + np.exp(-v)) - alpha) / (1 - 2 * alpha)


def _pooled(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` to float ``(N, size, size)`` grey levels in [0, 255] (2x2 average pooling for 14)."""
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    x = images.astype(np.float64)
    if size == 14:
        x = x.reshape(len(x), 14, 2, 14, 2).mean((2, 4))  # 2x2 average pooling
    elif size != 28:
        raise ValueError(f"size must be 28 or 14, got {size}")
    return x


def preprocess_images(
    images: np.ndarray, size: int = 28, dequantize: bool = True, alpha: float = 0.05, seed: int | None = 0
) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` images to flat logit-space features ``(N, size*size)``.

    Steps: optional 2x2 average downsample to 14x14, uniform dequantisation
    ``(pixel + u) / 256`` with ``u ~ U[0, 1)``, then :func:`logit_transform`.
    """
    x = _pooled(images, size)
    u = np.random.default_rng(seed).uniform(0, 1, x.shape) if dequantize else 0.5
    p = (x + u) / 256.0  # in (0, 1)
    return logit_transform(p.reshape(len(x), -1), alpha)


class Redequantizer:
    """Fresh dequantisation noise for the same images, one draw per epoch.

    A density on discrete pixels is fitted to ``(pixel + u) / 256`` with ``u ~ U[0, 1)`` (Theis, van den Oord &
    Bethge 2016). With one fixed draw, a flow can fit that draw; a new ``u`` every epoch keeps the target the
    continuous density (Theis, van den Oord & Bethge, 2016, "A note on the evaluation of generative models"); its
    effect on the shipped digits is measured in the README ("MNIST").

    Args:
        images: uint8 ``(N, 28, 28)``, in the order of the training features.
        size: 28 or 14 (as :func:`preprocess_images`).
        seed: the run's seed; epoch ``e`` draws from ``default_rng([seed, e])``, so a resumed run sees the same noise.

    Example:
        >>> fresh = Redequantizer(np.zeros((2, 28, 28), np.uint8), size=14, seed=0)
        >>> fresh(1).shape
        (2, 196)
    """

    def __init__(self, images: np.ndarray, size: int, seed: int = 0, alpha: float = 0.05) -> None:
        self.v = _pooled(images, size).reshape(len(images), -1).astype(np.float32)  # (N, D) grey levels
        self.seed, self.alpha = int(seed), alpha

    def __call__(self, epoch: int) -> np.ndarray:
        """Features ``(N, D)`` for ``epoch`` with their own noise."""
        u = np.random.default_rng([self.seed, int(epoch)]).uniform(0, 1, self.v.shape)
        return logit_transform((self.v + u) / 256.0, self.alpha)


def to_pixels(v: np.ndarray, size: int, alpha: float = 0.05) -> np.ndarray:
    """Logit-space features back to ``(N, size, size)`` intensities in [0, 1]."""
    return np.clip(inverse_logit_transform(v, alpha), 0, 1).reshape(-1, size, size)
