"""Reading user files: with a size cap (CSV uploads, checkpoints: never more than ``max_bytes + 1`` bytes), and a CSV's
bytes as its lines of text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["read_capped", "csv_lines"]


def read_capped(source: Any, max_bytes: int, what: str) -> bytes:
    """The bytes of ``source`` (bytes, a path, or a binary file object), refusing more than ``max_bytes``.

    Raises:
        ValueError: a missing path, or content above the cap (the message names ``what`` and the limit).
    """
    if isinstance(source, bytes):
        raw = source
    elif isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{what} file not found: {str(path)[:200]}")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"{what} is larger than {max_bytes // 1024 // 1024} MB")
        raw = path.read_bytes()
    else:
        raw = source.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"{what} is larger than {max_bytes // 1024 // 1024} MB")
    return raw


def csv_lines(raw: bytes, what: str, binary_hint: str = "") -> list[str]:
    r"""The non-empty, non-comment (``#``) lines of a CSV's bytes, stripped; ``what`` names the file in the errors.

    Example:
        >>> csv_lines(b"# x, y\n1, 2\n\n3, 4\n", "CSV")
        ['1, 2', '3, 4']
        >>> csv_lines(b"\xff", "CSV")
        Traceback (most recent call last):
        ...
        ValueError: CSV is not valid UTF-8 text

    Raises:
        ValueError: binary content (NUL bytes; ``binary_hint`` is added to that message), text that is not UTF-8,
            or no line left.
    """
    if b"\x00" in raw:
        raise ValueError(f"{what} looks like a binary file (it contains NUL bytes){binary_hint}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{what} is not valid UTF-8 text") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{what} is empty")
    return lines
