"""Transit paths: what `TransitPlanner.expect` tells in advance changes no path."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

from agridrone.coverage.transit import TransitPlanner


def _planner() -> TransitPlanner:
    """An L-shaped field (100 m arms) with a square pond in the long arm."""
    field = shapely.Polygon([(0, 0), (100, 0), (100, 30), (30, 30), (30, 100), (0, 100)])
    pond = shapely.box(50, 10, 60, 20)
    allowed = MultiPolygon([field.difference(pond)])
    hull = MultiPolygon([shapely.convex_hull(field).difference(pond)])
    return TransitPlanner(allowed, hull)


def test_expected_paths_are_the_paths_found_without():
    rng = np.random.default_rng(3)
    starts = np.vstack([rng.uniform([0, 0], [100, 30], (40, 2)), rng.uniform([0, 30], [30, 100], (40, 2))])
    goal = np.array([95.0, 5.0])
    told, plain = _planner(), _planner()
    told.expect(starts, goal)
    bends = 0
    for a in starts:
        with_expect, without = told.path(a, goal), plain.path(a, goal)
        assert with_expect.tobytes() == without.tobytes()
        bends += len(without) > 2
    assert 0 < bends < len(starts)  # both straight and bent paths were asked for
