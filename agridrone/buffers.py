"""Buffer distances: keep the spray a stated distance from no-spray zones and from chosen
features along the field's edge (a canal, a row of houses).

``--buffer M`` grows every no-spray zone (holes and ``--exclude`` zones) inside the field;
``--buffer-edge FILE`` names features (lines drawn along an edge, polygons or points beside
the field) whose surroundings become no-spray zones too. The planner then treats the grown
zones like any other. It ends a pass where its centre line meets a zone, so the spray strip
(half a swath either side of the line) can reach up to half a swath into a zone at a pass end
cut obliquely or at a rounded corner. The zones therefore grow by M plus half a swath
(:func:`zone_growth_m`): every point sprayed lies at least M metres from the zone or
feature; beside a pass running along a zone it is M plus the edge margin minus half a swath
(M with the default edge margin of half a swath).
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
import shapely.wkt
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.multipolygon import MultiPolygon

from agridrone.errors import AgridroneError


def read_features(path: Path) -> list[BaseGeometry]:
    """Every geometry (point, line or polygon) of a GeoJSON or WKT file, WGS84 [lon, lat].
    Raises AgridroneError naming the file when it cannot be read or holds none."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgridroneError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
                             ) from None
    try:
        if text.lstrip()[:1] in "{[":
            found = _geojson_geometries(json.loads(text))
        else:
            found = [shapely.wkt.loads(line) for line in text.splitlines() if line.strip()]
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise AgridroneError(f"{path}: not a GeoJSON or WKT file of features ({exc})") from None
    found = [g for g in found if not g.is_empty]
    if not found:
        raise AgridroneError(f"{path}: no feature in the file")
    for geometry in found:
        lon0, lat0, lon1, lat1 = geometry.bounds
        if not (-180 <= lon0 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90):
            raise AgridroneError(f"{path}: coordinates out of range (want lon, lat degrees)")
    return found


def _geojson_geometries(obj) -> list[BaseGeometry]:
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return [g for feature in obj["features"] for g in _geojson_geometries(feature)]
    if kind == "Feature":
        return _geojson_geometries(obj["geometry"]) if obj.get("geometry") else []
    return [shape(obj)]


def zone_growth_m(buffer_m: float, swath_m: float) -> float:
    """How far (m) to grow the no-spray zones so that no spray lands within ``buffer_m`` of
    them: the buffer plus half the ``swath_m`` spray strip (0 without a buffer)."""
    return buffer_m + swath_m / 2 if buffer_m > 0 else 0.0


def buffered_no_spray(no_spray_local: MultiPolygon, outer_local: MultiPolygon, buffer_m: float,
                      edge_features_local: list[BaseGeometry]) -> tuple[BaseGeometry,
                                                                        list[int]]:
    """The no-spray zones (local metres) grown by ``buffer_m`` metres (see
    :func:`zone_growth_m`), plus every part of the field within ``buffer_m`` of an edge
    feature; the growth is kept inside ``outer_local``. Also returns the indexes of edge
    features farther than ``buffer_m`` from the field."""
    grown = [no_spray_local.buffer(buffer_m)] if not no_spray_local.is_empty else []
    unused = []
    for index, feature in enumerate(edge_features_local):
        zone = feature.buffer(buffer_m)
        if not zone.intersects(outer_local):
            unused.append(index)
        grown.append(zone)
    added = shapely.union_all(grown).intersection(outer_local) if grown else MultiPolygon()
    return shapely.union_all([no_spray_local, added]), unused
