"""Spray height from pass spacing: fly each pass where the drone's effective swath equals
the spacing it was laid at, so that its pattern is as wide as the spacing and neighbouring
passes sum flat.

The profile's ``[limits] swath_by_height`` table (:class:`agridrone.drone.OperatingLimits`)
gives the effective swath (m) at heights (m above the crop); it is inverted here, linearly
between its points, and the height clamped to the table's range and to
``max_spray_height_m``. A profile without limits flies every pass at the plan's height with
the pattern of its swath (the behaviour before heights followed the spacing).

Energy: the sorties' energy model (:mod:`agridrone.sorties`) climbs to and descends from the
plan's height and does not model the steps between pass heights. They are small: the t30's
table spans 1.5 m, so one step lifts at most 66.5 kg × 9.81 m/s² × 1.5 m = 0.27 Wh (about
0.5 Wh drawn at its rotors' efficiency) against a 1,500 Wh pack, and a sortie steps only
where a cell of another spacing begins (most fields fly one height: bench/dose_bench.py).
"""

from __future__ import annotations

import numpy as np

from agridrone.drone import DroneProfile, OperatingLimits

HEIGHT_DECIMALS = 2  # heights are rounded to 1 cm so that equal spacings give equal items


def height_for_swath(limits: OperatingLimits, swath_m: float) -> float:
    """Height (m above the crop) at which the effective swath is ``swath_m`` (m): the
    inverse of :meth:`OperatingLimits.swath_at`, clamped to the table's heights and to
    ``max_spray_height_m``; the lowest height of a flat stretch of the table."""
    points = limits.swath_by_height
    top = min(points[-1][0], limits.max_spray_height_m)
    if swath_m <= points[0][1]:
        height = points[0][0]
    else:
        height = points[-1][0]
        for (h0, w0), (h1, w1) in zip(points, points[1:], strict=False):
            if w1 > w0 and w0 <= swath_m <= w1:
                height = h0 + (h1 - h0) * (swath_m - w0) / (w1 - w0)
                break
    return round(float(min(max(height, points[0][0]), top)), HEIGHT_DECIMALS)


def swath_range_m(limits: OperatingLimits) -> tuple[float, float]:
    """The narrowest and widest effective swath (m) the drone can fly within its limits."""
    return limits.swath_by_height[0][1], limits.swath_at(
        min(limits.swath_by_height[-1][0], limits.max_spray_height_m))


def pass_heights(drone: DroneProfile, spacing_m: np.ndarray, alt_m: float) -> np.ndarray:
    """Each pass's spray height (m above the crop), by pass index: where the effective swath
    equals its spacing (``spacing_m``, m), or ``alt_m`` for every pass when the profile has
    no limits."""
    if drone.limits is None:
        return np.full(len(spacing_m), float(alt_m))
    return np.array([height_for_swath(drone.limits, float(s)) for s in spacing_m],
                    dtype=np.float64)


def pattern_scales(drone: DroneProfile, heights_m: np.ndarray, swath_m: float) -> np.ndarray:
    """Each pass's pattern width against the pattern at ``swath_m`` (m): the effective swath
    at its height over ``swath_m``; one for every pass when the profile has no limits. (A
    measured pattern is taken to widen in proportion to the effective swath.)"""
    if drone.limits is None:
        return np.ones(len(heights_m))
    return np.array([drone.limits.swath_at(float(h)) / swath_m for h in heights_m])
