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
MERGE_OFFSET_M = 0.05  # samples this close to the straight line through a run merge into it


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
        parts.append(_merged(points, keep, litres, scale))
    if not parts:
        empty = np.empty(0)
        return Pieces(empty, empty, empty, empty, empty, empty)
    return Pieces(*(np.ascontiguousarray(np.concatenate(column)) for column in zip(*parts,
                                                                                  strict=True)))


def _merged(points: np.ndarray, keep: np.ndarray, litres: np.ndarray, scale: np.ndarray
            ) -> tuple[np.ndarray, ...]:
    """Pieces of consecutive kept stretches merged while every sample between stays within
    MERGE_OFFSET_M of the straight line from the first to the last (telemetry jitter would
    otherwise leave wedge-shaped gaps and overlaps between square-cut pieces); a merged
    piece lays the stretches' litres over its length, at their length-weighted scale."""
    out: list[tuple[float, ...]] = []
    i, n = 0, len(keep)
    while i < n:
        if not keep[i]:
            i += 1
            continue
        j = i + 1
        while j < n and keep[j] and _straight(points[i:j + 2]):
            j += 1
        a, b = points[i], points[j]
        length = float(np.hypot(*(b - a)))
        lengths = np.hypot(*np.diff(points[i:j + 1], axis=0).T)
        out.append((a[0], a[1], b[0], b[1], float(litres[i:j].sum()) / length,
                    float((scale[i:j] * lengths).sum() / lengths.sum())))
        i = j
    return tuple(np.array(column, dtype=np.float64) for column in zip(*out, strict=True)) \
        if out else tuple(np.empty(0) for _ in range(6))


def _straight(xy: np.ndarray) -> bool:
    """True when every point of ``xy`` lies within MERGE_OFFSET_M of the line from the first
    to the last and the run goes forward."""
    d = xy[-1] - xy[0]
    length = float(np.hypot(*d))
    if length <= 0.0:
        return False
    rel = xy - xy[0]
    along = rel @ d / length
    across = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0]) / length
    return bool(np.all(across <= MERGE_OFFSET_M) and np.all(np.diff(along) > 0.0))


def flown_dose(logs: list[FlownSortie], field: Field, drone: DroneProfile, swath_m: float,
               rate_l_ha: float) -> tuple[DoseRaster, DoseMetrics]:
    """The as-applied dose raster (L/ha) of the sorties flown and its figures at the rate
    ``rate_l_ha`` over the whole field's sprayable area."""
    pieces = flown_pieces(logs, field, drone, swath_m)
    raster = dose_raster(pieces, drone.pattern_for(swath_m), field.sprayable_local,
                         field.outer_local, default_cell_m(swath_m))
    return raster, dose_metrics(raster, rate_l_ha, pieces.liquid_l, field.sprayable_m2)
