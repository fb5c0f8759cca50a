"""Where a sortie's low-battery failsafe should fire: the charge to fly home from its farthest
point plus the landing reserve, and how much room the plan leaves above it.

The autopilot's low failsafe (ArduPilot BATT_LOW_MAH) compares the charge left with one
threshold for the whole sortie. It must be high enough to bring the drone home from anywhere
on the sortie (the farthest point, flown straight home at transit speed with the sortie's
full load and landed) and low enough never to fire on a sortie flown as planned. Along the
route the charge left only falls; the lowest it gets before the return starts is at the end
of the last spray leg: the landing SoC plus the return from there. The planner keeps
``FAILSAFE_MARGIN_PCT`` of capacity between that and the threshold; where the farthest-point
rule would break it (a sortie whose last pass ends near the station but that flew far out),
the threshold is lowered to keep the margin and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agridrone.drone import DroneProfile
from agridrone.energy import FAILSAFE_MARGIN_PCT, EnergyModel
from agridrone.geo import LocalFrame


@dataclass(frozen=True)
class SortieFailsafe:
    """The low failsafe of one sortie, in percent of capacity.

    home_far_pct: charge to fly home from the farthest point and land; low_pct: the threshold
    (remaining charge) the vehicle gets; lowest_pct: the lowest charge the plan expects (at
    touchdown); capped: True when ``low_pct`` is below reserve + home_far_pct to keep the
    margin.
    """

    home_far_pct: float
    low_pct: float
    lowest_pct: float
    capped: bool

    @property
    def margin_pct(self) -> float:
        """Planned lowest charge above the threshold (% of capacity)."""
        return self.lowest_pct - self.low_pct


def _home_pct(model: EnergyModel, start_xy: np.ndarray, station_xy: np.ndarray,
              load_l: float, speed_m_s: float, alt_m: float) -> float:
    """Charge (% of capacity) to fly straight from ``start_xy`` to the station at
    ``speed_m_s`` carrying ``load_l`` litres and land from ``alt_m``."""
    xy = np.array([start_xy, station_xy], dtype=np.float64)
    pieces = model.leg(xy, speed_m_s, 0.0, False)
    state = model.fly(model.start(load_l), pieces)
    state = model.fly(state, model.landing(alt_m))
    return 100.0 * state.charge_ah / model.capacity_ah


def sortie_failsafe(plan: dict, drone: DroneProfile, sortie_number: int) -> SortieFailsafe:
    """The low failsafe of sortie ``sortie_number`` (1-based) of ``plan`` (plan.json dict)."""
    inputs = plan["inputs"]
    sortie = plan["sorties"][sortie_number - 1]
    model = EnergyModel.for_drone(drone, float(inputs["temp_c"]))
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    station = frame.to_local(np.asarray([plan["station"]], dtype=np.float64))[0]
    points = [frame.to_local(np.asarray(leg["coords"], dtype=np.float64)) for leg in sortie["legs"]]
    everything = np.concatenate(points)
    far = everything[int(np.argmax(np.hypot(*(everything - station).T)))]
    speed = float(inputs["transit_speed_m_s"])
    alt = float(inputs["transit_alt_m"] or inputs["alt_m"])
    load = float(sortie["load_l"])
    home_far = _home_pct(model, far, station, load, speed, alt)
    lowest = float(sortie["soc_landing_pct"])
    wanted = drone.battery.reserve_pct + home_far
    low = max(min(wanted, lowest - FAILSAFE_MARGIN_PCT), drone.battery.reserve_pct)
    return SortieFailsafe(home_far, low, lowest, low < wanted)
