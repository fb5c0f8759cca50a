"""Atomic file output: a file appears complete under its name, or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from agridrone.errors import AgridroneError


def write_bytes_atomic(path: str | Path, content: bytes) -> Path:
    """Write ``content`` to a temporary file beside ``path``, then rename it into place.

    A failure leaves no half-written file; the error names the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise AgridroneError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temp_name, path)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise AgridroneError(f"cannot write {path}: {exc.strerror}") from None
    return path


def read_text(path: str | Path) -> str:
    """The UTF-8 text of a file; a missing or unreadable file is an AgridroneError."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AgridroneError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AgridroneError(f"{path}: not a UTF-8 text file") from None
