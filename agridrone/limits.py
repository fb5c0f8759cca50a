"""The drone profile's operating limits applied to a plan's spray height, speed, pass spacing
and wind (:class:`agridrone.drone.OperatingLimits`). Profiles without limits pass unchecked."""

from __future__ import annotations

from agridrone.drone import DroneProfile
from agridrone.errors import AgridroneError

SWATH_TOLERANCE_M = 0.01


def default_swath_m(drone: DroneProfile, alt_m: float) -> float:
    """Pass spacing (m) when none is given: the profile's swath, no wider than its effective
    swath at ``alt_m`` metres above the crop."""
    if drone.limits is None:
        return drone.swath_width_m
    return min(drone.swath_width_m, drone.limits.swath_at(alt_m))


def check_spray_limits(drone: DroneProfile, *, alt_m: float, speed_m_s: float, swath_m: float,
                       wind: tuple[float, float] | None = None) -> list[str]:
    """Refuse (AgridroneError) a spray height (m above the crop), spray speed (m/s) or wind
    (speed m/s, from degrees) beyond ``drone``'s limits; return notes for a pass spacing
    (m) wider than the effective swath at that height (strips left unsprayed)."""
    limits = drone.limits
    if limits is None:
        return []
    if alt_m > limits.max_spray_height_m:
        raise AgridroneError(
            f"spray height {alt_m:g} m is above the {drone.name}'s limit of "
            f"{limits.max_spray_height_m:g} m: the spray drifts off the swath (lower --alt)")
    if speed_m_s > limits.max_spray_speed_m_s:
        raise AgridroneError(
            f"spray speed {speed_m_s:g} m/s is above the {drone.name}'s limit of "
            f"{limits.max_spray_speed_m_s:g} m/s (lower --speed)")
    if wind is not None and wind[0] > limits.max_wind_m_s:
        raise AgridroneError(
            f"wind {wind[0]:g} m/s is above the {drone.name}'s spraying limit of "
            f"{limits.max_wind_m_s:g} m/s: do not spray now")
    effective = limits.swath_at(alt_m)
    if swath_m > effective + SWATH_TOLERANCE_M:
        return [f"passes {swath_m:g} m apart but the {drone.name} sprays {effective:.1f} m wide "
                f"at {alt_m:g} m: strips between the passes get less than the planned dose"]
    return []
