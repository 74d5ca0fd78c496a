"""Data files of any dimension (vmonf_core.tables): what the CLI's --data reads, and its one-sentence errors."""

import numpy as np
import pytest

from vmonf_core.tables import load_table


def test_csv_with_and_without_header_and_a_named_or_indexed_label_column(tmp_path):
    x, y = load_table(b"a,b,c,d,cls\n1,2,3,4,0\n5,6,7,8,-1\n", label_column="cls")
    assert x.shape == (2, 4) and y.tolist() == [0, -1]
    x, y = load_table(b"1,2,3,4,1\n5,6,7,8,-1\n", label_column=-1)
    assert x.shape == (2, 4) and y.tolist() == [1, -1]
    x, y = load_table(b"# a comment\n1,2,3\n4,5,6\n")
    assert x.tolist() == [[1, 2, 3], [4, 5, 6]] and y is None


def test_a_whole_number_column_is_a_feature_unless_named():
    """The silent case of issue 23: a third feature of whole numbers was read as labels and a 2-D model trained."""
    x, y = load_table(b"0.5,1.5,2\n0.1,0.2,3\n0.3,0.9,0\n")
    assert x.shape == (3, 3) and y is None


def test_npy_and_npz(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 5))
    np.save(tmp_path / "a.npy", a)
    np.testing.assert_array_equal(load_table(tmp_path / "a.npy")[0], a)
    np.savez(tmp_path / "a.npz", x=a, y=np.arange(50) % 3)
    x, y = load_table(tmp_path / "a.npz", label_column="y")
    np.testing.assert_array_equal(x, a)
    assert y.tolist() == (np.arange(50) % 3).tolist()
    np.save(tmp_path / "b.npy", np.c_[np.arange(50) % 2, a])
    x, y = load_table(tmp_path / "b.npy", label_column=0)
    assert x.shape == (50, 5) and y.max() == 1
    with pytest.raises(ValueError, match="whole numbers"):  # a feature named as the label column
        load_table(tmp_path / "a.npy", label_column=0)


@pytest.mark.parametrize("raw, label, message", [
    (b"1,2,3\n4,5\n6,7,8\n", None, "different numbers of columns"),
    (b"a,b\n1,2\nnan,4\n", None, "NaN or infinite"),
    (b"a,b\n1,2\n3,inf\n", None, "NaN or infinite"),
    (b"a,b,c\n1,x,3\n4,5,6\n", None, "non-numeric values in column b"),
    (b"a,b,c\n1,2,0.5\n4,5,1\n", "c", "whole numbers"),
    (b"1,2,0\n4,5,1\n", "label", "no header row"),
    (b"a,b\n1,2\n", "zzz", "no column named 'zzz'"),
    (b"1,2\n3,4\n", 5, "out of range"),
    (b"", None, "empty"),
    (b"\x00\x01\x02", None, "binary"),
])
def test_bad_files_are_said_in_one_sentence(raw, label, message):
    with pytest.raises(ValueError, match=message):
        load_table(raw, label_column=label)


def test_a_pickled_npy_is_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="unpickling"):
        load_table(tmp_path / "o.npy")
