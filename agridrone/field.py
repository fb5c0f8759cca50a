"""Field input: read boundaries and no-spray zones from GeoJSON, KML or WKT (here), Shapefile,
GeoPackage, KMZ or ISOXML TASKDATA (:mod:`agridrone.field_formats`), and validate them.

A field is one or more polygons (each part of a MultiPolygon is covered); holes in
them are no-spray zones, and so is every polygon of an ``--exclude`` file. Every
problem is reported as an :class:`AgridroneError` with one line that names it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from agridrone.errors import AgridroneError
from agridrone.examples import resolve_field
from agridrone.geo import LocalFrame

MIN_AREA_M2 = 100.0
DEFAULT_MAX_AREA_HA = 2000.0
FARMLAND_MAX_ABS_LAT = 72.0  # no crops are sprayed beyond this latitude (degrees)


@dataclass(frozen=True)
class RawPolygon:
    """A polygon as read from a file: rings of [lon, lat] degrees, shell first.

    where: a human label such as ``"polygon 2"`` used in error messages.
    no_spray: True for a polygon the file itself marks as a no-spray zone (an ISOXML obstacle).
    """

    rings: list[np.ndarray]
    where: str
    no_spray: bool = False


@dataclass(frozen=True)
class Field:
    """A validated field in WGS84 degrees and in its local metric frame (metres).

    boundary: the field as planned, holes included (WGS84).
    no_spray: every no-spray zone, holes and exclusions merged (WGS84).
    sprayable_local: boundary without holes, minus no-spray zones (local metres).
    repairs: what ``--repair`` changed, one line each; warnings: other remarks.
    """

    name: str
    boundary: MultiPolygon
    no_spray: MultiPolygon
    frame: LocalFrame
    boundary_local: MultiPolygon
    no_spray_local: MultiPolygon
    outer_local: MultiPolygon
    sprayable_local: MultiPolygon
    repairs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def area_m2(self) -> float:
        """Area inside the field's outer boundary in square metres (holes included)."""
        return float(self.outer_local.area)

    @property
    def sprayable_m2(self) -> float:
        """Sprayable area in square metres: field minus every no-spray zone."""
        return float(self.sprayable_local.area)


def load_field(
    path: str | Path,
    *,
    exclude_paths: tuple[str | Path, ...] = (),
    repair: bool = False,
    max_area_ha: float = DEFAULT_MAX_AREA_HA,
    buffer_m: float = 0.0,
    buffer_edge_paths: tuple[str | Path, ...] = (),
    layer: str | None = None,
    feature_id: str | None = None,
) -> Field:
    """Read, validate and project a field boundary file plus optional no-spray files.

    path: GeoJSON, KML or WKT file in WGS84 degrees, or ``example:NAME`` for a bundled sample
    (:mod:`agridrone.examples`). exclude_paths: files whose polygons are no-spray zones (or
    samples, likewise). repair: apply shapely's make_valid to self-intersecting boundaries
    and report what changed. max_area_ha: refuse larger fields (hectares).
    buffer_m: grow every no-spray zone by this many metres, and make the field within it of
    each feature of ``buffer_edge_paths`` (GeoJSON/WKT lines, polygons, points) no-spray
    (:mod:`agridrone.buffers`; the planner passes the buffer plus half a swath). layer,
    feature_id: the layer and the feature (by id or name) of ``path`` to read where it has
    several (:func:`read_raw_polygons`).
    """
    path = resolve_field(path)
    repairs: list[str] = []
    warnings: list[str] = []
    raws = read_raw_polygons(path, layer=layer, feature_id=feature_id)
    polygons = [_validated(raw, path, repair, repairs) for raw in raws if not raw.no_spray]
    boundary = as_multipolygon(shapely.union_all([p for part in polygons for p in part]))

    exclusions: list[Polygon] = []
    marked = [(path, raw) for raw in raws if raw.no_spray]
    for exclude_path in exclude_paths:
        exclude_path = resolve_field(exclude_path)
        marked += [(exclude_path, raw) for raw in read_raw_polygons(exclude_path)]
    for exclude_path, raw in marked:
        for zone in _validated(raw, exclude_path, repair, repairs):
            if not zone.intersects(boundary):
                warnings.append(
                    f"no-spray zone {raw.where} of {exclude_path.name} lies outside the field; ignored"
                )
                continue
            exclusions.append(zone)

    holes = [Polygon(ring) for poly in boundary.geoms for ring in poly.interiors]
    no_spray = as_multipolygon(shapely.union_all(holes + exclusions))
    frame = LocalFrame.centred_on(boundary)
    boundary_local = as_multipolygon(frame.geometry_to_local(boundary))
    no_spray_local = as_multipolygon(frame.geometry_to_local(no_spray))
    outer_local = as_multipolygon(
        shapely.union_all([Polygon(p.exterior) for p in boundary_local.geoms])
    )
    if buffer_m > 0:
        no_spray_local, no_spray = _buffered(frame, no_spray_local, outer_local, buffer_m,
                                             buffer_edge_paths, warnings)
    sprayable_local = as_multipolygon(outer_local.difference(no_spray_local))

    area_m2 = float(boundary_local.area)
    if area_m2 < MIN_AREA_M2:
        raise AgridroneError(
            f"{path.name}: field area {area_m2:.0f} m² is under the {MIN_AREA_M2:.0f} m² minimum"
        )
    if area_m2 / 1e4 > max_area_ha:
        raise AgridroneError(
            f"{path.name}: field area {area_m2 / 1e4:,.1f} ha is over the limit of "
            f"{max_area_ha:,.0f} ha (raise it with --max-area)"
        )
    if sprayable_local.area < MIN_AREA_M2:
        raise AgridroneError(
            f"{path.name}: the no-spray zones leave {sprayable_local.area:.0f} m² to spray, "
            f"under the {MIN_AREA_M2:.0f} m² minimum"
        )
    return Field(
        name=path.stem,
        boundary=boundary,
        no_spray=no_spray,
        frame=frame,
        boundary_local=boundary_local,
        no_spray_local=no_spray_local,
        outer_local=outer_local,
        sprayable_local=sprayable_local,
        repairs=repairs,
        warnings=warnings,
    )


def _buffered(frame: LocalFrame, no_spray_local: MultiPolygon, outer_local: MultiPolygon,
              buffer_m: float, edge_paths: tuple[str | Path, ...], warnings: list[str]
              ) -> tuple[MultiPolygon, MultiPolygon]:
    """No-spray zones grown by the buffer (local metres and WGS84); warns about edge
    features too far from the field to matter."""
    from agridrone.buffers import buffered_no_spray, read_features

    named = [(Path(p).name, g) for p in edge_paths for g in read_features(Path(p))]
    local, unused = buffered_no_spray(no_spray_local, outer_local, buffer_m,
                                      [frame.geometry_to_local(g) for _, g in named])
    for index in unused:
        warnings.append(f"buffer edge feature {index + 1} of {named[index][0]} is more than "
                        f"{buffer_m:g} m from the field; ignored")
    local = as_multipolygon(local)
    return local, as_multipolygon(frame.geometry_to_wgs84(local))


def read_raw_polygons(path: Path, *, layer: str | None = None,
                      feature_id: str | None = None) -> list[RawPolygon]:
    """Every polygon of a field file, as rings of [lon, lat] degrees.

    The format is taken from the extension: .shp, .zip (a Shapefile's or ISOXML's), .gpkg,
    .kmz and .xml (ISOXML TASKDATA) go to :mod:`agridrone.field_formats`; otherwise
    .geojson/.json, .kml, .wkt or, failing that, the first character of the file. A GeoJSON
    that declares a ``crs`` is reprojected. layer: the layer of a GeoPackage or zip of
    Shapefiles; feature_id: the one feature to read, by its id or its name (GeoJSON ``id`` or
    ``name`` property, KML Placemark id or name, Shapefile/GeoPackage FID or name field,
    ISOXML partfield ID or designator).
    """
    from agridrone import field_formats  # light: its readers are imported per format

    if path.suffix.lower() in field_formats.SUFFIXES:
        return field_formats.read_polygons(path, layer, feature_id)
    if layer is not None:
        raise AgridroneError(f"{path}: a {path.suffix or 'plain'} file has no layers; drop --layer")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AgridroneError(f"cannot read {path}: {reason}") from None
    suffix = path.suffix.lower()
    head = text.lstrip()[:1]
    if suffix in (".geojson", ".json") or (suffix not in (".kml", ".wkt") and head in "{["):
        found, others = _geojson_polygons(text, path, feature_id)
    elif suffix == ".kml" or (suffix != ".wkt" and head == "<"):
        found, others = kml_polygons(text, path, feature_id)
    else:
        if feature_id is not None:
            raise AgridroneError(f"{path}: WKT has no feature ids; drop --id")
        found, others = _wkt_polygons(text, path)
    if not found:
        seen = f" (found {', '.join(sorted(set(others)))})" if others else ""
        raise AgridroneError(f"{path}: no polygon in the file{seen}")
    return found


def _geojson_polygons(text: str, path: Path,
                      feature_id: str | None = None) -> tuple[list[RawPolygon], list[str]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AgridroneError(
            f"{path}: not valid GeoJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    found: list[RawPolygon] = []
    others: list[str] = []
    labels: list[str] = []

    def walk(obj: object) -> None:
        if not isinstance(obj, dict):
            return
        kind = obj.get("type")
        if kind == "FeatureCollection":
            for feature in obj.get("features") or []:
                walk(feature)
        elif kind == "Feature":
            if feature_id is not None:
                from agridrone.field_formats.select import feature_label, feature_matches

                properties = obj.get("properties") or {}
                labels.append(feature_label(obj.get("id", len(labels) + 1), properties))
                if not feature_matches(feature_id, obj.get("id"), properties):
                    return
            walk(obj.get("geometry"))
        elif kind == "GeometryCollection":
            for geometry in obj.get("geometries") or []:
                walk(geometry)
        elif kind == "Polygon":
            found.append(_raw_polygon(obj.get("coordinates"), f"polygon {len(found) + 1}", path))
        elif kind == "MultiPolygon":
            for coords in obj.get("coordinates") or []:
                found.append(_raw_polygon(coords, f"polygon {len(found) + 1}", path))
        elif isinstance(kind, str):
            others.append(kind)

    walk(document)
    if feature_id is not None and not found and labels:
        from agridrone.field_formats.select import not_found

        raise not_found(path, feature_id, labels)
    crs = document.get("crs") if isinstance(document, dict) else None
    if isinstance(crs, dict) and found:
        from agridrone.field_formats.crs import to_wgs84

        properties = crs.get("properties") or {}
        name = properties.get("name") or (f"EPSG:{properties['code']}" if "code" in properties else crs)
        rings = to_wgs84([raw.rings for raw in found], name, path)
        found = [RawPolygon(r, raw.where) for r, raw in zip(rings, found, strict=True)]
    return found, others


def _raw_polygon(coords: object, where: str, path: Path) -> RawPolygon:
    try:
        rings = [np.asarray(ring, dtype=np.float64)[:, :2] for ring in coords]  # type: ignore[union-attr]
    except (TypeError, ValueError, IndexError):
        raise AgridroneError(f"{path}: {where} has malformed coordinates") from None
    if not rings:
        raise AgridroneError(f"{path}: {where} has no rings")
    return RawPolygon(rings, where)


def kml_polygons(text: str, path: Path,
                 feature_id: str | None = None) -> tuple[list[RawPolygon], list[str]]:
    """Polygons of a KML document (and the other geometry types seen); ``feature_id`` keeps
    only the Placemark of that id or name."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise AgridroneError(f"{path}: not valid KML: {exc}") from None
    found: list[RawPolygon] = []
    others: list[str] = []
    elements = list(root.iter())
    if feature_id is not None:
        from agridrone.field_formats.select import not_found

        placemarks = [e for e in elements if _local_tag(e) == "Placemark"]
        names = {id(p): next((c.text or "" for c in p if _local_tag(c) == "name"), "") for p in placemarks}
        chosen = [p for p in placemarks if feature_id in (p.get("id"), names[id(p)].strip())]
        if not chosen:
            raise not_found(path, feature_id, [repr(names[id(p)].strip()) for p in placemarks])
        elements = [e for p in chosen for e in p.iter()]
    for element in elements:
        tag = _local_tag(element)
        if tag in ("Point", "LineString"):
            others.append(tag)
        if tag != "Polygon":
            continue
        where = f"polygon {len(found) + 1}"
        rings: list[np.ndarray] = []
        for boundary_tag in ("outerBoundaryIs", "innerBoundaryIs"):
            for boundary in (c for c in element if _local_tag(c) == boundary_tag):
                for coordinates in boundary.iter():
                    if _local_tag(coordinates) == "coordinates":
                        rings.append(_kml_coordinates(coordinates.text or "", where, path))
        if not rings:
            raise AgridroneError(f"{path}: {where} has no outerBoundaryIs coordinates")
        found.append(RawPolygon(rings, where))
    return found, others


def _local_tag(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _kml_coordinates(text: str, where: str, path: Path) -> np.ndarray:
    try:
        points = [[float(v) for v in token.split(",")[:2]] for token in text.split()]
        return np.asarray(points, dtype=np.float64).reshape(-1, 2)
    except ValueError:
        raise AgridroneError(f"{path}: {where} has malformed coordinates") from None


def _wkt_polygons(text: str, path: Path) -> tuple[list[RawPolygon], list[str]]:
    try:
        geometry = shapely.from_wkt(text.strip())
    except shapely.errors.GEOSException as exc:
        message = str(exc)
        if "closed" in message:
            raise AgridroneError(f"{path}: unclosed ring: {message}") from None
        raise AgridroneError(f"{path}: not valid WKT: {message}") from None
    found: list[RawPolygon] = []
    others: list[str] = []
    for part in shapely.get_parts(geometry):
        for poly in shapely.get_parts(part) if part.geom_type == "MultiPolygon" else [part]:
            if poly.geom_type != "Polygon":
                others.append(poly.geom_type)
                continue
            rings = [np.asarray(poly.exterior.coords)[:, :2]]
            rings += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
            found.append(RawPolygon(rings, f"polygon {len(found) + 1}"))
    return found, others


def _validated(raw: RawPolygon, path: Path, repair: bool, repairs: list[str]) -> list[Polygon]:
    """Check one raw polygon and return it as valid shapely polygons (more than one only
    when --repair split a self-intersecting boundary)."""
    for index, ring in enumerate(raw.rings):
        label = "outer ring" if index == 0 else f"hole {index}"
        if ring.ndim != 2 or len(ring) < 4:
            raise AgridroneError(
                f"{path}: {raw.where}, {label} has {len(ring)} positions; a ring needs at least 4"
            )
        if not np.all(np.isfinite(ring)):
            raise AgridroneError(f"{path}: {raw.where}, {label} has a coordinate that is not a number")
        if not np.array_equal(ring[0], ring[-1]):
            raise AgridroneError(
                f"{path}: unclosed ring: {raw.where}, {label} starts at {_fmt(ring[0])} "
                f"and ends at {_fmt(ring[-1])}"
            )
        _check_ranges(ring, f"{raw.where}, {label}", path)

    polygon = Polygon(raw.rings[0], raw.rings[1:])
    if polygon.is_valid:
        return [polygon]
    reason = shapely.is_valid_reason(polygon)
    kind, _, location = reason.partition("[")
    where_text = _location_text(location)
    if kind.startswith("Hole lies outside shell"):
        raise AgridroneError(f"{path}: {raw.where}: hole outside its shell{where_text}")
    if kind.startswith("Holes are nested") or kind.startswith("Interior is disconnected"):
        raise AgridroneError(f"{path}: {raw.where}: {kind.lower()}{where_text}")
    if not repair:
        problem = "self-intersection" if "intersection" in kind.lower() else kind.lower()
        raise AgridroneError(
            f"{path}: {raw.where}: {problem}{where_text}; fix the boundary or pass --repair"
        )
    fixed = list(as_multipolygon(shapely.make_valid(polygon)).geoms)
    if not fixed:
        raise AgridroneError(f"{path}: {raw.where}: {kind.lower()}{where_text}; --repair left no area")
    frame = LocalFrame.centred_on(polygon)
    before = frame.geometry_to_local(Polygon(raw.rings[0])).area
    after = sum(frame.geometry_to_local(p).area for p in fixed)
    repairs.append(
        f"{path.name}: {raw.where}: repaired {kind.lower()}{where_text}: "
        f"{len(fixed)} part(s), outer area {before / 1e4:.4f} ha -> {after / 1e4:.4f} ha"
    )
    return fixed


def _check_ranges(ring: np.ndarray, where: str, path: Path) -> None:
    lon, lat = ring[:, 0], ring[:, 1]
    lon_ok = bool(np.all(np.abs(lon) <= 180))
    lat_ok = bool(np.all(np.abs(lat) <= 90))
    swapped_plausible = bool(np.all(np.abs(lon) <= FARMLAND_MAX_ABS_LAT)) and bool(
        np.all(np.abs(lat) <= 180)
    )
    if lon_ok and lat_ok and bool(np.all(np.abs(lat) <= FARMLAND_MAX_ABS_LAT)):
        return
    bad = ring[np.argmax(np.abs(lat))] if lon_ok else ring[np.argmax(np.abs(lon))]
    if swapped_plausible:
        raise AgridroneError(
            f"{path}: {where}: coordinates probably have latitude and longitude swapped "
            f"(position {_fmt(bad)} read as [longitude, latitude]); GeoJSON, KML and WKT "
            "order is longitude first"
        )
    raise AgridroneError(
        f"{path}: {where}: coordinate {_fmt(bad)} is out of range "
        "(longitude -180..180, latitude -90..90)"
    )


def _location_text(location: str) -> str:
    values = location.rstrip("]").split()
    if len(values) < 2:
        return ""
    return f" at lon {float(values[0]):.7f}, lat {float(values[1]):.7f}"


def _fmt(position: np.ndarray) -> str:
    return f"[{position[0]:.7f}, {position[1]:.7f}]"


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    """Polygonal parts of a geometry as a MultiPolygon, normalised for deterministic output."""
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon" and not part.is_empty:
            polygons.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            polygons.extend(as_multipolygon(part).geoms)
    return MultiPolygon(polygons)


def geojson_geometry(geometry: MultiPolygon, decimals: int = 8) -> dict:
    """A MultiPolygon as a GeoJSON geometry dict with coordinates rounded to ``decimals``
    (8 decimal places of a degree ≈ 1 mm)."""
    data = mapping(geometry)
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [[[round(x, decimals), round(y, decimals)] for x, y, *_ in ring] for ring in poly]
            for poly in data["coordinates"]
        ],
    }


def read_points(path: str | Path) -> np.ndarray:
    """Every point of a GeoJSON, KML or WKT file as an (n, 2) array of [lon, lat] degrees
    (candidate stations, for example), checked for range."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AgridroneError(f"cannot read {path}: {reason}") from None
    head = text.lstrip()[:1]
    points: list[list[float]] = []
    try:
        if path.suffix.lower() in (".geojson", ".json") or head in "{[":
            geometry = shapely.from_geojson(text)
        elif path.suffix.lower() == ".kml" or head == "<":
            root = ET.fromstring(text)
            geometry = shapely.multipoints([
                _kml_coordinates(c.text or "", "point", path)[0]
                for point in root.iter() if _local_tag(point) == "Point"
                for c in point.iter() if _local_tag(c) == "coordinates"
            ])
        else:
            geometry = shapely.from_wkt(text.strip())
    except (shapely.errors.GEOSException, ET.ParseError, ValueError) as exc:
        raise AgridroneError(f"{path}: not a readable point file: {exc}") from None
    for part in shapely.get_parts(geometry):
        for sub in shapely.get_parts(part):
            if sub.geom_type == "Point":
                points.append([sub.x, sub.y])
    if not points:
        raise AgridroneError(f"{path}: no point in the file")
    array = np.asarray(points, dtype=np.float64)
    _check_ranges(array, "points", path)
    return array
