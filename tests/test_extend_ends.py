"""Pass ends run on to the edge they meet head-on (coverage.swaths._extend_ends): the
vectorised form and the one-line form equal the plain reference (tests/naive.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from agridrone.coverage.swaths import (
    _extend_ends,
    _fill_candidates,
    clip_rings,
    clip_scanlines,
    flatten_rings,
    regular_line_ys,
)
from tests.fieldgen import local_fields
from tests.naive import extend_ends_plain


@settings(max_examples=60, deadline=None)
@given(local_fields(), st.floats(0.0, 180.0), st.floats(2.0, 9.0), st.floats(0.5, 6.0),
       st.integers(0, 10_000))
def test_extended_ends_equal_the_plain_reference(field, heading, swath_m, margin_m, pick):
    """On every regular line of a random field with holes, and on one line alone (as a
    re-laid or added pass is extended)."""
    inner, outer = clip_rings(field, heading, margin_m)
    lines = regular_line_ys(inner, swath_m)
    if lines.size == 0:
        return
    index, x0, x1 = clip_scanlines(inner, lines)
    o_line, o_x0, o_x1 = clip_scanlines(outer, lines)
    spans = list(zip(o_line.tolist(), o_x0.tolist(), o_x1.tolist(), strict=True))
    got = _extend_ends(outer, lines, index, x0, x1)
    want = extend_ends_plain(spans, index.tolist(), x0.tolist(), x1.tolist())
    assert got[0].tolist() == want[0] and got[1].tolist() == want[1]

    one = lines[pick % lines.size : pick % lines.size + 1]
    index, x0, x1 = clip_scanlines(inner, one)
    spans = [(0, a, b) for a, b in zip(*clip_scanlines(outer, one)[1:], strict=True)]
    got = _extend_ends(outer, one, index, x0, x1)
    want = extend_ends_plain(spans, index.tolist(), x0.tolist(), x1.tolist())
    assert got[0].tolist() == want[0] and got[1].tolist() == want[1]


def test_passes_sharing_an_interval_and_a_line_outside_the_region():
    """Two passes inside one unshrunk interval keep their facing ends; a line the
    unshrunk region misses keeps its passes as they are."""
    outer = flatten_rings(box(0.0, 0.0, 100.0, 10.0))
    lines = np.array([5.0, 20.0])
    got = _extend_ends(outer, lines, np.array([0, 0, 1]), np.array([3.0, 60.0, 3.0]),
                       np.array([40.0, 97.0, 9.0]))
    assert got[0].tolist() == [0.0, 60.0, 3.0] and got[1].tolist() == [40.0, 100.0, 9.0]


@settings(max_examples=60, deadline=None)
@given(local_fields(), st.floats(0.0, 180.0), st.floats(2.0, 9.0), st.floats(0.5, 6.0),
       st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_fill_candidates_equal_one_line_at_a_time(field, heading, swath_m, margin_m, u, v):
    """The fill passes weighed for a piece (all lines clipped in one call) are the ones
    clipping each line alone and running each interval's ends on by itself give: the same
    heights and ends, in the same order, for a random piece of a random field."""
    inner, outer = clip_rings(field, heading, margin_m)
    if inner.ys.size == 0:
        return
    lo_x, hi_x = float(inner.xs.min()), float(inner.xs.max())
    lo_y, hi_y = float(inner.ys.min()), float(inner.ys.max())
    px0 = lo_x + (hi_x - lo_x) * min(u, v)
    px1 = lo_x + (hi_x - lo_x) * max(u, v)
    py0 = lo_y + (hi_y - lo_y) * min(u, v) * 0.5
    py1 = py0 + (hi_y - lo_y) * 0.3
    half = swath_m / 2
    want = []
    for y in np.arange(py0 - half, py1 + half, swath_m / 10):
        line = np.array([y])
        _, cx0, cx1 = clip_scanlines(inner, line)
        for a, b in zip(cx0.tolist(), cx1.tolist(), strict=True):
            a2, b2 = max(a, px0 - half), min(b, px1 + half)
            if b2 - a2 < swath_m:
                continue
            ext = _extend_ends(outer, line, np.zeros(1, np.int64), np.array([a]), np.array([b]))
            want.append((float(y), float(ext[0][0]) if a2 == a else a2,
                         float(ext[1][0]) if b2 == b else b2))
    assert _fill_candidates(inner, outer, px0, py0, px1, py1, swath_m) == want
