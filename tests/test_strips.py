"""The strip union (coverage.strips) is the region GEOS's snap-rounded overlay of the
buffered pass lines gives: the coverage stages' figures and fill passes rest on it."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.coverage.strips import GRID_M, on_grid, strip_union


def snap_rounded_union(y, x0, x1, width_m) -> shapely.Geometry:
    """What the stages computed before: the pass lines buffered flat, snap-rounded union."""
    lines = shapely.linestrings(np.stack([np.column_stack([x0, y]), np.column_stack([x1, y])], axis=1))
    return shapely.union_all(shapely.buffer(lines, np.asarray(width_m) / 2, cap_style="flat"),
                             grid_size=GRID_M)


coordinate = st.floats(-300.0, 300.0, allow_nan=False)
passes = st.lists(st.tuples(coordinate, coordinate, st.floats(1.0, 80.0)), min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(passes, st.sampled_from([2.0, 4.5, 5.0, 6.3]), st.booleans())
def test_strip_union_is_the_snap_rounded_union(rows, swath_m, regular):
    """Passes one swath apart (touching strips, as the regular lines lay them) or at any
    heights (overlapping strips): the same region and area as the snap-rounded union."""
    y = np.array([r[0] for r in rows])
    if regular:
        y = np.round(y / swath_m) * swath_m + 0.1234
    x0 = np.array([r[1] for r in rows])
    x1 = x0 + np.array([r[2] for r in rows])
    ours = strip_union(y, x0, x1, swath_m)
    geos = snap_rounded_union(y, x0, x1, swath_m)
    assert ours.symmetric_difference(geos).area < 1e-9
    assert abs(ours.area - geos.area) <= 1e-9 * max(1.0, geos.area)


def test_strips_one_width_each_and_collapsed_strips():
    """A width per pass; passes shorter than the grid spray nothing in either; one strip
    stays off the grid in both."""
    y, x0, x1 = np.array([0.0, 3.0, 3.0]), np.array([0.0, 1.0, 50.0]), np.array([20.0, 30.0, 50.0004])
    widths = np.array([4.0, 2.5, 5.0])
    ours = strip_union(y, x0, x1, widths)
    assert ours.symmetric_difference(snap_rounded_union(y, x0, x1, widths)).area < 1e-9
    y, x0, x1 = np.array([1.0, 1.0]), np.array([2.0, 10.0]), np.array([2.0003, 10.0002])
    assert strip_union(y, x0, x1, 5.0).is_empty and snap_rounded_union(y, x0, x1, 5.0).area == 0
    one = strip_union(np.array([0.1234]), np.array([0.0]), np.array([1.0]), 2.0)  # GEOS: as is
    assert one.equals(snap_rounded_union(np.array([0.1234]), np.array([0.0]), np.array([1.0]), 2.0))


def test_on_grid_rounds_halves_up_like_geos():
    """GEOS rounds a coordinate halfway between grid points up, numpy's round to even."""
    assert on_grid(np.array([0.0025, -0.0025, 1.2344]))[[0, 2]].tolist() == [0.003, 1.234]
    assert on_grid(np.array([-0.0025]))[0] == -0.002


def test_strip_union_follows_the_passes_and_widths_asked_for():
    """Another width, or the same arrays changed in place: another union."""
    y, x0, x1 = np.array([0.0, 6.0]), np.array([0.0, 0.0]), np.array([10.0, 10.0])
    assert strip_union(y, x0, x1, 6.0).area == pytest.approx(120.0)
    assert strip_union(y, x0, x1, 5.0).area == pytest.approx(100.0)  # another width
    y[1] = 7.0
    assert strip_union(y, x0, x1, 6.0).bounds == pytest.approx((0.0, -3.0, 10.0, 10.0))
    assert strip_union(y, x0, x1, np.array([6.0, 4.0])).bounds == pytest.approx((0.0, -3.0, 10.0, 9.0))
