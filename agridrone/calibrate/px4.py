"""PX4 ``.ulg`` logs read with pyulog: battery_status (voltage, current, temperature),
vehicle_local_position (height, speed, climb), vehicle_status (the vehicle type) and
actuator_outputs for the pump.

The pump is the output whose PWM_MAIN_FUNCn is 301 (Actuator Set 1, as agridrone sets it);
it runs while its PWM is above PWM_MAIN_MINn + PUMP_ON_PWM. PX4 writes one log per arming.
A fixed-wing or VTOL log is refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agridrone.calibrate.flightlog import FlightLog, check_battery, held, on_grid
from agridrone.errors import AgridroneError

ACTUATOR_SET_1 = 301
PUMP_ON_PWM = 50.0
ROTARY_WING = 1  # vehicle_status.vehicle_type
TOPICS = ["battery_status", "vehicle_local_position", "vehicle_status", "actuator_outputs"]


def _topic(ulog, name: str):
    for d in ulog.data_list:
        if d.name == name and d.multi_id == 0:
            return d.data
    return None


def _pump(params: dict) -> tuple[int, float] | None:
    for n in range(1, 17):
        if int(params.get(f"PWM_MAIN_FUNC{n}", 0)) == ACTUATOR_SET_1:
            return n, float(params.get(f"PWM_MAIN_MIN{n}", 1000.0))
    return None


def read_ulog(path: Path) -> list[FlightLog]:
    """The flight of a PX4 ``.ulg`` (one arming). Raises AgridroneError naming the file for
    a file that is not a ULog, one without battery_status, or a fixed-wing/VTOL vehicle's."""
    from pyulog import ULog

    try:
        ulog = ULog(str(path), TOPICS)
    except Exception as exc:  # pyulog raises bare exceptions for a bad header
        raise AgridroneError(f"{path}: not a readable PX4 ULog ({exc})") from None
    status = _topic(ulog, "vehicle_status")
    if status is not None and status["vehicle_type"].size:
        kinds = set(np.unique(status["vehicle_type"]).tolist())
        vtol = "is_vtol" in status and bool(np.any(status["is_vtol"]))
        if vtol or kinds - {ROTARY_WING, 0}:
            raise AgridroneError(f"{path}: this is a fixed-wing or VTOL vehicle's log; "
                                 "calibration learns multirotor copters only")
    bat = _topic(ulog, "battery_status")
    if bat is None:
        raise AgridroneError(f"{path}: no battery messages (battery_status) in this log; "
                             "calibration needs them")
    tb = bat["timestamp"] * 1e-6
    check_battery(path, tb, bat["voltage_v"], bat["current_a"])
    t0 = tb[0]
    t = tb - t0
    pos = _topic(ulog, "vehicle_local_position")
    if pos is None:
        raise AgridroneError(f"{path}: no vehicle_local_position (height and speed) in this log")
    tp = pos["timestamp"] * 1e-6 - t0
    z0 = float(pos["z"][0])
    spraying = np.zeros(t.size, dtype=bool)
    params = dict(ulog.initial_parameters)
    for _, name, value in ulog.changed_parameters:  # set over MAVLink after logging began
        params[name] = value
    pump = _pump(params)
    out = _topic(ulog, "actuator_outputs")
    if pump is not None and out is not None and f"output[{pump[0] - 1}]" in out:
        spraying = held(t, out["timestamp"] * 1e-6 - t0, out[f"output[{pump[0] - 1}]"]) > (
            pump[1] + PUMP_ON_PWM)
    temp = bat.get("temperature")
    temp_c = float(np.nanmedian(temp)) if temp is not None and np.any(np.isfinite(temp)) else None
    home = float(pos["ref_alt"][0]) if "ref_alt" in pos else 0.0
    return [FlightLog(source=path, autopilot="px4", t_s=t, voltage_v=bat["voltage_v"].astype(float),
                      current_a=np.maximum(bat["current_a"].astype(float), 0.0),
                      alt_m=on_grid(t, tp, -(pos["z"] - z0)),
                      speed_m_s=on_grid(t, tp, np.hypot(pos["vx"], pos["vy"])),
                      climb_m_s=on_grid(t, tp, -pos["vz"]), spraying=spraying, temp_c=temp_c,
                      home_amsl_m=home if np.isfinite(home) else 0.0)]
