"""Routing that scales: the cached transit planner against the plain computation, its
safety (inside the field, outside the no-spray zones), the vectorised cell order against
the greedy loop, and boundary simplification within its tolerance."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agridrone.coverage import transit_planner
from agridrone.coverage.routing import _Greedy
from agridrone.coverage.transit import TOLERANCE_M, TransitPlanner
from agridrone.field import as_multipolygon, load_field
from agridrone.route import polyline_length
from agridrone.simplify import TOLERANCE_M as SIMPLIFY_TOL_M
from agridrone.simplify import simplify_field, simplify_region, vertex_count
from bench.scale_fields import scale_field
from tests.fieldgen import local_fields
from tests.naive import naive_transit_path

CLEARANCE_M = 1.0


def _allowed(polygon: shapely.Polygon):
    shell = shapely.Polygon(polygon.exterior)
    zones = [shapely.Polygon(r) for r in polygon.interiors]
    keep_out = shapely.union_all(zones).buffer(CLEARANCE_M, join_style="mitre")
    return as_multipolygon(shell.difference(keep_out)), shapely.union_all(zones), shell


def _points_inside(draw, region, count):
    minx, miny, maxx, maxy = region.bounds
    points = []
    while len(points) < count:
        p = np.array([draw(st.floats(minx, maxx)), draw(st.floats(miny, maxy))])
        if region.contains(shapely.Point(p)):
            points.append(p)
    return points


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.filter_too_much])
@given(polygon=local_fields(), data=st.data())
def test_transit_paths_equal_the_plain_shortest_path_and_stay_inside(polygon, data):
    allowed, zones, shell = _allowed(polygon)
    planner = TransitPlanner(allowed, as_multipolygon(shapely.convex_hull(shell)))
    station, *others = _points_inside(data.draw, allowed, 6)
    free = allowed.buffer(TOLERANCE_M + 1e-6)
    for p in others:
        for a, b in ((station, p), (p, station), (p, others[0])):  # trees, reversed, one-off
            path = planner.path(a, b)
            assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)
            line = shapely.LineString(path)
            assert free.covers(line), "transit leaves the field or enters a no-spray zone"
            assert not line.crosses(zones) and not line.within(zones)
            naive = naive_transit_path(allowed, a, b)
            assert naive is not None
            assert polyline_length(path) == pytest.approx(polyline_length(naive), abs=1e-6)
            assert np.array_equal(planner.path(a, b), path)  # remembered, not recomputed


def test_transit_paths_around_many_holes_equal_the_plain_ones(tmp_path):
    path = tmp_path / "holes.geojson"
    path.write_text(json.dumps(scale_field(20.0, 120, 20, seed=3)))
    field = load_field(path)
    planner = transit_planner(field)
    region = as_multipolygon(field.outer_local.difference(
        field.no_spray_local.buffer(CLEARANCE_M, join_style="mitre")))
    rng = np.random.default_rng(1)
    minx, miny, maxx, maxy = region.bounds
    points = []
    while len(points) < 7:
        p = rng.uniform([minx, miny], [maxx, maxy])
        if region.contains(shapely.Point(p)):
            points.append(p)
    bent = 0
    for a in points[:3]:
        for b in points[3:]:
            path = planner.path(a, b)
            naive = naive_transit_path(region, a, b)
            bent += len(path) > 2
            assert polyline_length(path) == pytest.approx(polyline_length(naive), abs=1e-6)
            assert shapely.buffer(region, TOLERANCE_M + 1e-6).covers(shapely.LineString(path))
    assert bent > 0, "no path had to go around a hole"


@settings(max_examples=30, deadline=None)
@given(starts=st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=2, max_size=4),
       cells=st.lists(st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
                               min_size=8, max_size=8), min_size=1, max_size=12))
def test_vectorised_cell_order_equals_the_greedy_loop(starts, cells):
    from agridrone.coverage.routing import CellTour

    tours = [[CellTour([(np.array(c[2 * k]), np.array(c[2 * k + 1]))], [5.0]) for k in range(4)]
             for c in cells]
    greedy = _Greedy(tours)  # shared by the starts: from the second on, its distance matrix
    for start in starts:
        chosen, deadhead = greedy.order(np.array(start))
        # the plain greedy loop: nearest entry of a cell not yet flown
        remaining, here, plain, total = list(range(len(tours))), np.array(start), [], 0.0
        while remaining:
            best = None
            for c in remaining:
                for tour in tours[c]:
                    d = float(np.hypot(*(tour.entry - here)))
                    if best is None or d < best[0]:
                        best = (d, c, tour)
            total += best[0]
            remaining.remove(best[1])
            plain.append(best[2])
            here = best[2].exit
        assert [id(t) for t in chosen] == [id(t) for t in plain]
        assert deadhead == total


def _hausdorff(a, b) -> float:
    return float(shapely.hausdorff_distance(a.boundary, b.boundary, densify=0.1))


@settings(max_examples=25, deadline=None)
@given(polygon=local_fields(), step=st.floats(0.2, 2.0), noise=st.floats(0.0, 0.08),
       seed=st.integers(0, 1000))
def test_simplification_stays_within_its_tolerance_inward_only(polygon, step, noise, seed):
    rng = np.random.default_rng(seed)
    dense = shapely.segmentize(polygon, step)
    rings = [np.asarray(r.coords)[:-1] for r in shapely.get_rings(dense)]
    rings = [r + rng.normal(0, noise, r.shape) for r in rings]
    detailed = shapely.make_valid(shapely.Polygon(rings[0], rings[1:]))
    original = as_multipolygon(detailed)
    found = simplify_region(original, SIMPLIFY_TOL_M)
    if found is None:  # refused: a corner too sharp to keep within the tolerance
        return  # (the planner then keeps the field as drawn)
    simple, error = found
    assert error <= SIMPLIFY_TOL_M
    assert vertex_count(simple) <= vertex_count(original)
    # inside the original: the edge moved inward only, no no-spray zone lost area
    assert original.buffer(1e-7).covers(simple), "the boundary moved outward"
    assert _hausdorff(simple, original) <= SIMPLIFY_TOL_M + 1e-6


def test_detailed_field_is_simplified_and_reported(tmp_path):
    path = tmp_path / "detailed.geojson"
    path.write_text(json.dumps(scale_field(100.0, 10000, 3)))
    field = load_field(path)
    simple = simplify_field(field)
    assert vertex_count(simple.boundary_local) < vertex_count(field.boundary_local) / 5
    assert any("simplified from" in w and "0.2 m" in w for w in simple.warnings)
    assert _hausdorff(simple.boundary_local, field.boundary_local) <= SIMPLIFY_TOL_M + 1e-6
    assert field.sprayable_local.buffer(1e-7).covers(simple.sprayable_local)


def test_sample_fields_are_planned_as_drawn():
    for name in ("lahore_rect_2ha", "sahiwal_L_with_obstacles", "faisalabad_irregular"):
        field = load_field(f"example:{name}")
        assert simplify_field(field) is field


@settings(max_examples=30, deadline=None)
@given(lon=st.floats(-179.0, 179.0), lat=st.floats(-80.0, 80.0), seed=st.integers(0, 100))
def test_local_frame_pipelines_equal_pyproj_from_crs(lon, lat, seed):
    from pyproj import Transformer

    from agridrone.geo import LocalFrame

    frame = LocalFrame(round(lon, 6), round(lat, 6))
    forward = Transformer.from_crs("EPSG:4326", frame.proj, always_xy=True)
    inverse = Transformer.from_crs(frame.proj, "EPSG:4326", always_xy=True)
    rng = np.random.default_rng(seed)
    lonlat = np.column_stack([frame.lon_0 + rng.uniform(-0.05, 0.05, 50),
                              np.clip(frame.lat_0 + rng.uniform(-0.05, 0.05, 50), -89, 89)])
    xy = frame.to_local(lonlat)
    assert np.array_equal(xy, np.column_stack(forward.transform(lonlat[:, 0], lonlat[:, 1])))
    assert np.array_equal(frame.to_wgs84(xy), np.column_stack(inverse.transform(xy[:, 0], xy[:, 1])))
