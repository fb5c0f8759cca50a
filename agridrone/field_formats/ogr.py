"""Shapefiles and GeoPackages, read with pyogrio (GDAL): layers, features and the CRS the
file declares (reprojected to WGS84 with pyproj)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
import shapely

from agridrone.errors import AgridroneError
from agridrone.field import RawPolygon
from agridrone.field_formats.crs import to_wgs84
from agridrone.field_formats.select import feature_label, feature_matches, not_found, pick_layer

SHAPEFILE_SIBLINGS = (".shx", ".dbf")


def read_ogr(path: Path, layer: str | None, feature_id: str | None) -> list[RawPolygon]:
    """Polygons of a Shapefile (.shp beside its .shx and .dbf) or a GeoPackage."""
    if path.suffix.lower() == ".shp":
        present = {p.suffix.lower() for p in path.parent.glob(f"{_glob_escape(path.stem)}.*")}
        missing = [s for s in SHAPEFILE_SIBLINGS if s not in present]
        if missing:
            raise AgridroneError(
                f"{path}: a Shapefile needs its {' and '.join(path.stem + s for s in missing)} "
                "beside it (copy every file of the same name, or zip them together)"
            )
    return _read_dataset(path, str(path), layer, feature_id)


def read_shapefile_zip(path: Path, names: list[str], layer: str | None,
                       feature_id: str | None) -> list[RawPolygon]:
    """Polygons of a zip of Shapefiles; each .shp in it is a layer named by its stem."""
    members = {str(PurePosixPath(n).with_suffix("")): n for n in names if n.lower().endswith(".shp")}
    by_layer = {PurePosixPath(stem).name: stem for stem in sorted(members)}
    chosen = pick_layer(path, layer, [(name, "POLYGON") for name in by_layer])
    stem = by_layer[chosen]
    present = {n.lower() for n in names}
    missing = [stem + s for s in SHAPEFILE_SIBLINGS if (stem + s).lower() not in present]
    if missing:
        raise AgridroneError(f"{path}: {members[stem]} comes without {' and '.join(missing)} in the zip")
    return _read_dataset(path, f"/vsizip/{path.resolve()}/{members[stem]}", None, feature_id)


def _read_dataset(path: Path, source: str, layer: str | None,
                  feature_id: str | None) -> list[RawPolygon]:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        layers = [(str(name), str(kind)) for name, kind in pyogrio.list_layers(source)]
        chosen = pick_layer(path, layer, layers)
        meta, fids, wkb, values = pyogrio.raw.read(source, layer=chosen, return_fids=True,
                                                   force_2d=True)
    except (DataSourceError, DataLayerError) as exc:
        reason = str(exc).splitlines()[0].split("; It might help")[0].replace(f"'{source}' ", "")
        raise AgridroneError(f"{path}: not readable by GDAL: {reason}") from None
    columns = [str(name) for name in meta["fields"]]
    features = []
    for index, fid in enumerate(fids):
        properties = {name: column[index] for name, column in zip(columns, values, strict=True)}
        features.append((int(fid), properties, wkb[index]))
    if feature_id is not None:
        chosen_features = [f for f in features if feature_matches(feature_id, f[0], f[1])]
        if not chosen_features:
            raise not_found(path, feature_id, [feature_label(f[0], f[1]) for f in features])
        features = chosen_features
    polygons, labels, others = [], [], []
    for fid, properties, blob in features:
        geometry = shapely.from_wkb(blob) if blob is not None else None
        if geometry is None or geometry.is_empty:
            continue
        parts = list(shapely.get_parts(geometry))
        others += [part.geom_type for part in parts if part.geom_type != "Polygon"]
        polygon_parts = [part for part in parts if part.geom_type == "Polygon"]
        for number, part in enumerate(polygon_parts, start=1):
            rings = [np.asarray(part.exterior.coords, dtype=np.float64)[:, :2]]
            rings += [np.asarray(r.coords, dtype=np.float64)[:, :2] for r in part.interiors]
            polygons.append(rings)
            suffix = f" part {number}" if len(polygon_parts) > 1 else ""
            labels.append(f"feature {feature_label(fid, properties)}{suffix}")
    if not polygons:
        seen = f" (found {', '.join(sorted(set(others)))})" if others else ""
        raise AgridroneError(f"{path}: no polygon in layer {chosen!r}{seen}")
    polygons = to_wgs84(polygons, meta.get("crs"), path)
    return [RawPolygon(rings, label) for rings, label in zip(polygons, labels, strict=True)]


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
