"""agridrone.geotiff (tifffile with GDAL's GeoKeys) against GDAL: rasterio reads the file as
the same raster, CRS, georeferencing, nodata and band metadata as a file rasterio (GDAL)
writes itself."""

from __future__ import annotations

import numpy as np
import pyproj
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from agridrone.geo import LocalFrame
from agridrone.geotiff import tmerc_geotiff

NODATA = -9999.0


def gdal_geotiff(band: np.ndarray, frame: LocalFrame, left: float, top: float, cell: float) -> bytes:
    """The same raster written by rasterio (GDAL), as dose.tif was before."""
    profile = {
        "driver": "GTiff", "height": band.shape[0], "width": band.shape[1], "count": 1,
        "dtype": "float32", "crs": rasterio.crs.CRS.from_wkt(pyproj.CRS(frame.proj).to_wkt()),
        "transform": from_origin(left, top, cell, cell), "nodata": NODATA, "compress": "deflate",
    }
    with MemoryFile() as memfile:
        with memfile.open(**profile) as dataset:
            dataset.write(band.astype(np.float32), 1)
            dataset.update_tags(1, units="L/ha")
        return memfile.read()


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.floats(-60, 60), st.floats(-179, 179),
       st.floats(0.05, 5.0), st.floats(-5e3, 5e3), st.integers(0, 2**32 - 1))
def test_gdal_reads_what_gdal_writes(rows, columns, lat, lon, cell, left, seed):
    rng = np.random.default_rng(seed)
    band = np.where(rng.random((rows, columns)) < 0.3, NODATA,
                    rng.uniform(0, 40, (rows, columns))).astype(np.float32)
    frame = LocalFrame(round(lon, 6), round(lat, 6))
    top = left + rows * cell
    ours = tmerc_geotiff(band, frame.lat_0, frame.lon_0, left, top, cell, NODATA, {"units": "L/ha"})
    assert ours == tmerc_geotiff(band, frame.lat_0, frame.lon_0, left, top, cell, NODATA,
                                 {"units": "L/ha"})  # same input, same bytes
    with MemoryFile(ours) as a, MemoryFile(gdal_geotiff(band, frame, left, top, cell)) as b:
        with a.open() as mine, b.open() as gdal:
            assert mine.crs.to_wkt() == gdal.crs.to_wkt()
            assert mine.transform == gdal.transform
            assert mine.nodata == gdal.nodata == NODATA
            assert mine.tags(1) == gdal.tags(1) == {"units": "L/ha"}
            # tifffile writes the baseline TIFF's X/YResolution (1 pixel per unit), GDAL
            # leaves them out; GDAL reports them as metadata, nothing else differs
            resolution = {"TIFFTAG_XRESOLUTION": "1", "TIFFTAG_YRESOLUTION": "1",
                          "TIFFTAG_RESOLUTIONUNIT": "1 (unitless)"}
            assert mine.tags() == {**gdal.tags(), **resolution}
            assert mine.dtypes == gdal.dtypes
            np.testing.assert_array_equal(mine.read(1), gdal.read(1))


def test_a_point_lands_where_the_frame_puts_it():
    """A pixel's centre, carried to WGS84 through the file's own CRS, is where the plan's
    frame puts that local point (under 1 cm)."""
    frame = LocalFrame(71.45, 30.2)
    band = np.zeros((40, 50), dtype=np.float32)
    data = tmerc_geotiff(band, frame.lat_0, frame.lon_0, -120.0, 80.0, 0.5, NODATA, {})
    with MemoryFile(data) as memfile, memfile.open() as ds:
        x, y = ds.xy(10, 20)  # row 10, column 20: centre
        lon, lat = pyproj.Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True).transform(x, y)
    assert (x, y) == (-120.0 + 20.5 * 0.5, 80.0 - 10.5 * 0.5)
    want = frame.to_wgs84(np.array([[x, y]]))[0]
    back = frame.to_local(np.array([[lon, lat]]))[0]
    assert np.hypot(*(back - [x, y])) < 0.01 and np.allclose([lon, lat], want, atol=1e-9)
