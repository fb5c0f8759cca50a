"""The drone's mass along a flight: empty airframe, battery and what is left in the tank.

The tank drains at the pump's flow while the pump runs. The flow comes from the plan or
the operator (L/min); without one, a full tank is taken to empty over the flight's pump
time (the way a tank-limited sortie flies). A sortie starts with what it sprays (capped at
the tank), as agridrone loads it. A tank-level sensor, when the log has one, is used as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agridrone.calibrate.flightlog import FlightLog
from agridrone.drone import LIQUID_DENSITY_KG_L, DroneProfile


@dataclass(frozen=True)
class Tank:
    """How the tank drains: ``liquid_l`` litres at take-off, ``flow_l_min`` L/min while the
    pump runs."""

    liquid_l: float
    flow_l_min: float


def tank_for(flight: FlightLog, drone: DroneProfile, flow_l_min: float | None) -> Tank:
    """The tank of ``flight``: at ``flow_l_min`` (None: a full tank over the pump time) the
    liquid sprayed, capped at the drone's tank."""
    pump_min = flight.spray_time_s() / 60.0
    if flow_l_min is None:
        return Tank(drone.tank_l, drone.tank_l / pump_min if pump_min > 0 else 0.0)
    return Tank(min(drone.tank_l, flow_l_min * pump_min), flow_l_min)


def liquid_along(flight: FlightLog, tank: Tank) -> np.ndarray:
    """Litres in the tank at each sample: the sensor's when logged, else the take-off load
    less flow × pump time so far (never below zero)."""
    if flight.tank_l is not None:
        return np.asarray(flight.tank_l, dtype=np.float64)
    pumped_s = np.concatenate(([0.0], np.cumsum((flight.dt_s * flight.spraying)[:-1])))
    return np.maximum(tank.liquid_l - tank.flow_l_min * pumped_s / 60.0, 0.0)


def mass_along(flight: FlightLog, drone: DroneProfile, tank: Tank) -> np.ndarray:
    """Mass (kg) at each sample: the profile's empty mass and battery plus the liquid."""
    return drone.empty_mass_kg + drone.battery.mass_kg + liquid_along(flight, tank) * LIQUID_DENSITY_KG_L
