"""Cells of the boustrophedon decomposition: extra passes (under top and bottom edges)
join the cells as the plain reference (tests/naive.py) joins them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agridrone.coverage.decomposition import decompose
from agridrone.coverage.swaths import Passes
from tests.naive import attach_extras_plain

regular_pass = st.tuples(st.integers(0, 8), st.floats(0.0, 60.0), st.floats(1.0, 40.0))
extra_pass = st.tuples(st.floats(-6.0, 45.0), st.floats(0.0, 60.0), st.floats(1.0, 40.0))


def _passes(regular, extras, spacing_m=5.0) -> Passes:
    """Regular passes on rows one spacing apart (several per row), extras at any height
    (also exactly on a row's height), ordered by y then x as the swath generator orders."""
    y = [row * spacing_m for row, _, _ in regular] + [y for y, _, _ in extras]
    x0 = [x for _, x, _ in regular] + [x for _, x, _ in extras]
    x1 = [x + w for _, x, w in regular] + [x + w for _, x, w in extras]
    rows = [row for row, _, _ in regular] + [-1] * len(extras)
    order = np.lexsort((x0, y))
    return Passes(np.asarray(y)[order], np.asarray(x0)[order], np.asarray(x1)[order],
                  np.asarray(rows, dtype=np.int64)[order])


@settings(max_examples=200, deadline=None)
@given(st.lists(regular_pass, min_size=1, max_size=25), st.lists(extra_pass, max_size=10),
       st.booleans())
def test_extras_join_the_cells_the_reference_joins(regular, extras, on_rows):
    if on_rows:  # extras at a row's own height: ties between "below" and "above"
        extras = [(round(y / 5.0) * 5.0, x, w) for y, x, w in extras]
    passes = _passes(regular, extras)
    cells = decompose(passes)
    regular_cells = [[i for i in cell if passes.row[i] >= 0] for cell in cells]
    regular_cells = [c for c in regular_cells if c]
    expected = attach_extras_plain(passes.y.tolist(), passes.x0.tolist(), passes.x1.tolist(),
                                   passes.row.tolist(), regular_cells)
    assert cells == expected
    assert sorted(i for cell in cells for i in cell) == list(range(len(passes.y)))
