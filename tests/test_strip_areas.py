"""The strip-area kernels (coverage.strips) give the exact area of a region under a union of
boxes, as shapely's exact overlay (no grid) and a plain-Python twin do: the layout's
misapplied and missed ground, its fill passes and the coverage metrics rest on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Polygon

from agridrone.coverage.metrics import _overlay_areas, coverage_metrics, spray_footprints
from agridrone.coverage.strips import (
    NO_RINGS,
    Boxes,
    boxes_areas,
    each_box_m2,
    oriented_rings,
    sprayed_m2,
    strip_boxes,
)
from tests.fieldgen import local_fields
from tests.naive import boxes_areas_plain, each_box_area_plain

ends = st.floats(-450.0, 450.0, allow_nan=False)
# box sides on a 0.5 m grid or from a few values, so that boxes touch, share sides, stack
# with and without gaps between them and repeat
side = st.one_of(ends, st.integers(-900, 900).map(lambda k: k / 2),
                 st.sampled_from([-120.0, -40.0, 0.0, 40.0, 120.0]))
box = st.tuples(side, side, side, side, st.sampled_from([1.0, 0.0]))


def as_boxes(drawn) -> Boxes:
    """Boxes from drawn (x, y, x', y', keep) tuples: sorted sides; keep 0 makes a box with
    no height (degenerate, as a pass with no width)."""
    left = np.array([min(d[0], d[2]) for d in drawn])
    right = np.array([max(d[0], d[2]) for d in drawn])
    bottom = np.array([min(d[1], d[3]) for d in drawn])
    top = np.array([max(d[1], d[3]) if d[4] else min(d[1], d[3]) for d in drawn])
    return Boxes(left, bottom, right, top)


def shapely_areas(region, boxes: Boxes) -> tuple[float, float]:
    """The region's area under the boxes' union and the union's area, by shapely's exact
    overlay (no grid)."""
    keep = (boxes.right > boxes.left) & (boxes.top > boxes.bottom)
    union = shapely.union_all(shapely.box(boxes.left[keep], boxes.bottom[keep],
                                          boxes.right[keep], boxes.top[keep]))
    return float(shapely.intersection(union, region).area), float(union.area)


def ring_lists(region) -> list[list[tuple[float, float]]]:
    """The oriented rings of ``region`` as lists of points, for the plain-Python twin."""
    rings = oriented_rings(region)
    return [list(zip(rings.xs[a:b].tolist(), rings.ys[a:b].tolist(), strict=True))
            for a, b in zip(rings.offsets[:-1], rings.offsets[1:], strict=True)]


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-9


@settings(max_examples=120, deadline=None)
@given(local_fields(), st.lists(box, min_size=0, max_size=25), st.booleans())
def test_area_under_boxes_is_shapelys_exact_overlay(field, drawn, flipped):
    """Fields with holes (given clockwise or counter-clockwise) under touching, overlapping,
    nested and degenerate boxes: the kernel, shapely's exact overlay and the twin agree."""
    region = field.reverse() if flipped else field
    boxes = as_boxes(drawn)
    inside, union = boxes_areas(oriented_rings(region), boxes)
    expected_inside, expected_union = shapely_areas(region, boxes)
    assert close(inside, expected_inside) and close(union, expected_union)
    plain_inside, plain_union = boxes_areas_plain(ring_lists(region), boxes.left, boxes.bottom,
                                                  boxes.right, boxes.top)
    assert close(inside, plain_inside) and close(union, plain_union)


@settings(max_examples=60, deadline=None)
@given(local_fields(), st.lists(box, min_size=1, max_size=15))
def test_area_under_each_box_is_shapelys(field, drawn):
    boxes = as_boxes(drawn)
    each = each_box_m2(oriented_rings(field), boxes)
    for k in range(len(drawn)):
        expected = shapely_areas(field, Boxes(*(v[k:k + 1] for v in
                                                (boxes.left, boxes.bottom, boxes.right, boxes.top))))[0]
        assert close(float(each[k]), expected)
    plain = each_box_area_plain(ring_lists(field), boxes.left, boxes.bottom, boxes.right, boxes.top)
    assert all(close(float(a), b) for a, b in zip(each, plain, strict=True))


def _union_m2(y, x0, x1, width_m) -> float:
    """Area (m²) of the union of the strips alone (no region)."""
    return boxes_areas(NO_RINGS, strip_boxes(y, x0, x1, width_m))[1]


def test_islands_in_holes_and_several_parts_count_once():
    """A multipolygon whose second part lies in the first one's hole, under one box over
    everything and under strips that only touch: the parts' areas, the hole left out."""
    outer = Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(20, 20), (20, 80), (80, 80), (80, 20)]])
    island = Polygon([(40, 40), (60, 40), (60, 60), (40, 60)])
    region = MultiPolygon([outer, island])
    assert boxes_areas(oriented_rings(region), Boxes(*np.array([[-1.0], [-1.0], [101.0], [101.0]])))[0] \
        == pytest.approx(100 * 100 - 60 * 60 + 20 * 20, abs=1e-9)
    y = np.arange(2.5, 100.0, 5.0)  # 20 strips 5 m wide, touching: the whole square
    x0, x1 = np.zeros(y.size), np.full(y.size, 100.0)
    assert sprayed_m2(oriented_rings(region), y, x0, x1, 5.0) == pytest.approx(region.area, abs=1e-9)
    assert _union_m2(y, x0, x1, 5.0) == pytest.approx(100 * 100, abs=1e-9)
    assert boxes_areas(NO_RINGS, strip_boxes(y, x0, x1, 5.0))[0] == 0.0


def test_stacked_strips_with_and_without_gaps():
    """Passes over the same length: touching strips make one rectangle, a gap between strips
    is not sprayed, and a strip inside another adds nothing."""
    x0, x1 = np.zeros(4), np.full(4, 10.0)
    assert _union_m2(np.array([0.5, 1.5, 4.5, 4.5]), x0, x1, 1.0) == pytest.approx(30.0, abs=1e-12)
    region = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    assert sprayed_m2(oriented_rings(region), np.array([0.5, 1.5, 4.5, 4.5]), x0, x1, np.array([1.0, 1.0, 1.0, 0.5])) \
        == pytest.approx(30.0, abs=1e-12)


def test_strips_of_passes_one_width_each():
    """A width per pass, ends given either way round, a pass with no length."""
    boxes = strip_boxes(np.array([0.0, 3.0, 9.0]), np.array([20.0, 1.0, 5.0]),
                        np.array([0.0, 30.0, 5.0]), np.array([4.0, 2.5, 5.0]))
    assert boxes.left.tolist() == [0.0, 1.0, 5.0] and boxes.right.tolist() == [20.0, 30.0, 5.0]
    assert boxes.bottom.tolist() == [-2.0, 1.75, 6.5] and boxes.top.tolist() == [2.0, 4.25, 11.5]
    # 20 × 4 + 29 × 2.5 less their overlap (19 × 0.25)
    assert _union_m2(np.array([0.0, 3.0]), np.array([0.0, 1.0]), np.array([20.0, 30.0]),
                    np.array([4.0, 2.5])) == pytest.approx(80.0 + 72.5 - 4.75, abs=1e-12)


def parallel_passes(heading_deg: float, ys: list[float], x0: list[float], x1: list[float]):
    """Spray lines (local metres) along compass ``heading_deg`` at offsets ``ys``."""
    h = math.radians(heading_deg)
    along, across = np.array([math.sin(h), math.cos(h)]), np.array([math.cos(h), -math.sin(h)])
    return [np.array([a * along + y * across, b * along + y * across])
            for y, a, b in zip(ys, x0, x1, strict=True)]


@settings(max_examples=40, deadline=None)
@given(local_fields(), st.floats(0, 180), st.lists(st.tuples(st.floats(-400, 400), st.floats(-450, 450),
                                                             st.floats(1, 300)), min_size=1, max_size=20),
       st.booleans())
def test_metrics_of_parallel_passes_are_the_exact_overlays(field, heading, rows, one_width):
    """Straight parallel passes at any heading, one width or one per pass: coverage, overlap
    and outside area as shapely's exact overlays of the flat-capped footprints give them."""
    lines = parallel_passes(heading, [r[0] for r in rows], [r[1] for r in rows],
                            [r[1] + r[2] for r in rows])
    widths = 5.0 if one_width else np.linspace(3.0, 7.0, len(rows))
    got = coverage_metrics(lines, field, widths)
    footprints = spray_footprints(lines, widths)
    union = shapely.union_all(footprints)
    inside = float(shapely.intersection(union, field).area)
    twice = max(0.0, float(shapely.area(shapely.intersection(footprints, field)).sum()) - inside)
    outside = float(shapely.difference(union, field).area)
    scale = 100.0 / field.area
    assert abs(got.coverage_pct - scale * inside) <= 1e-7
    assert abs(got.overlap_pct - scale * twice) <= 1e-7
    assert abs(got.outside_m2 - outside) <= 1e-9 * max(1.0, outside) + 1e-6


def test_bent_or_crossing_lines_are_measured_by_overlays():
    """A headland loop (a polyline) or passes that are not parallel: the overlay figures."""
    field = Polygon([(0, 0), (100, 0), (100, 60), (0, 60)])
    loop = np.array([(2.5, 2.5), (97.5, 2.5), (97.5, 57.5), (2.5, 57.5), (2.5, 2.5)])
    crossing = [np.array([(0.0, 30.0), (100.0, 30.0)]), np.array([(50.0, 0.0), (50.0, 60.0)])]
    for lines in ([loop, crossing[0]], crossing):
        inside, twice, outside = _overlay_areas(lines, field, 5.0)
        got = coverage_metrics(lines, field, 5.0)
        assert got.coverage_pct == 100.0 * inside / field.area
        assert got.overlap_pct == 100.0 * twice / field.area and got.outside_m2 == outside
    assert coverage_metrics(crossing, field, 5.0).overlap_pct == pytest.approx(100.0 * 25.0 / 6000.0)
