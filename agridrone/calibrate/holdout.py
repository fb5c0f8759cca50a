"""Predicted against logged energy of a flight: the profile's power model replayed along the
flight's own samples (speed, climb, pump, mass from the tank) while airborne."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agridrone.calibrate.flightlog import FlightLog
from agridrone.calibrate.mass import Tank, mass_along
from agridrone.calibrate.power import terms
from agridrone.drone import DroneProfile


@dataclass(frozen=True)
class EnergyCheck:
    """One flight: energy delivered by the pack while airborne, logged (∫ V I dt) and
    predicted by a profile (Wh), and the prediction's error (% of logged)."""

    flight: str
    logged_wh: float
    predicted_wh: float

    @property
    def error_pct(self) -> float:
        """(predicted - logged) / logged, %."""
        return 100.0 * (self.predicted_wh - self.logged_wh) / self.logged_wh


def check_energy(flight: FlightLog, drone: DroneProfile, tank: Tank, temp_c: float) -> EnergyCheck:
    """The energy ``drone``'s model predicts for ``flight`` (its samples, ``tank`` draining,
    air at ``temp_c`` °C) against what the log shows, both over the airborne samples."""
    air = flight.airborne
    dt = flight.dt_s * air
    t = terms(flight, drone, mass_along(flight, drone, tank), temp_c)
    model_w = t.power_w(drone.figure_of_merit, drone.drag_area_m2, drone.avionics_w)
    logged = float(np.sum(flight.voltage_v * flight.current_a * dt)) / 3600.0
    return EnergyCheck(flight.name, logged, float(np.sum(model_w * dt)) / 3600.0)
