"""Sample fields and a hypothesis strategy for random valid field polygons with holes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import strategies as st
from shapely.geometry import Polygon

from agridrone.examples import FIELD_DIR

ROOT = Path(__file__).resolve().parents[1]
FIELDS = FIELD_DIR
SAMPLE_FIELDS = {
    "lahore_rect_2ha": (FIELDS / "lahore_rect_2ha.geojson", ()),
    "faisalabad_irregular": (
        FIELDS / "faisalabad_irregular.geojson",
        (FIELDS / "faisalabad_irregular_nospray.geojson",),
    ),
    "sahiwal_L_with_obstacles": (FIELDS / "sahiwal_L_with_obstacles.geojson", ()),
}


@st.composite
def local_fields(draw) -> Polygon:
    """A field-like polygon in local metres: a star-shaped shell of 4–10 vertices spread
    around its centre, 200–400 m in radius (10–50 ha; a field much smaller than 100 swaths across loses more than 1 % at the slanted ends of its passes), with up to two convex holes (trees, wells, houses) well inside it."""
    radius = draw(st.floats(200, 400))
    n = draw(st.integers(4, 10))
    # vertices spread around the centre (each within ±30 % of its even share of the turn),
    # so the shell is a field rather than a sliver
    step = 2 * math.pi / n
    jitter = np.array(draw(st.lists(st.floats(-0.3, 0.3), min_size=n, max_size=n)))
    angles = draw(st.floats(0, step)) + step * (np.arange(n) + jitter)
    radii = np.array(draw(st.lists(st.floats(0.75 * radius, radius), min_size=n, max_size=n)))
    shell = Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))
    holes = []
    for _ in range(draw(st.integers(0, 2))):
        r = draw(st.floats(4, 15))
        cx = draw(st.floats(-0.5 * radius, 0.5 * radius))
        cy = draw(st.floats(-0.5 * radius, 0.5 * radius))
        k = draw(st.integers(4, 10))
        turn = draw(st.floats(0, math.pi))
        ring = [(cx + r * math.cos(turn + 2 * math.pi * i / k), cy + r * math.sin(turn + 2 * math.pi * i / k))
                for i in range(k)]
        hole = Polygon(ring)
        if shell.buffer(-15).contains(hole) and all(hole.distance(h) > 15 for h in holes):
            holes.append(hole)
    return Polygon(shell.exterior.coords, [h.exterior.coords for h in holes])
