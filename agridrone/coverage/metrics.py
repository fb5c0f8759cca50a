"""Coverage metrics computed from the geometry of the spray legs, not assumed.

The area a leg sprays is the leg buffered by half a swath with flat caps (the boom's
spray stops where the pump stops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

GRID_M = 1e-3  # snap overlays to 1 mm: exact-touching strips otherwise confuse GEOS


@dataclass(frozen=True)
class CoverageMetrics:
    """coverage_pct: sprayed share of the sprayable area (%); overlap_pct: area sprayed
    more than once, per sprayable area (%); outside_m2: area sprayed outside the field
    or inside a no-spray zone (m²)."""

    coverage_pct: float
    overlap_pct: float
    outside_m2: float


def spray_footprints(spray_lines: list[np.ndarray], swath_m: float) -> np.ndarray:
    """The area each spray polyline (local metres) covers: an array of polygons."""
    lines = np.array([shapely.LineString(line) for line in spray_lines], dtype=object)
    return shapely.buffer(lines, swath_m / 2, cap_style="flat", join_style="round")


def coverage_metrics(
    spray_lines: list[np.ndarray], sprayable: MultiPolygon, swath_m: float
) -> CoverageMetrics:
    """Coverage %, overlap % and outside area (m²) of spray polylines (local metres) over
    the sprayable area (field minus no-spray zones)."""
    area = float(sprayable.area)
    if not spray_lines or area <= 0:
        return CoverageMetrics(0.0, 0.0, 0.0)
    footprints = spray_footprints(spray_lines, swath_m)
    sprayed = shapely.union_all(footprints, grid_size=GRID_M)
    inside = shapely.intersection(sprayed, sprayable, grid_size=GRID_M)
    each_inside = shapely.intersection(footprints, sprayable, grid_size=GRID_M)
    twice = max(0.0, float(shapely.area(each_inside).sum()) - float(inside.area))
    outside = shapely.difference(sprayed, sprayable, grid_size=GRID_M)
    return CoverageMetrics(
        coverage_pct=100.0 * float(inside.area) / area,
        overlap_pct=100.0 * twice / area,
        outside_m2=float(outside.area),
    )
