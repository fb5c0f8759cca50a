"""One region per drone: a field cut into strips of equal sprayable area, and each region's
candidate pads (take-off and landing spots) far enough from every other region.

Strips run across the field's long axis (the long side of its minimum rotated rectangle),
so each is as compact as the field allows. A pad at least the separation distance away from
every other region keeps the drones apart whenever one of them is on the ground: a region's
routes stay inside it (the planner's transits keep inside the field it is given).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, box

from agridrone.errors import AgridroneError
from agridrone.field import Field, as_multipolygon

AREA_TOL = 1e-4  # share of the sprayable area the cut positions are found to
PAD_SPACING_M = 10.0  # candidate pads along the boundary this far apart
ON_BOUNDARY_M = 1.0  # a region's edge within this of the field's edge is field boundary


def long_axis_deg(geometry) -> float:
    """Direction (degrees from the x axis) of the long side of ``geometry``'s minimum
    rotated rectangle."""
    rect = np.asarray(shapely.minimum_rotated_rectangle(geometry).exterior.coords)
    sides = np.diff(rect[:3], axis=0)
    long_side = max(sides, key=lambda v: math.hypot(*v))
    return math.degrees(math.atan2(long_side[1], long_side[0]))


def split_field(field: Field, count: int) -> list[MultiPolygon]:
    """``field`` (local metres, holes kept) cut into ``count`` strips of equal sprayable
    area across its long axis, in order along that axis."""
    if count == 1:
        return [field.boundary_local]
    angle = long_axis_deg(field.outer_local)
    origin = field.outer_local.centroid
    whole = affinity.rotate(field.boundary_local, -angle, origin=origin)
    spray = affinity.rotate(field.sprayable_local, -angle, origin=origin)
    xmin, ymin, xmax, ymax = whole.bounds
    total = spray.area

    def left_area(x: float) -> float:
        return spray.intersection(box(xmin - 1, ymin - 1, x, ymax + 1)).area

    cuts = [xmin]
    for k in range(1, count):
        target = total * k / count
        lo, hi = cuts[-1], xmax
        while (hi - lo) > 1e-3 and abs(left_area(0.5 * (lo + hi)) - target) > AREA_TOL * total:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if left_area(mid) < target else (lo, mid)
        cuts.append(0.5 * (lo + hi))
    cuts.append(xmax)
    regions = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        strip = whole.intersection(box(a, ymin - 1, b, ymax + 1))
        regions.append(as_multipolygon(affinity.rotate(strip, angle, origin=origin)))
    return regions


def boundary_pads(field: Field, regions: list[MultiPolygon], separation_m: float
                  ) -> list[np.ndarray]:
    """Per region, candidate pads (k, 2 local metres) spaced along the part of its edge that
    is the field's edge, each at least ``separation_m`` from every other region."""
    field_edge = field.outer_local.boundary
    out = []
    for i, region in enumerate(regions):
        others = shapely.union_all([r for j, r in enumerate(regions) if j != i])
        points = []
        for polygon in region.geoms:
            ring = polygon.exterior
            n = max(4, int(ring.length / PAD_SPACING_M))
            for k in range(n):
                p = ring.interpolate(ring.length * k / n)
                if field_edge.distance(p) > ON_BOUNDARY_M:
                    continue
                if not others.is_empty and others.distance(p) < separation_m:
                    continue
                points.append((p.x, p.y))
        if not points:
            raise AgridroneError(
                f"region {i + 1} of {len(regions)} has no point of the field's edge "
                f"{separation_m:g} m from the other regions; fly fewer drones or lower "
                "--separation")
        out.append(np.asarray(points, dtype=np.float64))
    return out


def given_pads(points_xy: np.ndarray, regions: list[MultiPolygon], separation_m: float,
               max_distance_m: float) -> list[np.ndarray]:
    """Per region, the given candidate points (local metres) within ``max_distance_m`` of it
    and at least ``separation_m`` from every other region."""
    out = []
    for i, region in enumerate(regions):
        others = shapely.union_all([r for j, r in enumerate(regions) if j != i])
        keep = [xy for xy in points_xy
                if region.distance(Point(xy)) <= max_distance_m
                and (others.is_empty or others.distance(Point(xy)) >= separation_m)]
        if not keep:
            raise AgridroneError(
                f"none of the given stations is within {max_distance_m / 1000:g} km of region "
                f"{i + 1} and {separation_m:g} m from the other drones' regions")
        out.append(np.asarray(keep, dtype=np.float64))
    return out


def check_pads(pads: list[np.ndarray], separation_m: float) -> None:
    """AgridroneError when two drones' pads are closer than ``separation_m``."""
    for i in range(len(pads)):
        for j in range(i + 1, len(pads)):
            d = float(np.hypot(*(pads[i] - pads[j])))
            if d < separation_m:
                raise AgridroneError(
                    f"drones {i + 1} and {j + 1} would take off {d:.0f} m apart, closer than "
                    f"the {separation_m:g} m separation")
