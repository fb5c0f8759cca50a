"""Route legs' lengths."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.route import polyline_length, polyline_lengths

polylines = st.lists(st.tuples(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4)), min_size=2, max_size=5).map(
    lambda pts: np.array(pts, dtype=np.float64))


@settings(max_examples=80, deadline=None)
@given(xys=st.lists(polylines, max_size=8))
def test_polyline_lengths_are_polyline_length_bit_for_bit(xys):
    # the sortie splitter's tank loads follow from these sums: they must not move by an ulp
    assert polyline_lengths(xys) == [polyline_length(xy) for xy in xys]


def test_polyline_lengths_hand_computed():
    assert polyline_lengths([np.array([[0.0, 0.0], [3.0, 4.0]]),
                             np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 2.0]])]) == [5.0, 4.0]
