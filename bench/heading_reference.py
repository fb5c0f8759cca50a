"""The reference process of bench/plan_bench.py's ratio: read a GeoJSON field, project it
to local metres with pyproj and search 360 headings with shapely alone (no agridrone, no
numba). Run: python bench/heading_reference.py FIELD.geojson"""

from __future__ import annotations

import json
import sys

import numpy as np
import shapely
from pyproj import Transformer

SWATH_M = 5.0


def main(path: str) -> None:
    ring = np.asarray(json.loads(open(path).read())["coordinates"][0])
    lon0, lat0 = ring.mean(axis=0)
    to_local = Transformer.from_crs("EPSG:4326", f"+proj=tmerc +lon_0={lon0} +lat_0={lat0} "
                                    "+ellps=WGS84 +units=m", always_xy=True)
    x, y = to_local.transform(ring[:, 0], ring[:, 1])
    region = shapely.Polygon(np.column_stack([x, y])).buffer(-SWATH_M / 2)
    best = None
    for heading in np.arange(360) * 0.5:
        rotated = shapely.affinity.rotate(region, heading - 90.0, origin=(0, 0))
        x_min, y_min, x_max, y_max = rotated.bounds
        ys = np.arange(y_min + 1e-3, y_max - 1e-3 + 1e-12, SWATH_M)
        lines = shapely.linestrings(np.stack([np.column_stack([np.full_like(ys, x_min - 1), ys]),
                                              np.column_stack([np.full_like(ys, x_max + 1), ys])],
                                             axis=1))
        pieces = shapely.intersection(lines, rotated)
        cost = float(shapely.length(pieces).sum()) + 20.0 * sum(len(shapely.get_parts(p)) for p in pieces)
        if best is None or cost < best[0]:
            best = (cost, float(heading))
    print(best[1])


if __name__ == "__main__":
    main(sys.argv[1])
