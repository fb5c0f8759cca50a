"""KMZ: a zipped KML (Google Earth). Its main document (doc.kml, or the first .kml in the
archive, as Google Earth takes it) is read by the KML reader of :mod:`agridrone.field`."""

from __future__ import annotations

import zipfile
from pathlib import Path

from agridrone.errors import AgridroneError
from agridrone.field import RawPolygon, kml_polygons
from agridrone.field_formats.select import no_layers


def read_kmz(path: Path, layer: str | None, feature_id: str | None) -> list[RawPolygon]:
    """Polygons of the KMZ's main KML document; ``feature_id`` picks a Placemark by id or name."""
    no_layers(path, layer)
    try:
        with zipfile.ZipFile(path) as archive:
            kml_names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not kml_names:
                raise AgridroneError(f"{path}: the KMZ holds no .kml document")
            main = "doc.kml" if "doc.kml" in kml_names else kml_names[0]
            text = archive.read(main).decode("utf-8-sig")
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise AgridroneError(f"{path}: not a readable KMZ: {exc}") from None
    found, others = kml_polygons(text, path, feature_id)
    if not found:
        seen = f" (found {', '.join(sorted(set(others)))})" if others else ""
        raise AgridroneError(f"{path}: no polygon in {main}{seen}")
    return found
