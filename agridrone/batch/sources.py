"""The fields of a batch: one per feature of a GeoJSON FeatureCollection, one per file of
a folder, or the one field of any other file ``agridrone.field.load_field`` reads
(``example:NAME`` included)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agridrone.errors import AgridroneError
from agridrone.examples import resolve_field
from agridrone.outputs import read_text

FIELD_SUFFIXES = (".geojson", ".json", ".kml", ".wkt", ".gpkg", ".shp", ".parquet", ".geoparquet")
SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class FieldSource:
    """One field of a batch. id: its name in the summary and its folder; path: a field file
    (None for a feature); geojson: the feature as GeoJSON text (None for a file); error: why
    it cannot be planned at all (a duplicate id), else None."""

    id: str
    path: str | None = None
    geojson: str | None = None
    error: str | None = None


def safe_id(text: str) -> str:
    """``text`` as a file-name-safe id: runs of other characters become ``_``."""
    cleaned = SAFE_ID.sub("_", text).strip("._")
    return cleaned or "field"


def field_sources(path: str | Path, id_column: str | None = None) -> tuple[int, Iterator[FieldSource]]:
    """The number of fields in ``path`` and an iterator over them (input order).

    A folder: every field file in it (sorted by name; id = file stem). A GeoJSON
    FeatureCollection: every feature (id = the ``id_column`` property, else the feature's
    ``id``, else FILE-N for the N-th feature). Anything else: the one field of the file. A repeated
    id is a source with an error. AgridroneError when ``path`` does not exist or
    ``id_column`` is missing from a feature."""
    path = resolve_field(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in FIELD_SUFFIXES and p.is_file())
        return len(files), _unique(FieldSource(safe_id(p.stem), path=str(p)) for p in files)
    if not path.exists():
        raise AgridroneError(f"{path}: no such file or folder")
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            document = json.loads(read_text(path))
        except ValueError as exc:
            raise AgridroneError(f"{path.name}: not valid JSON ({exc})") from None
        if isinstance(document, dict) and document.get("type") == "FeatureCollection":
            features = document.get("features") or []
            return len(features), _unique(_features(features, id_column, path))
    return 1, iter([FieldSource(safe_id(path.stem), path=str(path))])


def _features(features: list, id_column: str | None, path: Path) -> Iterator[FieldSource]:
    name = path.name
    for index, feature in enumerate(features, start=1):
        properties = (feature or {}).get("properties") or {}
        if id_column is not None:
            if id_column not in properties:
                raise AgridroneError(f"{name}: feature {index} has no property {id_column!r} (--id)")
            raw = properties[id_column]
        else:
            raw = feature.get("id") if isinstance(feature, dict) else None
            raw = f"{path.stem}-{index}" if raw is None else raw
        text = json.dumps({"type": "Feature", "properties": {},
                           "geometry": (feature or {}).get("geometry")})
        yield FieldSource(safe_id(str(raw)), geojson=text)


def _unique(sources: Iterator[FieldSource]) -> Iterator[FieldSource]:
    seen: set[str] = set()
    for source in sources:
        if source.id in seen:
            yield FieldSource(source.id, error=f"id {source.id!r} appears more than once; "
                                                "only the first was planned")
            continue
        seen.add(source.id)
        yield source
