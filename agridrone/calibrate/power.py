"""The energy model's power terms along a logged flight (agridrone.energy's formulas).

Electrical power at the pack's terminals = (1/FM) × induced + CdA × drag + avionics +
pump, with, per sample, induced = (m g)^1.5 / sqrt(2 ρ A) + m g max(climb, 0) +
m max(dv/dt, 0) v (W, the rotors' ideal power: hover, climbing, speeding up) and drag =
½ ρ v³ (W per m² of drag area); descent is priced at hover power, as the planner does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from agridrone.calibrate.flightlog import FlightLog
from agridrone.drone import DroneProfile
from agridrone.energy import G_M_S2, air_density_kg_m3


@dataclass(frozen=True)
class Terms:
    """Per-sample power terms of a flight: induced (W, times 1/FM), drag (W/m², times
    CdA), pump (W, the profile's pump power while it runs)."""

    induced: np.ndarray
    drag: np.ndarray
    pump: np.ndarray

    def power_w(self, figure_of_merit: float, drag_area_m2: float, avionics_w: float) -> np.ndarray:
        """Modelled terminal power (W) of each sample."""
        return (self.induced / figure_of_merit + drag_area_m2 * self.drag + avionics_w
                + self.pump)


def air_density(flight: FlightLog, temp_c: float) -> float:
    """Air density (kg/m³) at the flight's take-off altitude and ``temp_c`` °C."""
    return air_density_kg_m3(min(max(flight.home_amsl_m, -500.0), 6000.0), temp_c)


def terms(flight: FlightLog, drone: DroneProfile, mass_kg: np.ndarray, temp_c: float) -> Terms:
    """The power terms of ``flight`` flown by ``drone`` at masses ``mass_kg`` (kg per
    sample) in air at ``temp_c`` °C."""
    rho = air_density(flight, temp_c)
    v = flight.speed_m_s
    accel = np.gradient(v, flight.t_s) if v.size > 1 else np.zeros_like(v)
    weight = mass_kg * G_M_S2
    induced = (weight**1.5 / math.sqrt(2.0 * rho * drone.disk_area_m2)
               + weight * np.maximum(flight.climb_m_s, 0.0)
               + mass_kg * np.maximum(accel, 0.0) * v)
    return Terms(induced, 0.5 * rho * v**3, drone.pump_w * flight.spraying.astype(np.float64))
