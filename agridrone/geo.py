"""A local metric frame centred on the field: transverse Mercator through pyproj.

Planning happens in metres in this frame; input and output stay WGS84. The frame is
centred on the field, so scale error stays negligible (well under 1 cm over a few km)
and fields that straddle a UTM zone border need no special case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class LocalFrame:
    """Transverse Mercator frame with its origin at (lon_0, lat_0) degrees, axes east and
    north in metres, on the WGS84 ellipsoid."""

    lon_0: float
    lat_0: float
    _forward: Transformer = field(init=False, repr=False, compare=False)
    _inverse: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # the explicit pipelines are what Transformer.from_crs("EPSG:4326", self.proj,
        # always_xy=True) and its inverse resolve to (same PROJ operation, same numbers;
        # tests/test_scale.py compares them), built ~150x faster (no proj.db search:
        # 17 ms per frame, a quarter of a small field's plan in a batch)
        tmerc = (f"+proj=tmerc +lat_0={self.lat_0!r} +lon_0={self.lon_0!r} +k=1 +x_0=0 +y_0=0 "
                 "+ellps=WGS84")
        forward = Transformer.from_pipeline(
            f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {tmerc}")
        inverse = Transformer.from_pipeline(
            f"+proj=pipeline +step +inv {tmerc} +step +proj=unitconvert +xy_in=rad +xy_out=deg")
        object.__setattr__(self, "_forward", forward)
        object.__setattr__(self, "_inverse", inverse)

    @classmethod
    def centred_on(cls, geometry_wgs84: BaseGeometry) -> LocalFrame:
        """The frame centred on a WGS84 geometry's bounding box (degrees), rounded to 1e-6°
        so that the same field always gets the same frame."""
        lon_min, lat_min, lon_max, lat_max = geometry_wgs84.bounds
        return cls(round((lon_min + lon_max) / 2, 6), round((lat_min + lat_max) / 2, 6))

    @property
    def proj(self) -> str:
        """The PROJ string of this frame."""
        return (
            f"+proj=tmerc +lat_0={self.lat_0!r} +lon_0={self.lon_0!r} +k=1 "
            "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )

    def to_local(self, lonlat: np.ndarray) -> np.ndarray:
        """(n, 2) array of [lon, lat] degrees -> (n, 2) array of [x, y] metres."""
        lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
        x, y = self._forward.transform(lonlat[:, 0], lonlat[:, 1])
        return np.column_stack([x, y])

    def to_local_each(self, lines: list) -> list[np.ndarray]:
        """Each [[lon, lat], ...] degrees polyline of ``lines`` as an (n, 2) array of metres,
        all converted in one call (the same figures as one :meth:`to_local` each)."""
        if not lines:
            return []
        xy = self.to_local(np.concatenate([np.asarray(c, dtype=np.float64).reshape(-1, 2)
                                           for c in lines]))
        return np.split(xy, np.cumsum([len(c) for c in lines])[:-1])

    def to_wgs84(self, xy: np.ndarray) -> np.ndarray:
        """(n, 2) array of [x, y] metres -> (n, 2) array of [lon, lat] degrees."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        lon, lat = self._inverse.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def geometry_to_local(self, geometry_wgs84: BaseGeometry) -> BaseGeometry:
        """Any shapely geometry from WGS84 degrees to local metres."""
        return shapely.transform(geometry_wgs84, self.to_local)

    def geometry_to_wgs84(self, geometry_local: BaseGeometry) -> BaseGeometry:
        """Any shapely geometry from local metres to WGS84 degrees."""
        return shapely.transform(geometry_local, self.to_wgs84)
