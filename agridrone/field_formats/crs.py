"""Coordinates a file declares in another reference system, brought to WGS84 with pyproj."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agridrone.errors import AgridroneError

WGS84_NAMES = ("EPSG:4326", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326")


def to_wgs84(rings: list[list[np.ndarray]], crs: object, path: Path) -> list[list[np.ndarray]]:
    """Polygons (lists of (n, 2) rings in the file's ``crs``: an EPSG code, a URN, WKT or
    PROJ text) as [lon, lat] degrees. ``None`` or a geographic WGS84 ``crs`` leaves them as
    they are; a ``crs`` pyproj cannot read is an AgridroneError naming the file."""
    if crs is None or (isinstance(crs, str) and crs.strip() in WGS84_NAMES):
        return rings
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise AgridroneError(f"{path}: cannot read its coordinate reference system {str(crs)[:80]!r}: "
                             f"{str(exc).splitlines()[0]}") from None
    wgs84 = CRS.from_epsg(4326)
    if source.is_geographic and source.equals(wgs84, ignore_axis_order=True):
        return rings
    transformer = Transformer.from_crs(source, wgs84, always_xy=True)
    out = []
    for polygon in rings:
        converted = []
        for ring in polygon:
            lon, lat = transformer.transform(ring[:, 0], ring[:, 1])
            converted.append(np.column_stack([lon, lat]).astype(np.float64))
        out.append(converted)
    return out
