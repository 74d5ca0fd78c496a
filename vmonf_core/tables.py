"""Data of any dimension from files: CSV (through pandas), ``.npy`` and ``.npz``.

What the CLI's ``--data`` reads. A label column is never guessed: it is named with ``label_column`` (a header name
or a 0-based index, negative from the end), and ``-1`` in it marks an unlabeled point (scikit-learn's convention).
The app's 2-D upload keeps its own ``x, y[, label]`` format (:func:`vmonf_core.datasets.load_csv`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .files import csv_lines, read_capped

__all__ = ["load_table", "MAX_TABLE_BYTES"]

MAX_TABLE_BYTES = 512 * 2**20  # a file larger than this is refused before it is parsed
MAX_ROWS = 5_000_000


def _label_index(label_column: str | int | None, names: list[str] | None, width: int) -> int | None:
    """The column index of ``label_column`` among ``width`` columns (``names`` when the file has a header)."""
    if label_column is None:
        return None
    if isinstance(label_column, str) and label_column.lstrip("-").isdigit():
        label_column = int(label_column)
    if isinstance(label_column, int):
        if not -width <= label_column < width:
            raise ValueError(f"label column {label_column} is out of range for {width} columns")
        return label_column % width
    if names is None:
        raise ValueError(f"label column {label_column!r} is a name, but the file has no header row; give its index")
    if label_column not in names:
        raise ValueError(f"no column named {label_column!r}; the columns are {names[:12]}")
    return names.index(label_column)


def _split_labels(arr: np.ndarray, col: int | None, what: str) -> tuple[np.ndarray, np.ndarray | None]:
    if arr.ndim != 2 or arr.shape[1] < (2 if col is not None else 1) or len(arr) == 0:
        raise ValueError(f"{what} must hold a 2-D table of points (rows) by features (columns), got shape {arr.shape}")
    if col is None:
        return arr, None
    lab = arr[:, col]
    if not (np.isfinite(lab).all() and np.all(lab == np.round(lab)) and lab.min() >= -1):
        raise ValueError(f"the label column of {what} must hold whole numbers >= -1 (-1 = unlabeled)")
    return np.delete(arr, col, axis=1), lab.astype(np.int64)


def _check_finite(x: np.ndarray, what: str) -> None:
    if not np.isfinite(x).all():
        row = int(np.argwhere(~np.isfinite(x))[0, 0]) + 1
        raise ValueError(f"{what} contains NaN or infinite values (first in data row {row})")


def _read_csv(raw: bytes, label_column: str | int | None) -> tuple[np.ndarray, np.ndarray | None]:
    import pandas as pd

    lines = csv_lines(raw, "the CSV", binary_hint="; .npy and .npz are read by extension")
    first, text = lines[0], "\n".join(lines)
    try:
        [float(v) for v in first.split(",")]
        header = None
    except ValueError:
        header = 0  # a first row that is not all numbers names the columns
    widths: dict[int, int] = {}  # pandas pads a short row with empty values: ragged rows are found here first
    for i, row in enumerate(csv.reader(lines)):
        widths.setdefault(len(row), i + 1)
        if len(widths) > 1:
            (w0, _), (w1, r1) = widths.items()
            raise ValueError(f"the CSV's rows have different numbers of columns ({w0} in its first row, {w1} in row {r1})")
    try:
        df = pd.read_csv(io.StringIO(text), header=header, comment="#", skip_blank_lines=True, nrows=MAX_ROWS + 1,
                         dtype=str, keep_default_na=False)
    except pd.errors.ParserError as e:  # ragged rows: "Expected 4 fields in line 7, saw 5"
        raise ValueError(f"the CSV's rows have different numbers of columns ({str(e).strip().splitlines()[-1][:120]})") from None
    except pd.errors.EmptyDataError:
        raise ValueError("the CSV is empty") from None
    if len(df) > MAX_ROWS:
        raise ValueError(f"the CSV has more than {MAX_ROWS} rows")
    if len(df) == 0:
        raise ValueError("the CSV has a header but no data rows")
    names = [str(c) for c in df.columns] if header == 0 else None
    col = _label_index(label_column, names, df.shape[1])
    bad = []
    values = np.empty(df.shape, dtype=np.float64)
    for j, c in enumerate(df.columns):
        text_col = df[c].str.strip()
        num = pd.to_numeric(text_col, errors="coerce")
        unparsed = num.isna() & ~text_col.str.lower().isin(["nan", "+nan", "-nan"])  # "nan" is a number, not finite
        if unparsed.any():
            row = int(np.flatnonzero(unparsed.to_numpy())[0])
            bad.append(f"{names[j] if names else j} (row {row + 1}: {str(df[c].iloc[row])[:20]!r})")
        values[:, j] = num.to_numpy(dtype=np.float64, na_value=np.nan)
    if bad:
        raise ValueError(f"the CSV has non-numeric values in column {', '.join(bad[:3])}")
    if df.shape[1] == 1 and col is None and "," not in first and any(d in first for d in ";\t|"):
        raise ValueError("the CSV has one column; is its delimiter a comma?")
    x, y = _split_labels(values, col, "the CSV")
    _check_finite(x, "the CSV")
    return x, y


def _read_npz(raw: bytes, label_column: str | int | None) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as e:
        raise ValueError(f"the .npz file cannot be read without unpickling objects ({str(e)[:80]})") from None
    except Exception as e:  # noqa: BLE001 (a corrupt archive: zipfile, OSError, EOFError, ...)
        raise ValueError(f"the .npz file is not a valid numpy archive ({type(e).__name__})") from None
    key = next((k for k in ("x", "X", "data") if k in arrays), None)
    if key is None:
        if len(arrays) != 1:
            raise ValueError(f"the .npz file holds {sorted(arrays)}; name the data array 'x' (and labels 'y')")
        key = next(iter(arrays))
    x = _as_float(arrays[key], f"array {key!r} of the .npz file")
    if isinstance(label_column, str) and label_column in arrays and label_column != key:
        y = np.asarray(arrays[label_column])
        if y.shape != (len(x),):
            raise ValueError(f"labels {label_column!r} must have shape ({len(x)},), got {y.shape}")
        x2, y2 = _split_labels(np.c_[x, y.astype(np.float64)], x.shape[1] if x.ndim == 2 else -1, "the .npz file")
        _check_finite(x2, "the .npz file")
        return x2, y2
    x, y = _split_labels(x, _label_index(label_column, None, x.shape[1] if x.ndim == 2 else 0), "the .npz file")
    _check_finite(x, "the .npz file")
    return x, y


def _as_float(a: np.ndarray, what: str) -> np.ndarray:
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
        raise ValueError(f"{what} must be numeric, got dtype {a.dtype}")
    return np.asarray(a, dtype=np.float64)


def load_table(source: str | Path | bytes | io.IOBase, label_column: str | int | None = None,
               max_bytes: int = MAX_TABLE_BYTES) -> tuple[np.ndarray, np.ndarray | None]:
    """Points of any dimension from a CSV, ``.npy`` or ``.npz`` file.

    Parameters
    ----------
    source : path or bytes
        A CSV (a header row optional: a first row that is not all numbers names the columns; ``#`` starts a
        comment), a ``.npy`` 2-D array, or an ``.npz`` archive whose data array is ``x`` (or its only array).
    label_column : str or int, optional
        The column holding labels (``-1`` = unlabeled): a header name or an index (negative from the end); for an
        ``.npz``, the name of a separate label array also works. Without it every column is a feature.
    max_bytes : int
        Larger files are refused before they are parsed.

    Returns
    -------
    x : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64, or None

    Raises
    ------
    ValueError
        One sentence naming what is wrong: size, encoding, ragged rows, a non-numeric column, NaN/inf, labels.

    Examples
    --------
    >>> x, y = load_table(b"a,b,c,label\\n1,2,3,0\\n4,5,6,-1\\n", label_column="label")
    >>> x.shape, y.tolist()
    ((2, 3), [0, -1])
    >>> load_table(b"1,2,3\\n4,5,6\\n")[0].shape  # no label column unless one is named
    (2, 3)
    """
    raw = read_capped(source, max_bytes, "data file")
    name = str(source).lower() if isinstance(source, str | Path) else ""
    if name.endswith(".npz") or (not name and raw[:4] == b"PK\x03\x04"):
        return _read_npz(raw, label_column)
    if name.endswith(".npy") or (not name and raw[:6] == b"\x93NUMPY"):
        try:
            arr = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as e:
            raise ValueError(f"the .npy file cannot be read without unpickling objects ({str(e)[:80]})") from None
        except Exception as e:  # noqa: BLE001
            raise ValueError(f"the .npy file is not a valid numpy array ({type(e).__name__})") from None
        x, y = _split_labels(_as_float(arr, "the .npy array"),
                             _label_index(label_column, None, arr.shape[1] if arr.ndim == 2 else 0), "the .npy array")
        _check_finite(x, "the .npy array")
        return x, y
    return _read_csv(raw, label_column)

