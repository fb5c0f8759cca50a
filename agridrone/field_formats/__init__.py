"""Field files that need a library to read: Shapefile (.shp or a .zip of one), GeoPackage,
KMZ and ISO 11783-10 TASKDATA (.xml or a .zip). One module per format; each is imported
only when a file of its kind is read, so ``agridrone plan`` on GeoJSON starts as fast as
before. :func:`agridrone.field.read_raw_polygons` is the one entry point and calls
:func:`read_polygons` here for these suffixes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from agridrone.errors import AgridroneError

SUFFIXES = (".shp", ".zip", ".gpkg", ".kmz", ".xml")


def read_polygons(path: Path, layer: str | None, feature_id: str | None) -> list:
    """Every polygon of the field file ``path`` (one of :data:`SUFFIXES`), as
    :class:`agridrone.field.RawPolygon` in WGS84 degrees. layer: the layer to read where the
    file has several (GeoPackage, a zip of several Shapefiles); feature_id: the one feature
    (or ISOXML partfield) to read, by id or name."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise AgridroneError(f"cannot read {path}: no such file")
    if suffix == ".xml":
        from agridrone.field_formats.isoxml_field import read_taskdata

        return read_taskdata(path, layer, feature_id)
    if suffix == ".kmz":
        from agridrone.field_formats.kmz import read_kmz

        return read_kmz(path, layer, feature_id)
    if suffix == ".zip":
        return _read_zip(path, layer, feature_id)
    from agridrone.field_formats.ogr import read_ogr

    return read_ogr(path, layer, feature_id)


def _read_zip(path: Path, layer: str | None, feature_id: str | None) -> list:
    """A zip holds either an ISOXML TASKDATA.XML or one or more Shapefiles."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise AgridroneError(f"{path}: not a readable zip file: {exc}") from None
    if any(Path(name).name.upper() == "TASKDATA.XML" for name in names):
        from agridrone.field_formats.isoxml_field import read_taskdata

        return read_taskdata(path, layer, feature_id)
    if any(name.lower().endswith(".shp") for name in names):
        from agridrone.field_formats.ogr import read_shapefile_zip

        return read_shapefile_zip(path, names, layer, feature_id)
    raise AgridroneError(
        f"{path}: the zip holds neither a Shapefile (.shp with .shx and .dbf) nor an ISOXML "
        "TASKDATA.XML"
    )
