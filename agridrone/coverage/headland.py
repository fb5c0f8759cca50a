"""Headland passes: loops that follow the boundary before the back-and-forth."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

from agridrone.field import as_multipolygon


def headland_loops(
    sprayable: MultiPolygon, swath_m: float, edge_margin_m: float, count: int
) -> tuple[list[np.ndarray], MultiPolygon]:
    """``count`` loops around every edge of the sprayable region (field edge and
    no-spray zones), outermost first, and the region left inside them for the
    back-and-forth passes (local metres).

    Loop i runs ``edge_margin_m + i × swath_m`` from the edges; each loop is a closed
    (n, 2) ring. The inner region ends where the last loop's spray ends.
    """
    if count <= 0:
        return [], sprayable
    loops: list[np.ndarray] = []
    for i in range(count):
        offset = sprayable.buffer(-(edge_margin_m + i * swath_m))
        for polygon in shapely.get_parts(shapely.normalize(offset)):
            for ring in [polygon.exterior, *polygon.interiors]:
                loops.append(np.asarray(ring.coords)[:, :2])
    band_m = edge_margin_m + (count - 1) * swath_m + swath_m / 2
    return loops, as_multipolygon(sprayable.buffer(-band_m))
