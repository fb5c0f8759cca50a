"""Moving stations: a drone's region flown from up to ``moves + 1`` stops, its station (pad,
refill tank) driving between them.

The region is cut across its long axis into strips (:func:`agridrone.ops.regions.cut_strips`),
each planned from the pad nearest its own work, so the far side of a big region no longer
costs a long dead-head each sortie. Each strip but the last holds a whole number of tank
loads (less a small slack for the passes' own edges), so cutting adds no partly filled sortie
except in the last strip. The drive between stops follows the field's edge (the shorter way
round) when the pads are on it, or runs straight between given candidate points (a road).
"""

from __future__ import annotations

import numpy as np
import shapely

from agridrone.field import Field

TANK_SLACK = 0.03  # a strip holds this share of a tank less than its whole loads
ON_EDGE_M = 1.0  # a pad this close to the field's edge drives along it


def strip_shares(liquid_l: float, tank_l: float, stops: int) -> list[float] | None:
    """Shares (0..1, summing to 1) of the region's sprayable area for ``stops`` strips, each
    but the last holding a whole number of tank loads of ``tank_l`` litres (of ``liquid_l``
    in all); None when the region has too little liquid for that many stops."""
    loads = liquid_l / tank_l
    each = max(1, round(loads / stops))
    firsts = [each * tank_l * (1.0 - TANK_SLACK)] * (stops - 1)
    rest = liquid_l - sum(firsts)
    if rest < 0.5 * tank_l:
        return None
    return [v / liquid_l for v in firsts] + [rest / liquid_l]


def drive_m(field: Field, a_xy: np.ndarray, b_xy: np.ndarray) -> float:
    """Distance (m) the station drives from pad ``a_xy`` to pad ``b_xy`` (local metres):
    along the field's outer edge, the shorter way round, when both lie on it; else straight."""
    ring = max(field.outer_local.geoms, key=lambda p: p.area).exterior
    a, b = shapely.Point(a_xy), shapely.Point(b_xy)
    if ring.distance(a) > ON_EDGE_M or ring.distance(b) > ON_EDGE_M:
        return float(np.hypot(*(np.asarray(b_xy) - np.asarray(a_xy))))
    along = abs(ring.project(a) - ring.project(b))
    return float(min(along, ring.length - along))
