"""Atomic output: every file of a run appears complete, or none does."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from agridrone.errors import AgridroneError


def write_files_atomically(outdir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` (name -> content) into ``outdir``.

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
            (staging / name).write_bytes(content)
        outdir.mkdir(parents=True, exist_ok=True)
        final = []
        for name in files:
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
