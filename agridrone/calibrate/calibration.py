"""From logged flights and a base profile to a calibrated profile: the fits put together.

The fitted figure of merit, drag area and avionics power replace the base profile's; the
pack's fitted resistance and usable capacity become its internal resistance and state of
health (the energy model's ``capacity × SoH × derating(temp)`` and ``R / SoH × cold rise``
inverted at the logs' temperature; state of health stays within 50..100 %).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from agridrone.calibrate.fit import BatteryFit, PowerFit, fit_battery, fit_power, segment_rows
from agridrone.calibrate.flightlog import FlightLog
from agridrone.calibrate.holdout import EnergyCheck, check_energy
from agridrone.calibrate.mass import mass_along, tank_for
from agridrone.calibrate.power import terms
from agridrone.calibrate.segments import find_segments
from agridrone.drone import DroneProfile
from agridrone.energy import RESISTANCE_RISE_PER_K_BELOW_25C, capacity_derating

SOH_RANGE_PCT = (50.0, 100.0)


@dataclass(frozen=True)
class Calibration:
    """The calibrated profile, the fits it came from and the flights' energy checks (the
    fitted flights' with the calibrated profile)."""

    drone: DroneProfile
    base: DroneProfile
    power: PowerFit
    battery: BatteryFit
    state_of_health_pct: float
    fitted: tuple[EnergyCheck, ...]


def flight_temp_c(flight: FlightLog, temp_c: float | None) -> float:
    """The temperature (°C) a flight is modelled at: ``temp_c`` when given, else the log's,
    else 25 °C."""
    if temp_c is not None:
        return temp_c
    return flight.temp_c if flight.temp_c is not None else 25.0


def calibrate(flights: list[FlightLog], base: DroneProfile, *, name: str,
              flow_l_min: float | None, temp_c: float | None = None) -> Calibration:
    """Fit ``base`` to ``flights`` (tank draining at ``flow_l_min`` L/min while the pump runs;
    None: a full tank over each flight's pump time) and return the calibrated profile
    named ``name``. Raises AgridroneError when the flights hold too little to fit."""
    rows = []
    for f in flights:
        t = terms(f, base, mass_along(f, base, tank_for(f, base, flow_l_min)),
                  flight_temp_c(f, temp_c))
        segs = find_segments(f)
        rows.append((f.name, f, segs, segment_rows(f, segs, t)))
    power = fit_power(rows, base)
    battery = fit_battery(flights, base)
    temp = sum(flight_temp_c(f, temp_c) for f in flights) / len(flights)
    bat = base.battery
    soh = 100.0 * battery.capacity_ah.value / (bat.capacity_ah * capacity_derating(bat.chemistry, temp))
    soh = min(max(soh, SOH_RANGE_PCT[0]), SOH_RANGE_PCT[1])
    cold = 1.0 + RESISTANCE_RISE_PER_K_BELOW_25C * max(0.0, 25.0 - temp)
    r_mohm = min(battery.resistance_ohm.value * 1000.0 * soh / 100.0 / cold, 2000.0)
    drone = dataclasses.replace(
        base, name=name, published=None,
        description=f"{base.name} calibrated on {len(flights)} logged flights",
        figure_of_merit=round(power.figure_of_merit.value, 4),
        drag_area_m2=round(power.drag_area_m2.value, 4),
        avionics_w=round(power.avionics_w.value, 1),
        battery=dataclasses.replace(bat, internal_resistance_mohm=round(r_mohm, 2),
                                    state_of_health_pct=round(soh, 1)))
    fitted = tuple(check_energy(f, drone, tank_for(f, drone, flow_l_min), flight_temp_c(f, temp_c))
                   for f in flights)
    return Calibration(drone, base, power, battery, soh, fitted)


def calibration_table(cal: Calibration, *, logs: list[str], flow_l_min: float | None,
                      holdout: list[tuple[EnergyCheck, EnergyCheck]]) -> dict:
    """The ``[calibration]`` table: base profile, log file names, the fit's figures and
    uncertainties (a ``*_sigma`` key is absent when the value is held at a bound of its
    range; ``*_kept`` says a value is the base profile's, the logs not determining it), and per held-out flight its name, the calibrated and the base profile's energy
    errors (%)."""
    p, b = cal.power, cal.battery
    table: dict = {"base": cal.base.name, "logs": logs,
                   "flights": [c.flight for c in cal.fitted],
                   "flow_l_min": "full tank over the pump time" if flow_l_min is None else flow_l_min,
                   "segments": len(p.residuals), "power_rms_w": round(p.rms_w, 1),
                   "power_rms_pct": round(p.rms_pct, 2)}
    for key, est in (("figure_of_merit", p.figure_of_merit), ("drag_area_m2", p.drag_area_m2),
                     ("avionics_w", p.avionics_w)):
        if est.sigma is not None:
            table[f"{key}_sigma"] = round(est.sigma, 4)
        elif est.kept:
            table[f"{key}_kept"] = "the logs do not determine it"
    table["pack_resistance_ohm"] = round(b.resistance_ohm.value, 5)
    if b.resistance_ohm.sigma is not None:
        table["pack_resistance_ohm_sigma"] = round(b.resistance_ohm.sigma, 5)
    table["usable_capacity_ah"] = round(b.capacity_ah.value, 3)
    if b.capacity_ah.sigma is not None:
        table["usable_capacity_ah_sigma"] = round(b.capacity_ah.sigma, 3)
    table["voltage_rms_v"] = round(b.rms_v, 3)
    table["fitted_error_pct"] = [round(c.error_pct, 2) for c in cal.fitted]
    if holdout:
        table["holdout"] = [ours.flight for ours, _ in holdout]
        table["holdout_error_pct"] = [round(ours.error_pct, 2) for ours, _ in holdout]
        table["holdout_base_error_pct"] = [round(theirs.error_pct, 2) for _, theirs in holdout]
    return table
