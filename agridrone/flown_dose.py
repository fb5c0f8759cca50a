"""The as-applied dose of flown sorties: litres per hectare on the ground from where the pump
really ran, how fast and how high the vehicle flew (its telemetry), through the same dose
raster as the plan's (:mod:`agridrone.dose`).

Every stretch between two telemetry samples (positions merged with pump reports, as the
as-applied map does, :mod:`agridrone.as_applied`) flown with the pump on lays the pump's
output × its maximum flow × the stretch's duration, spread along the stretch; its lateral
pattern is the drone's, as wide as the effective swath at the height flown (the profile's
limits table; the plan's swath for a profile without limits).
"""

from __future__ import annotations

import numpy as np

from agridrone.as_applied import FlownSortie, _timeline
from agridrone.dose import (
    DoseMetrics,
    DoseRaster,
    Pieces,
    default_cell_m,
    dose_metrics,
    dose_raster,
)
from agridrone.drone import DroneProfile
from agridrone.field import Field

SECONDS_PER_MINUTE = 60.0


def flown_pieces(logs: list[FlownSortie], field: Field, drone: DroneProfile, swath_m: float
                 ) -> Pieces:
    """The pump-on stretches of every sortie as dose pieces (local metres): litres per metre
    from the pump output over the stretch's time, pattern scale from the height flown."""
    parts: list[tuple[np.ndarray, ...]] = []
    for log in logs:
        times, points, output = _timeline(log, field.frame)
        if len(times) < 2:
            continue
        pos = np.array(sorted(set(log.positions)), dtype=np.float64)
        height = np.interp(times, pos[:, 0], pos[:, 3])
        on = output[:-1] > 0.0
        length = np.hypot(*np.diff(points, axis=0).T)
        keep = on & (length > 0.0)
        litres = output[:-1] * drone.pump_max_l_min / SECONDS_PER_MINUTE * np.diff(times)
        mid = 0.5 * (height[:-1] + height[1:])
        if drone.limits is None:
            scale = np.ones(len(mid))
        else:
            scale = np.array([drone.limits.swath_at(float(h)) for h in mid]) / swath_m
        a, b = points[:-1][keep], points[1:][keep]
        parts.append((a[:, 0], a[:, 1], b[:, 0], b[:, 1], litres[keep] / length[keep],
                      scale[keep]))
    if not parts:
        empty = np.empty(0)
        return Pieces(empty, empty, empty, empty, empty, empty)
    return Pieces(*(np.ascontiguousarray(np.concatenate(column)) for column in zip(*parts,
                                                                                  strict=True)))


def flown_dose(logs: list[FlownSortie], field: Field, drone: DroneProfile, swath_m: float,
               rate_l_ha: float) -> tuple[DoseRaster, DoseMetrics]:
    """The as-applied dose raster (L/ha) of the sorties flown and its figures at the rate
    ``rate_l_ha`` over the whole field's sprayable area."""
    pieces = flown_pieces(logs, field, drone, swath_m)
    raster = dose_raster(pieces, drone.pattern_for(swath_m), field.sprayable_local,
                         field.outer_local, default_cell_m(swath_m))
    return raster, dose_metrics(raster, rate_l_ha, pieces.liquid_l, field.sprayable_m2)
