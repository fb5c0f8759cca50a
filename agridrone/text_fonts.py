"""Fonts for text in pictures: field names in any script (Urdu, Chinese, Hindi, ...) drawn with
an installed font that has their glyphs, and never a matplotlib "Glyph missing" warning.

matplotlib falls back glyph by glyph along a list of families and shapes right-to-left and
joined scripts itself (libraqm), so a title needs only the right list: DejaVu Sans first (the
pictures' usual look) and then whichever of :data:`FALLBACK_FAMILIES` are installed (Debian
packages ``fonts-noto-core`` and ``fonts-wqy-microhei`` cover Arabic-script Urdu, the Indic
scripts and Chinese). A character no installed font has is drawn as ``?``.
"""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=1)
def _installed() -> tuple[tuple[str, frozenset[int]], ...]:
    """(family, code points it has) of the base family and every installed fallback, in
    fallback order. Families matplotlib does not know are left out (asking for them would
    print a findfont warning). matplotlib is imported here, not with the module, so that
    :func:`isolate` alone (the titles of a plan) never loads it."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    paths: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.style == "normal" and entry.weight in (400, "normal", "regular"):
            paths.setdefault(entry.name, entry.fname)
    found = []
    for family in (BASE_FAMILY, *FALLBACK_FAMILIES):
        if family in paths:
            try:
                found.append((family, frozenset(FT2Font(paths[family]).get_charmap())))
            except (OSError, RuntimeError):  # an unreadable font file is as good as none
                continue
    return tuple(found)


def font_families(text: str | None = None) -> list[str]:
    """The families to draw text with, in fallback order (pass as ``fontfamily=``); for a
    ``text`` the base family has every character of, the base family alone (matplotlib then
    looks up one font, not 13: some 0.05-0.09 s of every first picture)."""
    installed = _installed()
    if text is not None and installed and installed[0][0] == BASE_FAMILY and all(
            ch.isspace() or not ch.isprintable() or ord(ch) in installed[0][1] for ch in text):
        return [BASE_FAMILY]
    return [family for family, _ in installed] or [BASE_FAMILY]


def isolate(name: str) -> str:
    """``name`` between Unicode's first-strong isolate marks (U+2068 ... U+2069), so that a
    right-to-left name (Urdu) in an English title keeps the title left to right:
    ``ساہیوال: 2.00 ha`` and not ``2.00 ha :ساہیوال``."""
    return f"\u2068{name}\u2069"


def drawable(text: str) -> str:
    """``text`` with every character no installed family has (besides spaces and control
    characters) replaced by ``?``, so drawing it raises no glyph warning."""
    covered: set[int] = set()
    for _, charmap in _installed():
        covered |= charmap
    if not covered:
        return text
    return "".join(ch if ch.isspace() or ord(ch) in covered or not ch.isprintable() else MISSING
                   for ch in text)
