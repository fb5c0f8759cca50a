"""Atomic file input and output: a file, or every file of a run, appears complete or not at all;
reading a text file fails with one clear error."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from agridrone.errors import AgridroneError


def _user_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file: 0o666 less the process's
    umask (0o644 under the usual umask 022). ``tempfile`` creates 0o600 files and 0o700
    folders, which would hide a plan from the user's group or a web server."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_files_atomically(outdir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` (name -> content; a name may hold folders, ``a/b.json``) into ``outdir``.

    They are first written to a temporary folder beside ``outdir`` and only then renamed
    into place, so a failure part-way leaves no half-written or partial output.
    Returns the final paths.
    """
    outdir = Path(outdir)
    parent = outdir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.tmp-", dir=parent))
    except OSError as exc:
        raise AgridroneError(f"cannot write to {parent}: {exc.strerror}") from None
    try:
        for name, content in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)  # names may hold folders
            (staging / name).write_bytes(content)
        outdir.mkdir(parents=True, exist_ok=True)
        final = []
        for name in files:
            (outdir / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, outdir / name)
            final.append(outdir / name)
        return final
    except OSError as exc:
        raise AgridroneError(f"cannot write the outputs to {outdir}: {exc.strerror}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_stale(outdir: Path, patterns: tuple[str, ...], keep: set[str]) -> list[Path]:
    """Delete files of ``outdir`` matching ``patterns`` whose names are not in ``keep``:
    mission files of an earlier plan that this one no longer has (fewer sorties). Returns
    the paths removed."""
    removed = []
    for pattern in patterns:
        for path in sorted(Path(outdir).glob(pattern)):
            if path.name not in keep:
                path.unlink()
                removed.append(path)
    return removed


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
            os.fchmod(handle.fileno(), _user_file_mode())
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
