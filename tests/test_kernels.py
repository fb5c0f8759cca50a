"""The numba kernels agree with plain-Python and shapely implementations of the same computation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.coverage.kernels import _heading_costs
from agridrone.coverage.swaths import clip_scanlines, flatten_rings, rotated
from tests.fieldgen import local_fields
from tests.naive import clip_lines_plain, clip_lines_shapely, heading_terms_plain


def _rings_as_lists(region) -> list[list[tuple[float, float]]]:
    return [list(ring.coords) for poly in [region] for ring in [poly.exterior, *poly.interiors]]


@settings(max_examples=60, deadline=None)
@given(local_fields(), st.floats(0, 180), st.floats(2, 12))
def test_clip_kernel_matches_plain_python_and_shapely(field, heading, spacing):
    rings = rotated(flatten_rings(field), heading)
    ys = rings.ys
    line_ys = np.arange(ys.min() + 1e-3, ys.max(), spacing)
    line_index, x0, x1 = clip_scanlines(rings, line_ys)
    kernel = list(zip(line_index.tolist(), x0.tolist(), x1.tolist(), strict=True))

    ring_lists = [
        list(zip(rings.xs[a:b].tolist(), rings.ys[a:b].tolist(), strict=True))
        for a, b in zip(rings.offsets[:-1], rings.offsets[1:], strict=True)
    ]
    plain = clip_lines_plain(ring_lists, line_ys.tolist())
    assert len(kernel) == len(plain)
    for (k1, a1, b1), (k2, a2, b2) in zip(kernel, plain, strict=True):
        assert k1 == k2 and abs(a1 - a2) < 1e-9 and abs(b1 - b2) < 1e-9

    from shapely.geometry import Polygon

    region = Polygon(ring_lists[0], ring_lists[1:])
    reference = clip_lines_shapely(region, line_ys.tolist())
    assert len(kernel) == len(reference)
    for (k1, a1, b1), (k2, a2, b2) in zip(kernel, reference, strict=True):
        assert k1 == k2
        assert abs(a1 - a2) < 1e-3 and abs(b1 - b2) < 1e-3  # same passes within 1 mm


@settings(max_examples=30, deadline=None)
@given(local_fields(), st.lists(st.floats(0, 180), min_size=1, max_size=8), st.floats(3, 10))
def test_heading_cost_kernel_matches_plain_python(field, headings, spacing):
    rings = flatten_rings(field)
    spray, passes, changes = _heading_costs(
        rings.xs, rings.ys, rings.offsets, np.array(headings), spacing, 1e-3, 2.5
    )
    ring_lists = [list(r.coords) for r in [field.exterior, *field.interiors]]
    for i, heading in enumerate(headings):
        s, p, c = heading_terms_plain(ring_lists, heading, spacing, 1e-3, 2.5)
        assert abs(spray[i] - s) < 1e-6
        assert passes[i] == p
        assert changes[i] == c


def test_clip_kernel_on_a_square_with_a_hole():
    from shapely.geometry import Polygon

    square = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (6, 4), (6, 6), (4, 6)]])
    line_index, x0, x1 = clip_scanlines(flatten_rings(square), np.array([2.0, 5.0]))
    assert line_index.tolist() == [0, 1, 1]
    assert np.allclose(x0, [0, 0, 6]) and np.allclose(x1, [10, 4, 10])
