"""The sample fields shipped with agridrone (package data), so a fresh install can plan at once:
``agridrone plan example:lahore_rect_2ha -o out``."""

from __future__ import annotations

from pathlib import Path

from agridrone.errors import AgridroneError

FIELD_DIR = Path(__file__).resolve().parent / "data" / "fields"
PREFIX = "example:"


def example_names() -> list[str]:
    """Names (file stems) of the bundled sample fields, sorted."""
    return sorted(p.stem for p in FIELD_DIR.glob("*.geojson"))


def example_path(name: str) -> Path:
    """The file of sample field ``name``; AgridroneError listing the samples when unknown."""
    path = FIELD_DIR / f"{name}.geojson"
    if not path.is_file():
        raise AgridroneError(f"no sample field {name!r}; samples: {', '.join(example_names())}")
    return path


def resolve_field(text: str | Path) -> Path:
    """``example:NAME`` -> the bundled sample's path; any other text is a path as given."""
    text = str(text)
    return example_path(text[len(PREFIX):]) if text.startswith(PREFIX) else Path(text)
