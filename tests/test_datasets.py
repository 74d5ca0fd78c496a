"""Datasets: toy generators, CSV validation, the shipped MNIST asset and preprocessing."""

import hashlib
import io

import numpy as np
import pytest

from vmonf_core.datasets import (
    MNIST_ASSET,
    TOY_DATASETS,
    TOYS,
    inverse_logit_transform,
    load_csv,
    load_mnist,
    load_mnist_idx,
    logit_transform,
    make_toy,
    pinwheel,
    preprocess_images,
    to_pixels,
    train_test_split,
    two_circles,
)

MNIST_SHA256 = "0217e13bd0668deb198aa7d305edbf0331eb89f8a6e7dd226e03d1aa3a9bd4ef"


@pytest.mark.parametrize("name", sorted(TOY_DATASETS))
def test_toy_shapes_and_determinism(name):
    x, y = make_toy(name, n=300, seed=3)
    assert x.shape == (300, 2) and y.shape == (300,) and np.isfinite(x).all()
    x2, _ = make_toy(name, n=300, seed=3)
    assert np.array_equal(x, x2)
    assert np.abs(x).max() < 2.0  # about [-1, 1]^2


def test_pinwheel_has_five_balanced_wings_at_thesis_scale():
    x, y = pinwheel(1000, seed=0)
    assert np.bincount(y).tolist() == [200] * 5
    r = np.linalg.norm(x, axis=1)
    assert 0.4 < np.median(r) < 0.6 and r.max() < 1.3


def test_two_circles_radii():
    x, y = two_circles(2000, noise=0.0)
    r = np.linalg.norm(x, axis=1)
    assert np.allclose(r[y == 0], 0.8) and np.allclose(r[y == 1], 0.4)


def test_train_test_split_partitions():
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    xtr, xte, ytr, yte = train_test_split(x, y, 0.3, seed=0)
    assert len(xte) == 3 and len(xtr) == 7
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    assert np.array_equal(xtr[:, 0] / 2, ytr)


def test_csv_loads_points_and_labels():
    x, y = load_csv(b"x,y,label\n0.1,0.2,0\n0.3,0.4,-1\n0.5,0.6,1\n")
    assert x.shape == (3, 2) and y.tolist() == [0, -1, 1]
    x, y = load_csv(io.BytesIO(b"1,2\n3,4\n"))
    assert y is None and x.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"1;2\n3;4\n", "delimiter"),
        (b"1,2,3,4\n", "2 columns"),
        (b"1,2\n3,nan\n", "NaN"),
        (b"1,2\n3,abc\n", "non-numeric"),
        (b"1,2,0.5\n", "integers"),
        (b"\xff\xfe1,2\n", "UTF-8"),
        (b"1,2\n3\n", "different numbers of columns"),
    ],
)
def test_csv_errors_are_clear(raw, message):
    with pytest.raises(ValueError, match=message):
        load_csv(raw)


def test_csv_row_limit():
    raw = b"\n".join(b"1,2" for _ in range(11))
    with pytest.raises(ValueError, match="limit"):
        load_csv(raw, max_rows=10)


def test_mnist_asset_checksum_shapes_and_counts():
    assert hashlib.sha256(MNIST_ASSET.read_bytes()).hexdigest() == MNIST_SHA256
    images, labels = load_mnist(list(range(10)))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    images, labels = load_mnist()
    assert len(labels) == 5131 and set(labels.tolist()) == {0, 1, 2, 3, 4}
    sub, lab = load_mnist([3], n=50, seed=1)
    assert sub.shape == (50, 28, 28) and (lab == 3).all()


def test_mnist_digit_validation_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="digits"):
        load_mnist([11])
    with pytest.raises(ValueError, match="not found"):
        load_mnist(path=tmp_path / "nope")
    with pytest.raises(ValueError, match="no train-images"):
        load_mnist_idx(tmp_path)


def test_mnist_idx_reader(tmp_path):
    import gzip
    import struct

    imgs = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    labs = np.array([0, 1, 2, 3], dtype=np.uint8)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">HBBIII", 0, 8, 3, 4, 28, 28) + imgs.tobytes())
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(struct.pack(">HBBI", 0, 8, 1, 4) + labs.tobytes())
    i, l = load_mnist_idx(tmp_path)
    assert np.array_equal(i, imgs) and l.tolist() == [0, 1, 2, 3]
    i, l = load_mnist([1, 3], path=tmp_path)
    assert l.tolist() == [1, 3]


def test_preprocessing_inverts_exactly():
    images, _ = load_mnist([0], n=20)
    rng_u = np.random.default_rng(0).uniform(0, 1, images.shape)
    v = preprocess_images(images, size=28, seed=0)
    p = inverse_logit_transform(v).reshape(images.shape)
    np.testing.assert_allclose(p, (images + rng_u) / 256.0, atol=1e-12)  # sigmoid(logit(.)) gives the dequantised pixels
    np.testing.assert_allclose(np.floor(p * 256), images)
    small = preprocess_images(images, size=14, seed=0)
    assert small.shape == (20, 196) and np.isfinite(small).all()
    q = np.linspace(0.001, 0.999, 50)
    np.testing.assert_allclose(inverse_logit_transform(logit_transform(q)), q, atol=1e-12)


def test_loaded_mnist_keeps_the_raw_training_digits_in_the_same_order():
    """The MNIST page shows ``info["images"]``: they must be the very digits behind ``x`` (same split, same order)."""
    from vmonf_core.experiments import load_data, resolve

    data = load_data(resolve("mnist", data={"size": 28, "n": 300}, train={"seed": 4}))
    images = data.info["images"]
    assert images.shape == (len(data.x), 28, 28) and images.dtype == np.uint8
    p = to_pixels(data.x, 28)  # (pixel + u) / 256 with u in [0, 1): within one grey level of the raw digit
    assert np.abs(p - images / 256.0).max() <= 1 / 256 + 1e-9


@pytest.mark.parametrize("name", sorted(TOYS))
def test_every_toy_entry_holds_what_its_callers_read(name):
    """One registry entry is all a toy dataset needs (issue 24): a generator whose default noise the Playground's
    slider starts at, a default K, and a preset whose recipes exist."""
    from vmonf_core.experiments import PRESETS

    toy = TOYS[name]
    x, y = toy.make(n=200, noise=toy.noise, seed=0)
    assert x.shape == (200, 2) and toy.noise >= 0
    assert 1 <= toy.K <= len(np.unique(y)) and toy.preset in PRESETS
