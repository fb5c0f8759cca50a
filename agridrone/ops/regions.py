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
    return cut_strips(field.boundary_local, field.sprayable_local, [1.0 / count] * count)


def cut_strips(whole: MultiPolygon, sprayable, shares: list[float]) -> list[MultiPolygon]:
    """``whole`` (local metres) cut across its long axis into strips holding ``shares``
    (fractions summing to 1) of the ``sprayable`` area, in order along that axis."""
    angle = long_axis_deg(whole)
    origin = shapely.union_all(list(whole.geoms)).centroid
    whole = affinity.rotate(whole, -angle, origin=origin)
    spray = affinity.rotate(sprayable, -angle, origin=origin)
    xmin, ymin, xmax, ymax = whole.bounds
    total = spray.area

    def left_area(x: float) -> float:
        return spray.intersection(box(xmin - 1, ymin - 1, x, ymax + 1)).area

    cuts = [xmin]
    for k in range(1, len(shares)):
        target = total * sum(shares[:k])
        lo, hi = cuts[-1], xmax
        while (hi - lo) > 1e-3 and abs(left_area(0.5 * (lo + hi)) - target) > AREA_TOL * total:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if left_area(mid) < target else (lo, mid)
        cuts.append(0.5 * (lo + hi))
    cuts.append(xmax)
    strips = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        strip = whole.intersection(box(a, ymin - 1, b, ymax + 1))
        strips.append(as_multipolygon(affinity.rotate(strip, angle, origin=origin)))
    return strips


def boundary_pads(field: Field, regions: list[MultiPolygon], separation_m: float
                  ) -> list[np.ndarray]:
    """Per region, candidate pads (k, 2 local metres) spaced along the part of its edge that
    is the field's edge, each at least ``separation_m`` from every other region."""
    out = []
    for i, region in enumerate(regions):
        others = shapely.union_all([r for j, r in enumerate(regions) if j != i])
        points = edge_pads(field, region, others, separation_m)
        if not len(points):
            raise AgridroneError(
                f"region {i + 1} of {len(regions)} has no point of the field's edge "
                f"{separation_m:g} m from the other regions; fly fewer drones or lower "
                "--separation")
        out.append(points)
    return out


def edge_pads(field: Field, region: MultiPolygon, others, separation_m: float) -> np.ndarray:
    """Candidate pads (k, 2 local metres; k may be 0) every ``PAD_SPACING_M`` along the part
    of ``region``'s edge that is the field's edge, at least ``separation_m`` from ``others``."""
    field_edge = field.outer_local.boundary
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
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def given_pads(points_xy: np.ndarray, regions: list[MultiPolygon], separation_m: float,
               max_distance_m: float) -> list[np.ndarray]:
    """Per region, the given candidate points (local metres) within ``max_distance_m`` of it
    and at least ``separation_m`` from every other region."""
    out = []
    for i, region in enumerate(regions):
        others = shapely.union_all([r for j, r in enumerate(regions) if j != i])
        keep = near_pads(points_xy, region, others, separation_m, max_distance_m)
        if not len(keep):
            raise AgridroneError(
                f"none of the given stations is within {max_distance_m / 1000:g} km of region "
                f"{i + 1} and {separation_m:g} m from the other drones' regions")
        out.append(keep)
    return out


def near_pads(points_xy: np.ndarray, region: MultiPolygon, others, separation_m: float,
              max_distance_m: float) -> np.ndarray:
    """The points (k, 2 local metres; k may be 0) within ``max_distance_m`` of ``region`` and
    at least ``separation_m`` from ``others``."""
    keep = [xy for xy in points_xy
            if region.distance(Point(xy)) <= max_distance_m
            and (others.is_empty or others.distance(Point(xy)) >= separation_m)]
    return np.asarray(keep, dtype=np.float64).reshape(-1, 2)


def check_pads(pads: list[np.ndarray], separation_m: float,
               drones: list[int] | None = None) -> None:
    """AgridroneError when two drones' pads are closer than ``separation_m``; ``drones``
    names each pad's drone (one pad per drone when None; a drone's own stops may be close)."""
    owners = list(range(1, len(pads) + 1)) if drones is None else drones
    for i in range(len(pads)):
        for j in range(i + 1, len(pads)):
            if owners[i] == owners[j]:
                continue
            d = float(np.hypot(*(pads[i] - pads[j])))
            if d < separation_m:
                raise AgridroneError(
                    f"drones {owners[i]} and {owners[j]} would take off {d:.0f} m apart, "
                    f"closer than the {separation_m:g} m separation")
