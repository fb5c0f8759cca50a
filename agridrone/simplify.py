"""Boundary simplification of detailed fields before planning.

GIS exports often carry thousands of boundary vertices a few centimetres apart; the
planner's cost grows with the vertex count while the route cannot use that detail
(passes are metres apart). A field with more than ``MIN_VERTICES`` vertices is simplified
within ``TOLERANCE_M``: the boundary is offset inward by half the tolerance and that
offset simplified (Douglas-Peucker) by the other half, so the outer boundary only ever
moves inward (never into a neighbour's land) and the holes only grow (the no-spray zones
keep all their area); the Hausdorff distance between the old and the new boundary is
checked and the field kept as it was when it exceeds the tolerance (sharp spikes).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from agridrone.field import Field, as_multipolygon

TOLERANCE_M = 0.2  # the simplified boundary stays within this of the original (m)
MIN_VERTICES = 500  # fields with at most this many vertices are planned as drawn ...
MAX_KEPT_SHARE = 0.75  # ... and so are those where simplifying keeps more than this share
OFFSET_SHARE = 0.4  # share of the tolerance the inward offset uses ...
SIMPLIFY_SHARE = 0.4  # ... and the Douglas-Peucker step (the rest: corners, chords)
CHECK_STEP_M = 0.25 # the new boundary is checked at points this far apart (m)


def vertex_count(geometry) -> int:
    """Vertices of a (multi)polygon, ring closing points not counted."""
    rings = shapely.get_rings(shapely.get_parts(geometry))
    return int(shapely.get_num_coordinates(rings).sum() - len(rings))


def simplify_region(region: MultiPolygon, tolerance_m: float) -> tuple[MultiPolygon, float] | None:
    """``region`` (local metres) with its boundary simplified: the result lies inside
    ``region`` and its boundary within ``tolerance_m`` of the original (Hausdorff distance,
    checked), with that distance (m); None when it would exceed the tolerance (corners
    sharper than about 90°)."""
    inner = shapely.buffer(region, -OFFSET_SHARE * tolerance_m, quad_segs=2)
    simplified = shapely.simplify(inner, SIMPLIFY_SHARE * tolerance_m, preserve_topology=True)
    inside = as_multipolygon(shapely.intersection(simplified, region))
    if inside.is_empty:
        return None
    error = hausdorff_m(region, inside)
    return None if error > tolerance_m else (inside, error)


def simplify_field(field: Field, tolerance_m: float = TOLERANCE_M,
                   min_vertices: int = MIN_VERTICES) -> Field:
    """The field with its local boundary simplified (see the module docstring) and a
    warning saying so; the field itself when it has few vertices, when simplifying would
    remove less than a quarter of them, or when the simplified boundary would stray more
    than ``tolerance_m`` from the original."""
    before = vertex_count(field.boundary_local) + vertex_count(field.no_spray_local)
    if before <= min_vertices:
        return field
    simplified = simplify_region(field.boundary_local, tolerance_m)
    if simplified is None:
        return field
    boundary, error = simplified
    holes = [Polygon(ring) for p in boundary.geoms for ring in p.interiors]
    exclusions = _exclusions(field, tolerance_m)
    no_spray = as_multipolygon(shapely.union_all(holes + [exclusions]))
    outer = as_multipolygon(shapely.union_all([Polygon(p.exterior) for p in boundary.geoms]))
    after = vertex_count(boundary) + vertex_count(no_spray)
    if after > MAX_KEPT_SHARE * before:  # not worth moving the edge for
        return field
    note = (f"boundary simplified from {before} to {after} vertices within {tolerance_m:g} m "
            f"(largest shift {error:.3f} m; the edge moved inward only, no-spray zones grew only)")
    return replace(
        field,
        boundary_local=boundary,
        no_spray_local=no_spray,
        outer_local=outer,
        sprayable_local=as_multipolygon(outer.difference(no_spray)),
        warnings=[*field.warnings, note],
    )


def hausdorff_m(original, simplified) -> float:
    """Hausdorff distance (m) between the boundaries of two regions: every vertex of the
    original against the new boundary, and the new boundary (sampled every CHECK_STEP_M)
    against the original, through an R-tree of segments."""
    return max(_farthest(original, simplified),
               _farthest(shapely.segmentize(simplified, CHECK_STEP_M), original))


def _farthest(points_of, boundary_of) -> float:
    """The largest distance (m) from a vertex of ``points_of`` to the boundary of ``boundary_of``."""
    pieces = []
    for ring in shapely.get_rings(shapely.get_parts(boundary_of)):
        xy = shapely.get_coordinates(ring)
        pieces.append(np.stack([xy[:-1], xy[1:]], axis=1))
    tree = shapely.STRtree(shapely.linestrings(np.concatenate(pieces)))
    points = shapely.points(shapely.get_coordinates(points_of))
    _, distance = tree.query_nearest(points, return_distance=True, all_matches=False)
    return float(distance.max())


def _exclusions(field: Field, tolerance_m: float):
    """The no-spray zones that are not holes of the boundary (from --exclude files),
    simplified like the holes: grown by at most the tolerance."""
    holes = shapely.union_all(
        [Polygon(ring) for p in field.boundary_local.geoms for ring in p.interiors])
    rest = shapely.difference(field.no_spray_local, holes)
    if rest.is_empty or vertex_count(rest) <= 4 * len(shapely.get_parts(rest)):
        return rest
    grown = shapely.buffer(rest, tolerance_m / 2, quad_segs=2)
    return shapely.union(shapely.simplify(grown, tolerance_m / 2), rest)
