"""Make ArduPilot SITL fly as the plan's drone: a JSON frame model and the battery settings.

ArduPilot's multicopter SITL (libraries/SITL/SIM_Frame.cpp) reads a JSON frame model given as
``--model FRAME:file.json``, the path relative to SITL's working folder. Its physics:

- motor power is proportional to thrust: ``P = power_factor × T`` with
  ``power_factor = refCurrent × refVoltage / (mass × g)``; current ``I = P / V`` at the pack's
  loaded voltage, drawn by the motors only;
- the pack (SIM_Battery.cpp) rests at a fixed lithium curve (``SITL_CELL_OCV`` below, scaled
  so that 100 % is ``maxVoltage``), sags by ``I × refBatRes`` and counts its charge
  (``battCapacityAh``); SIM_BATT_VOLTAGE / SIM_BATT_CAP_AH reset it;
- body drag ``areaCd`` follows from the tilt ``refAngle`` needed at ``refSpd``;
- the mass is constant: SITL cannot drain a 30 L tank (its sprayer model carries 0.25 L).

So the frame gets the mass with a full tank (thrust, attitude and braking as loaded), and a
reference current chosen so that SITL's constant-mass hover draws the power the planner's
drone draws on average over a full tank: the hover power at the mean flying mass (half the
tank) plus avionics and pump. SITL's consumption then comes from ArduPilot's own physics
(thrust demanded by its controllers, tilt, drag, climbs, its battery's sag), not from
agridrone's energy model, and is compared with the plan after each sortie.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from agridrone.drone import DroneProfile
from agridrone.energy import G_M_S2, OCV_TABLES, EnergyModel, air_density_kg_m3
from agridrone.errors import AgridroneError

FRAME_FILE = "agridrone-frame.json"
FRAMES_BY_ROTORS = {4: "quad", 6: "hexa", 8: "octa"}
NOMINAL_CELL_V = 3.7  # reference voltage per cell for the hover current (V)
# hoverThrOut: motor output fraction at hover. SITL's thrust falls with the square of the
# pack voltage over its full voltage; at 0.5 a loaded T30 frame near the end of a sortie
# (0.8 of full voltage) had 1.3 times its weight in thrust, lost height braking into a pass
# ("Potential Thrust Loss") and hit the ground. 0.4 leaves 1.6 times.
HOVER_THROTTLE = 0.4

# SITL's resting voltage per cell (V) against state of charge (%), from ArduPilot's
# libraries/SITL/SIM_Battery.cpp soc_table (down to 2 %; the table's tail is a dead pack).
# SITL scales it so that 100 % reads maxVoltage: V_pack = V_cell / 4.173 × maxVoltage.
SITL_CELL_OCV = np.array([
    (2.0, 2.977), (3.85, 3.091), (7.69, 3.165), (11.54, 3.218), (15.38, 3.296),
    (19.23, 3.379), (23.08, 3.462), (26.92, 3.503), (30.77, 3.543), (34.62, 3.588),
    (38.46, 3.636), (42.31, 3.679), (46.15, 3.715), (50.0, 3.742), (53.85, 3.783),
    (57.69, 3.801), (61.54, 3.833), (65.38, 3.854), (69.23, 3.887), (73.08, 3.908),
    (76.92, 3.943), (80.77, 3.987), (84.62, 4.039), (88.46, 4.071), (92.31, 4.085),
    (96.15, 4.112), (100.0, 4.173),
])


def sitl_frame_name(drone: DroneProfile) -> str:
    """SITL's frame for the drone's rotor count: quad, hexa or octa. Raises AgridroneError
    for other counts."""
    try:
        return FRAMES_BY_ROTORS[drone.rotor_count]
    except KeyError:
        raise AgridroneError(f"SITL has no plain frame for {drone.rotor_count} rotors; "
                             f"one of {sorted(FRAMES_BY_ROTORS)}") from None


def max_pack_voltage(drone: DroneProfile) -> float:
    """Full-charge pack voltage (V): cells × the chemistry's open-circuit voltage at 100 %."""
    bat = drone.battery
    return float(OCV_TABLES[bat.chemistry][-1]) * bat.cells_series


def sitl_resting_voltage(max_voltage_v: float, soc: float) -> float:
    """SITL's resting pack voltage (V) at state of charge ``soc`` (0..1) for a pack whose
    full voltage is ``max_voltage_v``."""
    cell = float(np.interp(100.0 * soc, SITL_CELL_OCV[:, 0], SITL_CELL_OCV[:, 1]))
    return float(cell / SITL_CELL_OCV[-1, 1] * max_voltage_v)


def equivalent_hover_power_w(drone: DroneProfile, temp_c: float = 25.0,
                             elevation_m: float = 0.0) -> float:
    """Electrical power (W) SITL's constant-mass drone draws in hover: the planner's hover
    power at the mean flying mass of a full tank (half the tank left), avionics and pump."""
    model = EnergyModel.for_drone(drone, temp_c, elevation_m)
    mean_mass = drone.takeoff_mass_kg(drone.tank_l / 2.0)
    return model.k_hover * mean_mass**1.5 + drone.avionics_w + drone.pump_w


def frame_model(drone: DroneProfile, *, temp_c: float = 25.0, elevation_m: float = 0.0,
                ref_speed_m_s: float = 8.0) -> dict[str, float]:
    """SITL JSON frame model (keys of SIM_Frame.cpp) for ``drone`` with a full tank.

    mass kg; diagonal_size m (rotors of the profile's diameter side by side on a ring);
    disc_area m² (all rotors); refVoltage V and refCurrent A (hover, see
    :func:`equivalent_hover_power_w`); maxVoltage V and battCapacityAh Ah (the pack);
    refBatRes ohm (pack resistance); refSpd m/s and refAngle deg (the tilt that holds the
    profile's drag area at ``ref_speed_m_s``, momentum drag off); refAlt m AMSL, refTempC °C.
    """
    model = EnergyModel.for_drone(drone, temp_c, elevation_m)
    mass = drone.takeoff_mass_kg(drone.tank_l)
    n = drone.rotor_count
    diagonal = drone.rotor_diameter_m / math.sin(math.pi / n)
    ref_voltage = NOMINAL_CELL_V * drone.battery.cells_series
    rho = air_density_kg_m3(elevation_m, temp_c)
    drag_n = 0.5 * rho * drone.drag_area_m2 * ref_speed_m_s**2
    return {
        "mass": round(mass, 3),
        "diagonal_size": round(diagonal, 3),
        "disc_area": round(drone.disk_area_m2, 4),
        "num_motors": float(n),
        "refVoltage": round(ref_voltage, 3),
        "refCurrent": round(equivalent_hover_power_w(drone, temp_c, elevation_m) / ref_voltage, 3),
        "maxVoltage": round(max_pack_voltage(drone), 3),
        "battCapacityAh": round(model.capacity_ah, 3),
        "refBatRes": round(model.resistance_ohm, 5),
        "refSpd": float(ref_speed_m_s),
        "refAngle": round(math.degrees(math.atan2(drag_n, mass * G_M_S2)), 3),
        "mdrag_coef": 0.0,
        "hoverThrOut": HOVER_THROTTLE,
        "refAlt": round(elevation_m, 1),
        "refTempC": float(temp_c),
    }


def write_frame_model(workdir: Path, drone: DroneProfile, **kwargs) -> str:
    """Write :func:`frame_model` as ``FRAME_FILE`` into SITL's working folder ``workdir`` and
    return the ``--model`` value (``hexa:agridrone-frame.json``: SITL resolves the path from
    its working folder and refuses an absolute one)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / FRAME_FILE).write_text(json.dumps(frame_model(drone, **kwargs), indent=1) + "\n")
    return f"{sitl_frame_name(drone)}:{FRAME_FILE}"


# ATC_ACCEL_Y_MAX (cdeg/s²) for SITL's loaded spray frame. ArduPilot's default (27000, tuned
# for its 1-2 kg SITL quad) on the 66.5 kg, 1.9 m T30 hexa made its yaw rate overshoot and
# oscillate (±150 °/s) on every 180° pass reversal: the mixer spent the motors' range on yaw
# (outputs 1150..1950 µs) and cut the collective, so near the end of a sortie (pack at 0.84 of
# full voltage, lift 0.75) the copter sank 2.7 m from 3 m into the ground, where AUTO kept it
# spinning at 120 A until the critical-voltage failsafe (sahiwal sortie 1: +175 Wh, 3 of 3
# flights). 6000 is what ArduPilot's own heavy-lift SITL model (Tools/autotest/models/
# Callisto.param) uses; that sortie then lands complete with no thrust-loss warning.
SITL_YAW_ACCEL_MAX_CDEG_S2 = 6000.0


def sitl_attitude_params() -> dict[str, float]:
    """Attitude limits for SITL's heavy spray frame (ATC_ACCEL_Y_MAX, cdeg/s²; see
    :data:`SITL_YAW_ACCEL_MAX_CDEG_S2`)."""
    return {"ATC_ACCEL_Y_MAX": SITL_YAW_ACCEL_MAX_CDEG_S2}


def sitl_battery_params(drone: DroneProfile, temp_c: float = 25.0) -> dict[str, float]:
    """SITL's simulated pack as the drone's (SIM_BATT_VOLTAGE V full, SIM_BATT_CAP_AH Ah),
    ArduPilot's battery monitor told its capacity (BATT_CAPACITY mAh), and the motors'
    voltage compensation set to the pack's range (MOT_BAT_VOLT_MAX / _MIN, V: ArduPilot
    leaves it off, so the thrust of a sagging pack is not made up for)."""
    capacity_ah = EnergyModel.for_drone(drone, temp_c).capacity_ah
    bat = drone.battery
    return {"SIM_BATT_VOLTAGE": round(max_pack_voltage(drone), 3),
            "SIM_BATT_CAP_AH": round(capacity_ah, 3),
            "BATT_CAPACITY": float(round(capacity_ah * 1000.0)),
            "MOT_BAT_VOLT_MAX": round(max_pack_voltage(drone), 2),
            "MOT_BAT_VOLT_MIN": round(bat.cells_series * bat.cutoff_v_per_cell, 2)}
