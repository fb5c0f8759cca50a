"""Checks before a mission is loaded: is this the vehicle, firmware and battery the plan needs?

Each check reads the vehicle and returns None when it passes or one sentence naming the
problem. ``agridrone upload`` refuses on any problem unless ``--force``.

- :func:`check_airframe`: the HEARTBEAT says a copter (MAV_TYPE) on the plan's autopilot.
- :func:`check_sprayer`: ArduPilot only. SPRAY_ENABLE exists (boards with 1 MB of flash build
  ArduCopter without AC_Sprayer: the parameter is absent and DO_SPRAYER does nothing), it is 1
  (or about to be set), and some SERVOn_FUNCTION is 22 (sprayer pump).
- :func:`check_distance`: the mission's start lies within ``max_distance_m`` of where the
  vehicle is (GLOBAL_POSITION_INT), and the vehicle knows where it is.
- :func:`check_battery`: SYS_STATUS's remaining charge, and its voltage read on the pack's
  open-circuit curve, cover the sortie's planned use plus the charge at which the vehicle's
  battery failsafe turns it home (the threshold ``upload --params`` sets,
  :func:`missions.vehicle_params.return_threshold_pct`; without it the landing reserve), so
  the failsafe cannot fire on a sortie flown as planned.
"""

from __future__ import annotations

import math
import time

from agridrone.drone import DroneProfile
from agridrone.energy import ocv_per_cell_v
from firmware_bridge.link import Link
from firmware_bridge.params import _read
from missions.ardupilot_params import SERVO_FUNCTION_SPRAYER_PUMP

MAV_DATA_STREAM_EXTENDED_STATUS = 2
MAV_DATA_STREAM_POSITION = 6
STREAM_RATE_HZ = 2
# MAV_TYPE values of rotorcraft ArduCopter and PX4 multicopter report
COPTER_TYPES = {2: "quadrotor", 3: "coaxial", 4: "helicopter", 13: "hexarotor",
                14: "octorotor", 15: "tricopter", 29: "dodecarotor", 35: "decarotor"}
AUTOPILOT_IDS = {"ardupilot": 3, "px4": 12}
SERVO_OUTPUTS = 16
EARTH_RADIUS_M = 6_371_008.8
VOLTAGE_UNKNOWN_MV = 65535
SOC_GRID = [i / 200 for i in range(201)]
# a charge read from a resting voltage is coarse (a full LiPo rests at 4.15-4.20 V per cell):
# the voltage check allows this many percent below what the sortie needs
VOLTAGE_SOC_TOLERANCE_PCT = 5.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (m) between two WGS84 points in degrees (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _wait(link: Link, kind: str, timeout_s: float, accept=lambda msg: True):
    """The next ``kind`` message from the vehicle's autopilot that ``accept`` takes, or None."""
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        msg = link.recv([kind], remaining)
        if msg is not None and msg.get_srcComponent() == link.target_component and accept(msg):
            return msg
    return None


def request_telemetry(link: Link) -> None:
    """Ask for the status (SYS_STATUS) and position (GLOBAL_POSITION_INT) streams."""
    for stream in (MAV_DATA_STREAM_EXTENDED_STATUS, MAV_DATA_STREAM_POSITION):
        link.mav.request_data_stream_send(link.target_system, link.target_component, stream,
                                          STREAM_RATE_HZ, 1)


def check_airframe(link: Link, autopilot: str | None, timeout_s: float = 3.0) -> str | None:
    """The vehicle's HEARTBEAT must report a copter type and, when ``autopilot`` ("ardupilot"
    or "px4", the plan's or the mission file's) is given, that autopilot."""
    beat = _wait(link, "HEARTBEAT", timeout_s)
    if beat is None:
        return f"no HEARTBEAT from the vehicle within {timeout_s:g} s"
    problems = []
    if beat.type not in COPTER_TYPES:
        problems.append(f"the vehicle reports MAV_TYPE {beat.type}, not a copter")
    if autopilot is not None and beat.autopilot != AUTOPILOT_IDS[autopilot]:
        problems.append(f"the mission is for {autopilot} but the vehicle's HEARTBEAT reports "
                        f"autopilot {beat.autopilot}")
    return "; ".join(problems) or None


def check_sprayer(link: Link, *, to_set: dict[str, float] | None = None, timeout_s: float = 1.0,
                  retries: int = 2) -> str | None:
    """ArduPilot's sprayer must exist (SPRAY_ENABLE), be enabled and drive a pump output
    (a SERVOn_FUNCTION of 22) — counting the values in ``to_set`` (parameters about to be
    set) as already set. PX4 has no sprayer library: no problem reported."""
    if link.autopilot != "ardupilot":
        return None
    to_set = to_set or {}
    enable = _read(link, "SPRAY_ENABLE", timeout_s, retries)
    if enable is None:
        return ("the vehicle has no SPRAY_ENABLE: its firmware is built without the sprayer "
                "(AC_Sprayer; boards with 1 MB of flash leave it out), DO_SPRAYER would do "
                "nothing")
    problems = []
    if to_set.get("SPRAY_ENABLE", enable.param_value) != 1:
        problems.append("SPRAY_ENABLE is 0: the sprayer is off (set it with --params)")
    pump_named = [name for name, value in to_set.items()
                  if name.startswith("SERVO") and name.endswith("_FUNCTION")
                  and value == SERVO_FUNCTION_SPRAYER_PUMP]
    if not pump_named and not _has_pump_output(link, timeout_s):
        problems.append(f"no SERVOn_FUNCTION is {SERVO_FUNCTION_SPRAYER_PUMP} (sprayer pump): "
                        "nothing drives the pump (set one with --params --pump-servo N)")
    return "; ".join(problems) or None


def _has_pump_output(link: Link, timeout_s: float) -> bool:
    for n in range(1, SERVO_OUTPUTS + 1):
        msg = _read(link, f"SERVO{n}_FUNCTION", timeout_s, 0)
        if msg is not None and round(msg.param_value) == SERVO_FUNCTION_SPRAYER_PUMP:
            return True
    return False


def check_distance(link: Link, start_lat: float, start_lon: float, max_distance_m: float,
                   timeout_s: float = 5.0) -> str | None:
    """The mission's start (degrees) must lie within ``max_distance_m`` metres of the
    vehicle's position (GLOBAL_POSITION_INT), which must be known (not 0, 0)."""
    pos = _wait(link, "GLOBAL_POSITION_INT", timeout_s, lambda m: m.lat != 0 or m.lon != 0)
    if pos is None:
        return (f"the vehicle reported no position within {timeout_s:g} s (no GPS fix?): "
                "cannot check it stands at the mission's start")
    away = distance_m(pos.lat / 1e7, pos.lon / 1e7, start_lat, start_lon)
    if away > max_distance_m:
        return (f"the mission starts {_km(away)} from the vehicle "
                f"({pos.lat / 1e7:.5f}, {pos.lon / 1e7:.5f}); at most "
                f"{max_distance_m:g} m allowed (--max-distance)")
    return None


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def needed_soc_pct(sortie: dict, drone: DroneProfile, threshold_pct: float | None = None
                   ) -> float:
    """State of charge (%) a sortie needs at take-off: what it uses when flown from a full
    pack (100 − its planned landing charge) plus ``threshold_pct``, the charge (% of
    capacity) at which the battery failsafe turns the vehicle home (None: the landing
    reserve)."""
    floor = drone.battery.reserve_pct if threshold_pct is None else float(threshold_pct)
    return 100.0 - float(sortie["soc_landing_pct"]) + floor


def soc_from_voltage(volts: float, drone: DroneProfile) -> float:
    """State of charge (%) of the drone's pack read at rest at ``volts`` on its chemistry's
    open-circuit curve (0 below the curve, 100 above)."""
    pack = drone.battery
    per_cell = volts / pack.cells_series
    below = [soc for soc in SOC_GRID if ocv_per_cell_v(pack.chemistry, soc) <= per_cell]
    return 100.0 * (max(below) if below else 0.0)


def check_battery(link: Link, sortie: dict, drone: DroneProfile, timeout_s: float = 5.0, *,
                  threshold_pct: float | None = None) -> str | None:
    """SYS_STATUS's remaining charge (when the vehicle knows it) and its voltage (on the
    pack's open-circuit curve, ``drone``'s chemistry and cells, less
    :data:`VOLTAGE_SOC_TOLERANCE_PCT`) must both cover what the plan's ``sortie`` needs
    (:func:`needed_soc_pct` with the failsafe's ``threshold_pct``, at most 100 %)."""
    status = _wait(link, "SYS_STATUS", timeout_s)
    if status is None:
        return f"the vehicle reported no battery state (SYS_STATUS) within {timeout_s:g} s"
    need = min(needed_soc_pct(sortie, drone, threshold_pct), 100.0)
    floor = drone.battery.reserve_pct if threshold_pct is None else threshold_pct
    floor_name = "reserve" if threshold_pct is None else "battery failsafe"

    problems = []
    if status.battery_remaining >= 0 and status.battery_remaining < need:
        problems.append(f"the battery reports {status.battery_remaining} % remaining; sortie "
                        f"{sortie['index']} needs {need:.0f} % ({100 - sortie['soc_landing_pct']:.0f} %"
                        f" to fly + {floor:.0f} % {floor_name})")
    if status.voltage_battery in (0, VOLTAGE_UNKNOWN_MV):
        problems.append("the vehicle reports no battery voltage")
    else:
        volts = status.voltage_battery / 1000.0
        soc = soc_from_voltage(volts, drone)
        if soc < need - VOLTAGE_SOC_TOLERANCE_PCT:
            pack = drone.battery
            least = pack.cells_series * ocv_per_cell_v(
                pack.chemistry, (need - VOLTAGE_SOC_TOLERANCE_PCT) / 100)
            problems.append(f"the battery reads {volts:.1f} V, {soc:.0f} % for the plan's "
                            f"{pack.cells_series}S {pack.chemistry} pack; sortie "
                            f"{sortie['index']} needs {need:.0f} % (at least {least:.1f} V)")
    return "; ".join(problems) or None
