"""Geofence and rally items for a plan: where the vehicle may fly, and where it returns.

The inclusion polygon is the field grown by a margin (metres), widened where the route
leaves the field to reach the station; every no-spray zone is an exclusion polygon.
Autopilots hold a limited number of fence vertices (PX4: 64 fence items; ArduPilot: what
its fence storage holds, 64 here), so polygons with too many vertices are simplified *outward*: a simplified inclusion polygon still contains
the field plus margin, a simplified exclusion polygon still contains its zone.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, shape
from shapely.geometry.polygon import orient

from agridrone.errors import AgridroneError
from agridrone.geo import LocalFrame
from missions.mission import (
    CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
    CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
    CMD_NAV_RALLY_POINT,
    FRAME_GLOBAL,
    FRAME_GLOBAL_INT,
    FRAME_GLOBAL_RELATIVE_ALT_INT,
    MISSION_TYPE_FENCE,
    MISSION_TYPE_RALLY,
    POSITION_COMMANDS,
    MissionItem,
    check_autopilot,
    to_int7,
)

# Fence items a flight controller holds (all polygons together). ArduPilot keeps its fence
# in a fixed storage area and answers MISSION_COUNT with NO_SPACE beyond it: measured on
# ArduCopter 4.7 SITL, 69 vertices fit in one polygon and 64 in six (a polygon's header
# takes room too), 70 and 69 do not; boards that keep the fence on the SD card hold more.
DEFAULT_MAX_FENCE_VERTICES = {"ardupilot": 64, "px4": 64}
MIN_POLYGON_VERTICES = 4
# A ring with more than PRE_THIN_FACTOR x its vertex budget is first thinned outward (grown
# and simplified by one of these steps, metres: within the fence margin's tolerance).
PRE_THIN_FACTOR = 4
PRE_THIN_STEPS_M = (0.1, 0.25, 0.5, 1.0, 2.0)
# Extra growth (metres) so that rounding to 1e-7 degree (about 1 cm) never moves a vertex
# inside the area it must contain.
ROUNDING_SLACK_M = 0.05
# A digitised outline (thousands of vertices of GIS noise) is simplified by this much before
# it is grown, and grown by as much more: every point of the outline lies within it of the
# simplified one (Douglas-Peucker), so the margin is kept, and buffering 10,000 vertices
# cost a 100 ha plan 0.4-0.6 s (bench/scale_bench.py) for a fence cut to 64 vertices anyway.
OUTLINE_TOLERANCE_M = 0.25
_MITRE_LIMIT = 4.0


def build_fence(
    plan: dict,
    *,
    margin_m: float = 10.0,
    max_vertices: int | None = None,
    autopilot: str,
) -> list[MissionItem]:
    """Fence items (mission_type 1) for a plan.json dict: :func:`fence_plan`'s items."""
    return fence_plan(plan, margin_m=margin_m, max_vertices=max_vertices, autopilot=autopilot)[0]


def fence_plan(
    plan: dict,
    *,
    margin_m: float = 10.0,
    max_vertices: int | None = None,
    autopilot: str,
) -> tuple[list[MissionItem], int]:
    """Fence items (mission_type 1) for a plan.json dict, and how many no-spray zones were
    left out of them.

    First the inclusion polygon (NAV_FENCE_POLYGON_VERTEX_INCLUSION, param1 = vertex count):
    the field grown by ``margin_m`` metres, joined with the station and the route outside
    the field grown by the same margin. Then one exclusion polygon per no-spray zone
    (NAV_FENCE_POLYGON_VERTEX_EXCLUSION). ``max_vertices`` caps the vertices of all
    polygons together (default: DEFAULT_MAX_FENCE_VERTICES, 64 for both); polygons are
    simplified outward to fit. Where even 4 vertices per polygon do not fit (16 or more
    zones at 64), the largest zones are fenced and the rest left out, and so is a zone whose
    simplified polygon would reach over the route (the route still keeps clear of every
    zone and the pump is off over them; the caller warns). Vertices are in frame
    GLOBAL_INT, z = 0.
    """
    check_autopilot(autopilot)
    if margin_m < 0:
        raise AgridroneError(f"fence margin {margin_m:g} m must not be negative")
    limit = DEFAULT_MAX_FENCE_VERTICES[autopilot] if max_vertices is None else int(max_vertices)
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    lines = _route_lines(plan, frame)
    inclusion = inclusion_polygon_local(plan, frame, margin_m, lines)
    zones = [
        orient(Polygon(p.exterior), 1.0)
        for p in _polygons(frame.geometry_to_local(shape(plan["no_spray"])))
    ]
    route = shapely.multilinestrings(lines) if len(lines) else EMPTY
    shapely.prepare(route)  # asked once per candidate zone polygon
    fenced, rings = fenced_rings(_ring(inclusion), zones, route, limit)
    items: list[MissionItem] = []
    for index, ring in enumerate(rings):
        command = (CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION if index == 0
                   else CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION)
        for lon, lat in frame.to_wgs84(ring):
            items.append(MissionItem(
                seq=len(items), frame=FRAME_GLOBAL_INT, command=command,
                param1=float(len(ring)), x=to_int7(lat), y=to_int7(lon),
                mission_type=MISSION_TYPE_FENCE,
            ))
    return items, len(zones) - len(fenced)


def _route_lines(plan: dict, frame: LocalFrame) -> np.ndarray:
    """Every leg of every sortie of the plan as a line in local metres (an array of
    LineStrings; every leg converted in one call)."""
    legs = [np.asarray(leg["coords"], dtype=np.float64).reshape(-1, 2)
            for sortie in plan["sorties"] for leg in sortie["legs"]]
    if not legs:
        return np.empty(0, dtype=object)
    index = np.repeat(np.arange(len(legs)), [len(xy) for xy in legs])
    return shapely.linestrings(frame.to_local(np.concatenate(legs)), indices=index)


def fenced_rings(inclusion: np.ndarray, zones: list[Polygon], route, limit: int | None
                 ) -> tuple[list[Polygon], list[np.ndarray]]:
    """The no-spray zones (local metres) the fence holds, and its rings (the inclusion ring
    first), when all polygons together may have at most ``limit`` vertices: every zone when
    they fit and none, simplified outward to fit, newly reaches over ``route`` (the plan's
    legs: it would stop the vehicle on its way), else zones taken largest first, each kept
    when the fence with it still fits MIN_POLYGON_VERTICES per polygon and no zone newly
    reaches over the route. A zone the route already crosses stays fenced (the caller
    reports the breach)."""
    exact = [_ring(_grown(zone, ROUNDING_SLACK_M)) for zone in zones]
    crossed = [bool(shapely.intersects(route, Polygon(ring))) for ring in exact]
    simplified: dict[tuple[int, int], np.ndarray] = {}

    def simplify(index: int, ring: np.ndarray, k: int) -> np.ndarray:
        if (index, k) not in simplified:
            simplified[index, k] = simplify_outward(ring, k)
        return simplified[index, k]

    def laid(chosen: list[int]) -> list[np.ndarray] | None:
        rings = [inclusion] + [exact[i] for i in chosen]
        targets = vertex_budget([len(r) for r in rings], limit)
        out = [simplify(-1, inclusion, targets[0])]
        for i, k in zip(chosen, targets[1:], strict=True):
            ring = simplify(i, exact[i], k)
            if k < len(exact[i]) and not crossed[i] and shapely.intersects(route, Polygon(ring)):
                return None
            out.append(ring)
        return out

    everything = list(range(len(zones)))
    if limit is None or MIN_POLYGON_VERTICES * (len(zones) + 1) <= limit:
        rings = laid(everything)
        if rings is not None:
            return list(zones), rings
    chosen: list[int] = []
    rings = laid(chosen)
    for index in sorted(everything, key=lambda i: (-zones[i].area, i)):
        if limit is not None and MIN_POLYGON_VERTICES * (len(chosen) + 2) > limit:
            break
        trial = sorted([*chosen, index])
        trial_rings = laid(trial)
        if trial_rings is not None:
            chosen, rings = trial, trial_rings
    return [zones[i] for i in chosen], rings


def unfenced_warning(count: int, autopilot: str) -> str:
    """The warning for ``count`` no-spray zones the fence of an ``autopilot`` could not
    hold."""
    return (f"the geofence leaves out {count} no-spray zone(s): the {autopilot} fence holds "
            f"{DEFAULT_MAX_FENCE_VERTICES[autopilot]} vertices, and a zone simplified to fit "
            "must not reach over the route; the route keeps clear of every zone and the pump "
            "is off over them")


def build_rally(plan: dict, autopilot: str) -> list[MissionItem]:
    """One rally point (mission_type 2) at the station, at the plan's spray altitude
    ``alt_m`` (metres above home), frame GLOBAL_RELATIVE_ALT_INT."""
    check_autopilot(autopilot)
    lon, lat = plan["station"]
    return [MissionItem(
        seq=0, frame=FRAME_GLOBAL_RELATIVE_ALT_INT, command=CMD_NAV_RALLY_POINT,
        x=to_int7(lat), y=to_int7(lon), z=float(plan["inputs"]["alt_m"]),
        mission_type=MISSION_TYPE_RALLY,
    )]


def fence_polygons(items: list[MissionItem]) -> tuple[list[list[list[float]]], list[list[list[float]]]]:
    """Split fence items into (inclusion rings, exclusion rings), each a list of [lon, lat]
    degrees, using param1 (vertex count) to tell consecutive polygons apart."""
    inclusions: list[list[list[float]]] = []
    exclusions: list[list[list[float]]] = []
    lonlat = (np.array([(it.y, it.x) for it in items], dtype=np.float64).reshape(-1, 2) / 1e7).tolist()
    index = 0
    while index < len(items):
        first = items[index]
        count = max(int(round(first.param1)), 1)
        ring = lonlat[index:index + count]
        if first.command == CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION:
            inclusions.append(ring)
        elif first.command == CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION:
            exclusions.append(ring)
        index += count
    return inclusions, exclusions


EMPTY = LineString()


def inclusion_polygon_local(plan: dict, frame: LocalFrame, margin_m: float,
                            lines: np.ndarray) -> Polygon:
    """The inclusion area in local metres before simplification: field outline (holes
    filled) grown by ``margin_m`` plus the farthest a lead-in or lead-out goes beyond it,
    joined with the station and the legs outside that (``lines``, :func:`_route_lines`)
    grown by ``margin_m``; one polygon without holes (the convex hull if the parts would
    not join)."""
    field = frame.geometry_to_local(shape(plan["field"]))
    outline = shapely.union_all([Polygon(p.exterior) for p in _polygons(field)])
    grow = margin_m + ROUNDING_SLACK_M
    # lead-ins and lead-outs run beyond the field's edge all round it: the field is grown by
    # the farthest they go as well, so each keeps the whole margin (one smooth outline, not a
    # corridor per pass end: ArduPilot's fence storage holds a few hundred vertices at most)
    simple = outline.simplify(OUTLINE_TOLERANCE_M, preserve_topology=True)
    grown = simple.buffer(grow + OUTLINE_TOLERANCE_M + _lead_excursion_m(plan, frame, outline),
                          join_style="mitre", mitre_limit=_MITRE_LIMIT)
    parts = [grown]
    # Only what lies beyond the grown field needs a corridor of its own: the station and
    # the legs to and from it (legs along the field edge add nothing).
    station = Point(frame.to_local(np.array([plan["station"]], dtype=float))[0])
    parts.append(station.buffer(grow, cap_style="square"))
    shapely.prepare(grown)  # most legs lie inside: one prepared test each, no difference
    for line, inside in zip(lines, shapely.contains(grown, lines), strict=True):
        beyond = EMPTY if inside else line.difference(grown)
        if not beyond.is_empty:
            parts.append(beyond.buffer(grow, cap_style="square", join_style="mitre",
                                       mitre_limit=_MITRE_LIMIT))
    merged = shapely.union_all(parts)
    polygons = _polygons(merged)
    if len(polygons) == 1:
        return orient(Polygon(polygons[0].exterior), 1.0)
    return orient(merged.convex_hull, 1.0)


def _lead_excursion_m(plan: dict, frame: LocalFrame, outline) -> float:
    """The farthest (m) any lead-in or lead-out of the plan goes beyond the field's outline."""
    ends = [xy for sortie in plan["sorties"] for leg in sortie["legs"] if leg["kind"] == "lead"
            for xy in frame.to_local(np.asarray(leg["coords"], dtype=float))]
    if not ends:
        return 0.0
    return float(np.max(shapely.distance(outline, shapely.points(np.asarray(ends)))))


def vertex_budget(counts: list[int], limit: int | None) -> list[int]:
    """Vertices allowed per polygon so that they add up to at most ``limit``; polygons keep
    their own count when they all fit, and at least 4 vertices each otherwise."""
    if limit is None or sum(counts) <= limit:
        return list(counts)
    floors = [min(n, MIN_POLYGON_VERTICES) for n in counts]
    if sum(floors) > limit:
        raise AgridroneError(
            f"the fence needs at least {sum(floors)} vertices for its {len(counts)} polygons "
            f"but the autopilot holds {limit}; merge or drop no-spray zones"
        )
    total = sum(counts)
    targets = [max(f, limit * n // total) for n, f in zip(counts, floors, strict=True)]
    while sum(targets) > limit:
        largest = max(range(len(targets)), key=lambda i: (targets[i] - floors[i], -i))
        targets[largest] -= 1
    return targets


def simplify_outward(ring: np.ndarray, max_vertices: int) -> np.ndarray:
    """Reduce a counter-clockwise ring ((n, 2) metres, not closed) to at most
    ``max_vertices`` vertices (>= 3) by steps that only add area, cheapest first:
    dropping a concave vertex (adds the triangle it cut away) or replacing an edge by the
    meeting point of its neighbours' extensions. The result contains the input.

    Each step checks a whole candidate ring, so a ring of thousands of vertices (a digitised
    boundary) is first thinned by :func:`_thinned_outward` to a few times ``max_vertices``."""
    if max_vertices < 3:
        raise ValueError("a polygon needs at least 3 vertices")
    pts = [tuple(map(float, p)) for p in _thinned_outward(ring, PRE_THIN_FACTOR * max_vertices)]
    while len(pts) > max_vertices:
        for candidate in _candidates(pts):
            if len(candidate) >= 3 and Polygon(candidate).is_valid:
                pts = candidate
                break
        else:
            hull = orient(Polygon(pts).convex_hull, 1.0)
            hull_pts = [tuple(p) for p in np.asarray(hull.exterior.coords)[:-1]]
            if len(hull_pts) >= len(pts):
                raise AgridroneError(
                    f"cannot simplify a fence polygon to {max_vertices} vertices"
                )
            pts = hull_pts
    return np.asarray(pts, dtype=np.float64)


def _thinned_outward(ring: np.ndarray, enough: int) -> np.ndarray:
    """``ring`` (counter-clockwise, (n, 2) metres, not closed) with at most about ``enough``
    vertices when a cheap outward step gets there: the polygon grown by t and simplified
    (Douglas-Peucker) with tolerance t, for t in PRE_THIN_STEPS_M, kept only when it still
    contains the ring's polygon; else the ring as it is."""
    if len(ring) <= enough:
        return ring
    polygon = Polygon(ring)
    best = ring
    for step in PRE_THIN_STEPS_M:
        thinned = polygon.buffer(step, join_style="mitre").simplify(step)
        if thinned.geom_type != "Polygon" or not thinned.covers(polygon):
            continue
        coords = np.asarray(orient(thinned, 1.0).exterior.coords, dtype=np.float64)[:-1]
        if len(coords) < len(best):
            best = coords
        if len(best) <= enough:
            break
    return best


def _candidates(pts: list[tuple[float, float]]):
    """The rings one outward step from ``pts``, cheapest (least area added) first; ties in
    the order: vertex drops by index, then edge replacements by index. The costs of all
    steps are computed at once and a ring is only built when the caller asks for it (the
    first valid one usually comes first: 200 -> 64 vertices 0.30 -> 0.03 s)."""
    n = len(pts)
    arr = np.asarray(pts)
    prev = np.roll(arr, 1, axis=0)
    nxt = np.roll(arr, -1, axis=0)
    cross = (arr[:, 0] - prev[:, 0]) * (nxt[:, 1] - arr[:, 1]) - (arr[:, 1] - prev[:, 1]) * (nxt[:, 0] - arr[:, 0])
    drops = np.flatnonzero(cross <= 1e-9)  # concave or straight: dropping it only adds area
    # edge i -> i + 1 replaced by the meeting point of edges i-1 -> i and i+1 -> i+2
    a, b = arr, nxt
    d1 = arr - prev
    d2 = np.roll(arr, -2, axis=0) - nxt
    denom = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    diff = b - a
    with np.errstate(divide="ignore", invalid="ignore"):  # parallel neighbours: left out below
        t = (diff[:, 0] * d2[:, 1] - diff[:, 1] * d2[:, 0]) / denom
        s = (d1[:, 0] * diff[:, 1] - d1[:, 1] * diff[:, 0]) / denom
        meet = a + t[:, None] * d1
        side = diff[:, 0] * (meet[:, 1] - a[:, 1]) - diff[:, 1] * (meet[:, 0] - a[:, 0])
    edges = np.flatnonzero((np.abs(denom) >= 1e-12) & (t > 0) & (s > 0) & (side < 0))
    costs = np.concatenate([np.abs(cross[drops]) / 2.0, -side[edges] / 2.0])
    for k in np.argsort(costs, kind="stable"):
        if k < len(drops):
            i = int(drops[k])
            yield pts[:i] + pts[i + 1:]
            continue
        i = int(edges[k - len(drops)])
        j = (i + 1) % n
        p = (float(meet[i, 0]), float(meet[i, 1]))
        yield [p] + pts[1:i] if j == 0 else pts[:i] + [p] + pts[j + 1:]


def _grown(polygon: Polygon, distance_m: float) -> Polygon:
    """The polygon grown by ``distance_m`` metres with mitred corners (a superset of the
    round-cornered buffer with far fewer vertices), holes filled."""
    grown = polygon.buffer(distance_m, join_style="mitre", mitre_limit=_MITRE_LIMIT)
    polygons = _polygons(grown)
    return orient(Polygon(max(polygons, key=lambda p: p.area).exterior), 1.0)


def _ring(polygon: Polygon) -> np.ndarray:
    simplified = polygon.simplify(0.0)
    return np.asarray(orient(simplified, 1.0).exterior.coords, dtype=np.float64)[:-1]


def _polygons(geometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def fence_violations(mission: list[MissionItem], fence: list[MissionItem],
                     rings: tuple[list, list] | None = None) -> list[str]:
    """One line per flown position of ``mission`` (NAV_WAYPOINT/TAKEOFF/LAND, ArduPilot's
    home excluded) that lies outside every inclusion polygon or inside an exclusion
    polygon of ``fence``; empty when the mission respects its fence. ``rings``:
    :func:`fence_polygons` of ``fence`` when the caller checks many missions against one
    fence (None: computed here)."""
    inclusions, exclusions = fence_polygons(fence) if rings is None else rings
    inside = [shapely.polygons(r) for r in inclusions if len(r) >= 3]
    outside = [shapely.polygons(r) for r in exclusions if len(r) >= 3]
    flown = [item for item in mission if item.command in POSITION_COMMANDS
             and not (item.seq == 0 and item.frame == FRAME_GLOBAL)]
    if not flown:
        return []
    points = shapely.points(np.array([(it.y, it.x) for it in flown], dtype=np.float64) / 1e7)
    covered = np.zeros(len(flown), dtype=bool)
    for polygon in inside:
        covered |= shapely.covers(polygon, points)
    touched = np.zeros(len(flown), dtype=bool)
    for polygon in outside:
        touched |= shapely.intersects(polygon, points)
    problems = []
    for item, is_covered, is_touched in zip(flown, covered, touched, strict=True):
        if inside and not is_covered:
            problems.append(f"item {item.seq} lies outside the fence inclusion polygon")
        elif is_touched:
            problems.append(f"item {item.seq} lies on or inside a no-spray exclusion polygon")
    return problems
