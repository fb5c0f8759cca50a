"""GeoTIFF of one float32 band on a plan's local transverse Mercator frame.

The TIFF itself (strips, deflate compression, the image file directory) is written by
tifffile, a well-kept TIFF library that loads in about 0.1 s; this module supplies the
georeferencing GDAL itself writes for such a raster (the same GeoKeys and parameters: a
user-defined transverse Mercator on the WGS 84 ellipsoid, pixel-is-area; nodata and band
metadata in GDAL's own tags). GDAL, rasterio and QGIS read it as they read GDAL's file:
`tests/test_geotiff.py` reads it back with rasterio and compares it with what rasterio
writes. rasterio (GDAL) itself took 0.5-3 s to load in a plan process to write one file.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import numpy as np

STRIP_BYTES = 1 << 18  # uncompressed bytes per strip (about; at least one row)
# deflate level 3: the 111 ha dose raster (31 MB of float32) in 52 ms instead of 128 ms at
# zlib's default 6, 572 kB instead of 418 kB
ZLIB_LEVEL = 3
# TIFF field types
SHORT, DOUBLE, ASCII = 3, 12, 2
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
    import tifffile  # only where a GeoTIFF is written

    rows, columns = band.shape
    directory, doubles = _geokeys(float(lat_0), float(lon_0))
    items = "".join(f'  <Item name="{escape(k)}" sample="0">{escape(v)}</Item>\n'
                    for k, v in band_tags.items())
    georeference = [  # (tag, type, count, value, write once)
        (33550, DOUBLE, 3, (float(cell_m), float(cell_m), 0.0), True),
        (33922, DOUBLE, 6, (0.0, 0.0, 0.0, float(left_m), float(top_m), 0.0), True),
        (34735, SHORT, len(directory), tuple(directory), True),
        (34736, DOUBLE, len(doubles), tuple(doubles), True),
        (34737, ASCII, 0, GEO_ASCII, True),
        (42112, ASCII, 0, f"<GDALMetadata>\n{items}</GDALMetadata>\n", True),
        (42113, ASCII, 0, repr(float(nodata)).removesuffix(".0"), True),
    ]
    out = io.BytesIO()
    tifffile.imwrite(out, np.asarray(band, dtype="<f4"), byteorder="<", photometric="minisblack",
                     compression="zlib", compressionargs={"level": ZLIB_LEVEL},
                     rowsperstrip=max(1, STRIP_BYTES // (4 * columns)),
                     metadata=None, software=False, extratags=georeference)
    return out.getvalue()
