"""Reading user files with a size cap (CSV uploads, checkpoints): never more than ``max_bytes + 1`` bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["read_capped"]


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
