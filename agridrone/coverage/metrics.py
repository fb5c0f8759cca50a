"""Coverage metrics computed from the geometry of the spray legs, not assumed.

The area a leg sprays is the leg buffered by half a swath with flat caps (the boom's
spray stops where the pump stops). When every leg is one straight segment and all are
parallel (back-and-forth passes without headland loops) the footprints are rectangles in
the passes' frame and the areas are computed exactly by the strip kernels
(:mod:`.strips`); otherwise by shapely overlays on a 1 mm grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

from agridrone.coverage.strips import Boxes, OrientedRings, boxes_areas, each_box_m2, oriented_rings
from agridrone.coverage.swaths import to_heading_frame

GRID_M = 1e-3  # snap overlays to 1 mm: exact-touching strips otherwise confuse GEOS
PARALLEL_SINE = 1e-9  # segments whose directions differ by less (sine) count as parallel


@dataclass(frozen=True)
class CoverageMetrics:
    """coverage_pct: sprayed share of the sprayable area (%); overlap_pct: area sprayed
    more than once, per sprayable area (%); outside_m2: area sprayed outside the field
    or inside a no-spray zone (m²)."""

    coverage_pct: float
    overlap_pct: float
    outside_m2: float


def spray_footprints(spray_lines: list[np.ndarray], swath_m: float | np.ndarray) -> np.ndarray:
    """The area each spray polyline (local metres) covers, ``swath_m`` wide (m; one width or
    one per line): an array of polygons."""
    lines = np.array([shapely.LineString(line) for line in spray_lines], dtype=object)
    return shapely.buffer(lines, swath_m / 2, cap_style="flat", join_style="round")


def coverage_metrics(
    spray_lines: list[np.ndarray], sprayable: MultiPolygon, swath_m: float | np.ndarray
) -> CoverageMetrics:
    """Coverage %, overlap % and outside area (m²) of spray polylines (local metres) over
    the sprayable area (field minus no-spray zones), each line ``swath_m`` wide (m; one
    width or one per line)."""
    area = float(sprayable.area)
    if not spray_lines or area <= 0:
        return CoverageMetrics(0.0, 0.0, 0.0)
    parallel = _parallel_segments(spray_lines)
    if parallel is not None:
        inside, twice, outside = _segment_areas(*parallel, sprayable, swath_m)
    else:
        inside, twice, outside = _overlay_areas(spray_lines, sprayable, swath_m)
    return CoverageMetrics(
        coverage_pct=100.0 * inside / area,
        overlap_pct=100.0 * twice / area,
        outside_m2=outside,
    )


def _parallel_segments(spray_lines: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The lines' ends as an (n, 2, 2) array and the unit direction they share, when every
    line is one straight segment and all are parallel (within PARALLEL_SINE); else None."""
    if any(np.shape(line) != (2, 2) for line in spray_lines):
        return None
    ends = np.asarray(spray_lines, dtype=np.float64)
    delta = ends[:, 1] - ends[:, 0]
    lengths = np.hypot(delta[:, 0], delta[:, 1])
    longest = int(np.argmax(lengths))
    if lengths[longest] <= 0:
        return None
    direction = delta[longest] / lengths[longest]
    cross = delta[:, 0] * direction[1] - delta[:, 1] * direction[0]
    if np.any(np.abs(cross) > PARALLEL_SINE * lengths):
        return None
    return ends, direction


def _segment_areas(ends: np.ndarray, direction: np.ndarray, sprayable: MultiPolygon,
                   swath_m: float | np.ndarray) -> tuple[float, float, float]:
    """(sprayed inside, sprayed twice inside, sprayed outside) areas (m²) of parallel
    segments ``ends`` along the unit ``direction``: in the heading frame where ``direction``
    is +x every footprint is the box [along the segment] × [across ± half the width]."""
    heading_deg = math.degrees(math.atan2(float(direction[0]), float(direction[1])))
    rings = oriented_rings(sprayable)
    frame_xy = to_heading_frame(np.column_stack([rings.xs, rings.ys]), heading_deg)
    rings = OrientedRings(frame_xy[:, 0].copy(), frame_xy[:, 1].copy(), rings.offsets)
    start = to_heading_frame(ends[:, 0], heading_deg)
    stop = to_heading_frame(ends[:, 1], heading_deg)
    across = 0.5 * (start[:, 1] + stop[:, 1])
    half = np.broadcast_to(np.asarray(swath_m, dtype=np.float64) / 2, across.shape)
    boxes = Boxes(np.minimum(start[:, 0], stop[:, 0]), across - half,
                  np.maximum(start[:, 0], stop[:, 0]), across + half)
    inside, union = boxes_areas(rings, boxes)
    twice = float(each_box_m2(rings, boxes).sum()) - inside
    return inside, max(0.0, twice), max(0.0, union - inside)


def _overlay_areas(spray_lines: list[np.ndarray], sprayable: MultiPolygon,
                   swath_m: float | np.ndarray) -> tuple[float, float, float]:
    """(sprayed inside, sprayed twice inside, sprayed outside) areas (m²) of any spray
    polylines, by shapely overlays on the GRID_M grid."""
    footprints = spray_footprints(spray_lines, swath_m)
    sprayed = shapely.union_all(footprints, grid_size=GRID_M)
    inside = shapely.intersection(sprayed, sprayable, grid_size=GRID_M)
    each_inside = shapely.intersection(footprints, sprayable, grid_size=GRID_M)
    twice = max(0.0, float(shapely.area(each_inside).sum()) - float(inside.area))
    outside = shapely.difference(sprayed, sprayable, grid_size=GRID_M)
    return float(inside.area), twice, float(outside.area)

