"""Fonts for text in pictures: field names in any script (Urdu, Chinese, Hindi, ...) drawn with
an installed font that has their glyphs, and a ``?`` for a character none has.

Text is split into runs by font (:func:`font_runs`): DejaVu Sans first (the pictures' usual
look; the file inside matplotlib's data folder, found from the package's path without
importing matplotlib) and then whichever of :data:`FALLBACK_FAMILIES` fontconfig lists
(Debian packages ``fonts-noto-core`` and ``fonts-wqy-microhei`` cover Arabic-script Urdu, the
Indic scripts and Chinese); Pillow with raqm shapes each run (right-to-left, joined).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

BASE_FAMILY = "DejaVu Sans"
FALLBACK_FAMILIES = (
    "Noto Sans",
    "Noto Naskh Arabic",
    "Noto Sans Arabic",
    "Noto Nastaliq Urdu",
    "Noto Sans Devanagari",
    "Noto Sans Gurmukhi",
    "Noto Sans Bengali",
    "Noto Sans Tamil",
    "Noto Sans Telugu",
    "Noto Sans Thai",
    "Noto Sans Hebrew",
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
MISSING = "?"
BASE_SURE = "\u2013\u2014\u2026\u2212\u00b7\u2068\u2069"  # – — … − · and isolates: DejaVu Sans has them
BASE_FONT_FILE = Path(importlib.util.find_spec("matplotlib").submodule_search_locations[0]
                      ) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"


def _fontconfig_files() -> dict[str, str]:
    """family -> file of the installed regular fonts fontconfig lists (none without fc-list)."""
    if shutil.which("fc-list") is None:
        return {}
    try:
        listing = subprocess.run(["fc-list", ":style=Regular", "family", "file"], capture_output=True,
                                 text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    paths: dict[str, str] = {}
    for line in sorted(listing.splitlines()):  # sorted: the same file whatever fc-list's order
        file, _, families = line.partition(": ")
        for family in families.split(","):
            if file.endswith((".ttf", ".otf", ".ttc")):
                paths.setdefault(family.strip(), file)
    return paths


@lru_cache(maxsize=1)
def _installed() -> tuple[tuple[str, str, frozenset[int]], ...]:
    """(family, file, code points it has) of the base family and every installed fallback,
    in fallback order; the fallbacks are looked up (fc-list) only on the first call."""
    found = [(family, path, _charmap(path))
             for family, path in [(BASE_FAMILY, str(BASE_FONT_FILE)), *_fallback_files()]]
    return tuple(entry for entry in found if entry[2])


@lru_cache(maxsize=32)
def _charmap(path: str) -> frozenset[int]:
    """The code points the font file at ``path`` has glyphs for (none if unreadable)."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=0) as ttf:
            return frozenset(ttf.getBestCmap() or ())
    except Exception:  # noqa: BLE001 - an unreadable font file is as good as none
        return frozenset()


def _base_has(text: str) -> bool:
    """Whether DejaVu Sans has every printable character of ``text`` (then no fallback font
    is looked up: fc-list and the fallbacks' character maps cost some 0.1 s)."""
    if all(" " <= ch < "\u0250" or ch in BASE_SURE for ch in text):  # without reading the font
        return True
    charmap = _charmap(str(BASE_FONT_FILE))
    return all(ch.isspace() or not ch.isprintable() or ord(ch) in charmap for ch in text)


def _fallback_files() -> list[tuple[str, str]]:
    paths = _fontconfig_files()
    return [(family, paths[family]) for family in FALLBACK_FAMILIES if family in paths]


def font_runs(text: str) -> list[tuple[str, str]]:
    """``text`` split into (font file, run) in order, each character in the first installed
    family that has it (spaces and marks stay with the run they are in)."""
    installed = _installed() if not _base_has(text) else ()
    if not installed:
        return [(str(BASE_FONT_FILE), text)]
    runs: list[tuple[str, str]] = []
    for word in re.split(r"(\s+)", text):  # a word in one font keeps its letters joined
        whole = next((p for _, p, charmap in installed
                      if all(ord(ch) in charmap or not ch.isprintable() for ch in word)), None)
        for ch in word:
            path = whole or next((p for _, p, charmap in installed if ord(ch) in charmap), None)
            if path is None or ch.isspace() or not ch.isprintable():
                path = runs[-1][0] if runs else installed[0][1]
            if runs and runs[-1][0] == path:
                runs[-1] = (path, runs[-1][1] + ch)
            else:
                runs.append((path, ch))
    return runs


def font_families(text: str | None = None) -> list[str]:
    """The families to draw text with, in fallback order (pass as ``fontfamily=``); for a
    ``text`` the base family has every character of, the base family alone (matplotlib then
    looks up one font, not 13: some 0.05-0.09 s of every first picture)."""
    if text is not None and _base_has(text):
        return [BASE_FAMILY]
    return [family for family, _, _ in _installed()] or [BASE_FAMILY]


def isolate(name: str) -> str:
    """``name`` between Unicode's first-strong isolate marks (U+2068 ... U+2069), so that a
    right-to-left name (Urdu) in an English title keeps the title left to right:
    ``ساہیوال: 2.00 ha`` and not ``2.00 ha :ساہیوال``."""
    return f"\u2068{name}\u2069"


def drawable(text: str) -> str:
    """``text`` with every character no installed family has (besides spaces and control
    characters) replaced by ``?``."""
    if _base_has(text):
        return text
    covered: set[int] = set()
    for _, _, charmap in _installed():
        covered |= charmap
    if not covered:
        return text
    return "".join(ch if ch.isspace() or ord(ch) in covered or not ch.isprintable() else MISSING
                   for ch in text)
