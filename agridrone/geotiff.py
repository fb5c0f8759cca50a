"""A GeoTIFF writer for one float32 band on a plan's local transverse Mercator frame, in
plain numpy and zlib.

It writes what GDAL itself writes for such a raster (the same GeoKeys and parameters: a
user-defined transverse Mercator on the WGS 84 ellipsoid, pixel-is-area; nodata and band
metadata in GDAL's own tags), deflate-compressed strips, little-endian; GDAL, rasterio and
QGIS read it as they read GDAL's file. It exists because loading rasterio (GDAL) to write
one small file cost a plan process about half a second; `tests/test_geotiff.py` reads the
file back with rasterio and compares it with what rasterio writes.
"""

from __future__ import annotations

import struct
import zlib
from xml.sax.saxutils import escape

import numpy as np

STRIP_BYTES = 1 << 18  # uncompressed bytes per strip (about; at least one row)
ZLIB_LEVEL = 6
# TIFF field types
SHORT, LONG, DOUBLE, ASCII = 3, 4, 12, 2
_SIZE = {SHORT: 2, LONG: 4, DOUBLE: 8, ASCII: 1}
_CODE = {SHORT: "H", LONG: "I", DOUBLE: "d"}
# GeoKey values GDAL writes for "+proj=tmerc ... +ellps=WGS84 +units=m"
GEO_ASCII = "unknown|GCS Name = unknown|Datum = Unknown based on WGS 84 ellipsoid|Primem = Greenwich||"
WGS84_INV_FLATTENING = 298.257223563
WGS84_SEMI_MAJOR_M = 6378137.0


def _geokeys(lat_0: float, lon_0: float) -> tuple[list[int], list[float]]:
    """GeoKeyDirectory (SHORT values) and GeoDoubleParams of the frame's projection."""
    doubles = [lat_0, lon_0, 1.0, 0.0, 0.0, WGS84_INV_FLATTENING, WGS84_SEMI_MAJOR_M, 0.0]
    keys = [  # (key, location tag (0: value inline), count, value or index)
        (1024, 0, 1, 1),          # GTModelType: projected
        (1025, 0, 1, 1),          # GTRasterType: pixel is area
        (1026, 34737, 8, 0),      # GTCitation "unknown|"
        (2048, 0, 1, 32767),      # GeographicType: user-defined
        (2049, 34737, 81, 8),     # GeogCitation
        (2050, 0, 1, 32767),      # GeogGeodeticDatum: user-defined
        (2054, 0, 1, 9102),       # GeogAngularUnits: degree
        (2056, 0, 1, 7030),       # GeogEllipsoid: WGS 84
        (2057, 34736, 1, 6),      # GeogSemiMajorAxis
        (2059, 34736, 1, 5),      # GeogInvFlattening
        (2061, 34736, 1, 7),      # GeogPrimeMeridianLong
        (3072, 0, 1, 32767),      # ProjectedCSType: user-defined
        (3074, 0, 1, 32767),      # Projection: user-defined
        (3075, 0, 1, 1),          # ProjCoordTrans: transverse Mercator
        (3076, 0, 1, 9001),       # ProjLinearUnits: metre
        (3080, 34736, 1, 1),      # ProjNatOriginLong
        (3081, 34736, 1, 0),      # ProjNatOriginLat
        (3082, 34736, 1, 3),      # ProjFalseEasting
        (3083, 34736, 1, 4),      # ProjFalseNorthing
        (3092, 34736, 1, 2),      # ProjScaleAtNatOrigin
    ]
    directory = [1, 1, 0, len(keys)]
    for key in keys:
        directory.extend(key)
    return directory, doubles


def tmerc_geotiff(band: np.ndarray, lat_0: float, lon_0: float, left_m: float, top_m: float,
                  cell_m: float, nodata: float, band_tags: dict[str, str]) -> bytes:
    """GeoTIFF bytes of ``band`` ((rows, columns), row 0 northernmost; stored as float32)
    on the transverse Mercator centred at (``lat_0``, ``lon_0``) degrees (scale 1, no false
    easting or northing, WGS 84 ellipsoid), its north-west corner at (``left_m``,
    ``top_m``) metres, square pixels of ``cell_m`` metres; ``nodata`` marks empty pixels;
    ``band_tags`` become the band's metadata (e.g. {"units": "L/ha"})."""
    rows, columns = band.shape
    per_strip = max(1, STRIP_BYTES // (4 * columns))
    strips = [zlib.compress(np.ascontiguousarray(band[r:r + per_strip], dtype="<f4").tobytes(),
                            ZLIB_LEVEL)
              for r in range(0, rows, per_strip)]  # strip by strip: no copy of the band
    directory, doubles = _geokeys(float(lat_0), float(lon_0))
    items = "".join(f'  <Item name="{escape(k)}" sample="0">{escape(v)}</Item>\n'
                    for k, v in band_tags.items())
    offsets_placeholder = [0] * len(strips)
    tags: list[tuple[int, int, list]] = [
        (256, LONG, [columns]), (257, LONG, [rows]), (258, SHORT, [32]), (259, SHORT, [8]),
        (262, SHORT, [1]), (273, LONG, offsets_placeholder), (277, SHORT, [1]),
        (278, LONG, [per_strip]), (279, LONG, [len(s) for s in strips]), (284, SHORT, [1]),
        (317, SHORT, [1]), (339, SHORT, [3]),
        (33550, DOUBLE, [float(cell_m), float(cell_m), 0.0]),
        (33922, DOUBLE, [0.0, 0.0, 0.0, float(left_m), float(top_m), 0.0]),
        (34735, SHORT, directory), (34736, DOUBLE, doubles), (34737, ASCII, GEO_ASCII),
        (42112, ASCII, f"<GDALMetadata>\n{items}</GDALMetadata>\n"),
        (42113, ASCII, repr(float(nodata)).removesuffix(".0")),
    ]
    ifd_size = 2 + 12 * len(tags) + 4
    extra_at = 8 + ifd_size
    # lay out the values that do not fit in four bytes after the IFD, then the strips
    extra_size = 0
    for _, kind, values in tags:
        size = _value_bytes(kind, values)
        if size > 4:
            extra_size += size + (size & 1)
    strip_at = extra_at + extra_size
    position = strip_at
    for index, strip in enumerate(strips):
        offsets_placeholder[index] = position
        position += len(strip)
    header = b"II*\x00" + struct.pack("<I", 8)
    entries = [struct.pack("<H", len(tags))]
    extra = bytearray()
    for tag, kind, values in tags:
        raw = _encode(kind, values)
        count = len(raw) if kind == ASCII else len(values)
        if len(raw) <= 4:
            entries.append(struct.pack("<HHI", tag, kind, count) + raw.ljust(4, b"\x00"))
        else:
            entries.append(struct.pack("<HHII", tag, kind, count, extra_at + len(extra)))
            extra += raw + (b"\x00" if len(raw) & 1 else b"")
    entries.append(struct.pack("<I", 0))  # no next IFD
    return b"".join([header, *entries, bytes(extra), *strips])


def _encode(kind: int, values) -> bytes:
    if kind == ASCII:
        return values.encode("ascii") + b"\x00"
    return struct.pack(f"<{len(values)}{_CODE[kind]}", *values)


def _value_bytes(kind: int, values) -> int:
    return len(values) + 1 if kind == ASCII else _SIZE[kind] * len(values)
