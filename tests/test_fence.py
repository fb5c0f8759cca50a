"""Geofence and rally items: the field plus margin as inclusion polygon, no-spray zones as
exclusion polygons, outward simplification to the autopilot's vertex limit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, shape
from test_mission_helpers import as_json, holed_plan, make_plan, rectangle_plan

from agridrone.errors import AgridroneError
from agridrone.geo import LocalFrame
from missions.fence import (
    build_fence,
    build_rally,
    fence_plan,
    fence_polygons,
    fence_violations,
    simplify_outward,
    vertex_budget,
)
from missions.mission import (
    CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
    CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
    CMD_NAV_RALLY_POINT,
    CMD_NAV_WAYPOINT,
    MISSION_TYPE_FENCE,
    MISSION_TYPE_RALLY,
    build_mission,
    to_int7,
)


def _round_field(vertices: int, holes: int) -> dict:
    """A 150 m radius round field with many vertices and small square holes."""
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    shell = [(150 * math.cos(a), 150 * math.sin(a)) for a in angles]
    rings = []
    for k in range(holes):
        cx, cy = -90 + 45 * (k % 5), -60 + 45 * (k // 5)
        rings.append([(cx, cy), (cx + 8, cy), (cx + 8, cy + 8), (cx, cy + 8)])
    return as_json(make_plan(Polygon(shell, rings), station_local=(-170.0, -20.0),
                             passes_per_sortie=20))


def _local(plan, rings):
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    return [Polygon(frame.to_local(ring)) for ring in rings]


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
@pytest.mark.parametrize("plan", [rectangle_plan(), holed_plan(), _round_field(180, 3)])
def test_fence_contains_field_plus_margin_and_excludes_each_zone(plan, autopilot):
    fence = build_fence(plan, margin_m=10.0, autopilot=autopilot)
    assert all(it.mission_type == MISSION_TYPE_FENCE for it in fence)
    assert [it.seq for it in fence] == list(range(len(fence)))
    if autopilot == "px4":
        assert len(fence) <= 64
    inclusions, exclusions = fence_polygons(fence)
    (inclusion,) = _local(plan, inclusions)
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    field = frame.geometry_to_local(shape(plan["field"]))
    outline = shapely.union_all([Polygon(p.exterior) for p in field.geoms])
    assert inclusion.is_valid and inclusion.contains(outline.buffer(10.0))
    assert inclusion.contains(Point(frame.to_local([plan["station"]])[0]))
    zones = frame.geometry_to_local(shape(plan["no_spray"]))
    assert len(exclusions) == len(zones.geoms)
    for zone, polygon in zip(zones.geoms, _local(plan, exclusions), strict=True):
        assert polygon.is_valid and polygon.contains(zone)
        assert polygon.area < zone.area * 1.5  # outward, but not wildly


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
@pytest.mark.parametrize("plan", [rectangle_plan(), holed_plan(), _round_field(180, 3)])
def test_every_waypoint_is_inside_the_inclusion_and_outside_every_exclusion(plan, autopilot):
    fence = build_fence(plan, autopilot=autopilot)
    inclusions, exclusions = fence_polygons(fence)
    inside = [Polygon(r) for r in inclusions]
    outside = [Polygon(r) for r in exclusions]
    for index in range(1, len(plan["sorties"]) + 1):
        for items in build_mission(plan, index, autopilot=autopilot, end="land"):
            assert fence_violations(items, fence) == []
            flown = [it for it in items if it.command == CMD_NAV_WAYPOINT and it.seq > 0]
            flown = flown or items
            for item in flown:
                point = Point(item.lon_deg, item.lat_deg)
                assert any(p.contains(point) for p in inside)
                assert not any(p.intersects(point) for p in outside)


def test_fence_violations_names_a_waypoint_inside_a_no_spray_zone():
    plan = holed_plan()
    fence = build_fence(plan, autopilot="ardupilot")
    items = build_mission(plan, 1, autopilot="ardupilot")[0]
    lon, lat = shape(plan["no_spray"]).geoms[0].centroid.coords[0]
    bad = items[3].__class__(**{**items[3].__dict__, "x": to_int7(lat), "y": to_int7(lon)})
    assert fence_violations(items[:3] + [bad], fence) == [
        f"item {bad.seq} lies on or inside a no-spray exclusion polygon"]


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_fence_of_a_many_vertex_field_is_simplified_to_64_items(autopilot):
    """Both autopilots hold about 64 fence vertices (ArduPilot SITL refuses 69 in six
    polygons with NO_SPACE: missions/fence.py); the field's own 400 do not fit."""
    plan = _round_field(400, 6)
    assert len(build_fence(plan, autopilot=autopilot, max_vertices=10_000)) > 64
    fence = build_fence(plan, autopilot=autopilot)
    assert 50 <= len(fence) <= 64
    inclusions, exclusions = fence_polygons(fence)
    assert len(inclusions) == 1 and len(exclusions) == 6
    assert all(len(ring) >= 4 for ring in inclusions + exclusions)
    assert sum(len(ring) for ring in inclusions + exclusions) == len(fence)


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_more_zones_than_the_fence_holds_fence_the_largest_that_stay_off_the_route(autopilot):
    """16 zones need 68 vertices at 4 each, more than 64: the fence keeps its inclusion
    polygon and the zones it can hold without any simplified zone reaching over the route;
    each fenced zone still contains its zone, and the count left out is returned."""
    plan = _round_field(60, 16)
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    zones = list(frame.geometry_to_local(shape(plan["no_spray"])).geoms)
    fence, left_out = fence_plan(plan, autopilot=autopilot)
    assert len(fence) <= 64
    inclusions, exclusions = fence_polygons(fence)
    assert len(inclusions) == 1 and 1 <= len(exclusions) and left_out == 16 - len(exclusions)
    route = shapely.union_all([LineString(frame.to_local(np.asarray(leg["coords"])))
                               for s in plan["sorties"] for leg in s["legs"]])
    for polygon in _local(plan, exclusions):
        (zone,) = [zone for zone in zones if polygon.contains(zone)]
        # this synthetic route crosses some zones itself (the fence keeps those and the
        # breach check reports them); no zone's fence polygon reaches over it otherwise
        assert not polygon.intersects(route) or zone.buffer(0.06).intersects(route)
    assert build_fence(plan, autopilot=autopilot) == fence


def test_rally_point_is_the_station():
    plan = holed_plan()
    (rally,) = build_rally(plan, "px4")
    lon, lat = plan["station"]
    assert (rally.command, rally.mission_type) == (CMD_NAV_RALLY_POINT, MISSION_TYPE_RALLY)
    assert (rally.x, rally.y, rally.z) == (to_int7(lat), to_int7(lon), plan["inputs"]["alt_m"])


def test_fence_commands_and_vertex_counts():
    fence = build_fence(holed_plan(), autopilot="ardupilot")
    first = fence[0]
    assert first.command == CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
    n = int(first.param1)
    assert all(it.command == CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION for it in fence[:n])
    assert all(it.command == CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION and it.param1 == 4
               for it in fence[n:])


@st.composite
def star_polygons(draw):
    """Star-shaped polygons: vertices at distinct whole-degree angles, radii 20-100 m."""
    angles = sorted(draw(st.sets(st.integers(0, 359), min_size=5, max_size=40)))
    radii = draw(st.lists(st.integers(20, 100), min_size=len(angles), max_size=len(angles)))
    ring = [(r * math.cos(math.radians(a)), r * math.sin(math.radians(a)))
            for a, r in zip(angles, radii, strict=True)]
    polygon = shapely.geometry.polygon.orient(Polygon(ring), 1.0)
    if not polygon.is_valid or polygon.area < 100:
        return None
    return np.asarray(polygon.exterior.coords)[:-1]


@settings(max_examples=30, deadline=None)
@given(ring=star_polygons(), k=st.integers(min_value=4, max_value=20))
def test_simplify_outward_contains_the_input_and_fits_the_limit(ring, k):
    if ring is None:
        return
    result = simplify_outward(ring, k)
    simplified = Polygon(result)
    assert len(result) <= max(k, 3)
    assert simplified.is_valid
    assert simplified.buffer(1e-6).contains(Polygon(ring))


@settings(max_examples=50, deadline=None)
@given(counts=st.lists(st.integers(min_value=3, max_value=300), min_size=1, max_size=10),
       limit=st.integers(min_value=40, max_value=200))
def test_vertex_budget_fits_the_limit_and_keeps_4_per_polygon(counts, limit):
    floors = sum(min(n, 4) for n in counts)
    if floors > limit:
        with pytest.raises(AgridroneError):
            vertex_budget(counts, limit)
        return
    targets = vertex_budget(counts, limit)
    assert sum(targets) <= limit
    assert all(min(n, 4) <= t <= n for n, t in zip(counts, targets, strict=True))
    if sum(counts) <= limit:
        assert targets == counts


def test_plan_of_a_field_with_many_zones_fences_what_fits_and_says_so(tmp_path):
    """24 wells in a 6 ha field: `plan` writes its missions (the fence within 64 vertices,
    no waypoint breaching it) and warns how many zones the fence leaves out."""
    import json

    from click.testing import CliRunner

    from agridrone.cli import main

    frame = LocalFrame(73.0, 31.0)
    shell = [(-120.0, -120.0), (120.0, -120.0), (120.0, 130.0), (-120.0, 130.0)]
    holes = [[(x, y), (x + 5, y), (x + 5, y + 5), (x, y + 5)]
             for x in (-80.0, -40.0, 0.0, 40.0) for y in (-90.0, -50.0, -10.0, 30.0, 70.0, 100.0)]
    field = Polygon(shell, holes)
    path = tmp_path / "wells.geojson"
    geometry = shapely.geometry.mapping(frame.geometry_to_wgs84(field))
    path.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": geometry}))
    result = CliRunner().invoke(main, ["plan", str(path), "--no-isoxml", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "geofence leaves out" in result.output and "breach the geofence" not in result.output
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    fence, left_out = fence_plan(plan, autopilot="ardupilot")
    assert len(fence) <= 64 and 1 <= left_out < 24
    for sortie in plan["sorties"]:
        items = build_mission(plan, sortie["index"], autopilot="ardupilot")[0]
        assert fence_violations(items, fence) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_digitised_ring_of_thousands_of_vertices_is_simplified_outward(seed):
    """A 4,000-vertex wavy boundary with 3 cm digitising noise (as GIS exports give) is
    thinned before the exact outward steps: the result has at most 60 vertices, contains
    the ring and stays within 2.5 m of it."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * math.pi, 4000, endpoint=False)
    radius = 300 + 20 * np.sin(5 * angles + seed) + rng.normal(0, 0.03, angles.size)
    ring = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    out = simplify_outward(ring, 60)
    original, simplified = Polygon(ring), Polygon(out)
    assert len(out) <= 60 and simplified.is_valid and simplified.covers(original)
    assert original.hausdorff_distance(simplified) < 2.5
