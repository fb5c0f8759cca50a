"""ArduPilot logs: DataFlash ``.bin`` (BAT or CURR, GPS, CTUN, RCOU, PARM, VER) and telemetry
``.tlog`` (SYS_STATUS / BATTERY_STATUS, GLOBAL_POSITION_INT, SERVO_OUTPUT_RAW, HEARTBEAT,
PARAM_VALUE), read with pymavlink's readers.

The pump is the servo output whose SERVOn_FUNCTION is 22 (sprayer pump) in the log's
parameters; it runs while its PWM is above SERVOn_MIN + PUMP_ON_PWM. A log of a vehicle
other than a multirotor copter (plane, rover, sub, helicopter) is refused.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np

from agridrone.calibrate.flightlog import (
    MIN_BATTERY_SAMPLES,
    FlightLog,
    check_battery,
    held,
    on_grid,
)
from agridrone.errors import AgridroneError

SPRAYER_PUMP_FUNCTION = 22
PUMP_ON_PWM = 50.0  # µs above the servo's minimum: the pump runs
# VER.BU build types (AP_Vehicle's APM_BUILD_*): only 2, ArduCopter, is a multirotor
BUILD_COPTER = 2
BUILD_NAMES = {1: "a rover", 3: "a plane", 4: "an antenna tracker", 7: "a sub",
               12: "a blimp", 13: "a helicopter"}
OTHER_FIRMWARE = (("ArduPlane", "a plane"), ("ArduRover", "a rover"), ("ArduSub", "a sub"),
                  ("Blimp", "a blimp"), ("AntennaTracker", "an antenna tracker"))
# MAV_TYPE of a multirotor (quad, hexa, octa, tri, dodeca, deca)
MULTIROTOR_MAV_TYPES = {2, 13, 14, 15, 29, 35}


DATAFLASH_MAGIC = b"\xa3\x95"  # every DataFlash record starts so


def _open(path: Path):
    from pymavlink import mavutil

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # pymavlink prints what it skips
            return mavutil.mavlink_connection(str(path), robust_parsing=True)
    except Exception as exc:  # pymavlink raises bare Exceptions for unreadable files
        raise AgridroneError(f"{path}: not a readable ArduPilot log ({exc})") from None


def _messages(log, types: list[str]):
    """The log's messages of ``types`` in order, pymavlink's printed complaints silenced."""
    while True:
        with contextlib.redirect_stdout(io.StringIO()):
            m = log.recv_match(type=types)
        if m is None:
            return
        yield m


def _not_a_copter(path: Path, what: str) -> AgridroneError:
    return AgridroneError(f"{path}: this is {what}'s log; calibration learns multirotor "
                          "copters only")


def _pump_servo(params: dict[str, float]) -> tuple[int, float] | None:
    """(servo number, its minimum PWM) of the sprayer pump, None when no output is one."""
    for n in range(1, 33):
        if params.get(f"SERVO{n}_FUNCTION") == SPRAYER_PUMP_FUNCTION:
            return n, params.get(f"SERVO{n}_MIN", 1100.0)
    return None


def read_dataflash(path: Path) -> list[FlightLog]:
    """The flights of a DataFlash ``.bin`` log, one per arming (ARM messages; the whole log
    when it has none). Raises
    AgridroneError naming the file for a file that is not a log, a log without battery
    messages, or one of a vehicle that is not a multirotor."""
    with Path(path).open("rb") as fh:
        if fh.read(2) != DATAFLASH_MAGIC:
            raise AgridroneError(f"{path}: not an ArduPilot DataFlash log (no DataFlash "
                                 "record at its start)")
    log = _open(path)
    bat: list[tuple[float, float, float, float]] = []
    gps: list[tuple[float, float, float]] = []
    ctun: list[tuple[float, float, float]] = []
    rcou: list[tuple[float, list[float]]] = []
    params: dict[str, float] = {}
    arming: list[tuple[float, bool]] = []
    try:
        for m in _messages(log, ["BAT", "CURR", "GPS", "CTUN", "RCOU", "PARM", "VER", "MSG",
                                 "ARM"]):
            kind = m.get_type()
            if kind in ("BAT", "CURR"):
                if getattr(m, "Inst", getattr(m, "Instance", 0)) == 0:
                    bat.append((m.TimeUS * 1e-6, m.Volt, m.Curr, getattr(m, "Temp", 0.0)))
            elif kind == "GPS":
                if getattr(m, "I", 0) == 0 and m.Status >= 3:
                    gps.append((m.TimeUS * 1e-6, m.Spd, m.Alt))
            elif kind == "CTUN":
                ctun.append((m.TimeUS * 1e-6, m.Alt, m.CRt))
            elif kind == "RCOU":
                rcou.append((m.TimeUS * 1e-6,
                             [float(getattr(m, f"C{k}", 0.0)) for k in range(1, 15)]))
            elif kind == "PARM":
                params[m.Name] = float(m.Value)
            elif kind == "ARM":
                arming.append((m.TimeUS * 1e-6, bool(m.ArmState)))
            elif kind == "VER":
                if m.BU != BUILD_COPTER:
                    raise _not_a_copter(path, BUILD_NAMES.get(m.BU, f"build type {m.BU}"))
            elif kind == "MSG":
                for name, what in OTHER_FIRMWARE:
                    if str(m.Message).startswith(name):
                        raise _not_a_copter(path, what)
    except AgridroneError:
        raise
    except Exception as exc:  # a corrupt record deep in the file
        raise AgridroneError(f"{path}: unreadable DataFlash log ({exc})") from None
    if params.get("Q_ENABLE", 0.0) or "TECS_CLMB_MAX" in params:
        raise _not_a_copter(path, "a plane")
    b = np.array(bat, dtype=np.float64).reshape(-1, 4)
    check_battery(path, b[:, 0], b[:, 1], b[:, 2])
    g = np.array(gps, dtype=np.float64).reshape(-1, 3)
    c = np.array(ctun, dtype=np.float64).reshape(-1, 3)
    if c.shape[0] == 0:
        raise AgridroneError(f"{path}: no CTUN messages (height and climb rate) in this log")
    servo = _pump_servo(params)
    pump = None
    if servo is not None and rcou and servo[0] <= 14:
        pump = (np.array([r[0] for r in rcou]), np.array([r[1][servo[0] - 1] for r in rcou]),
                servo[1])
    flights = []
    for start, end in arming_windows(arming, b[0, 0], b[-1, 0]):
        keep = (b[:, 0] >= start) & (b[:, 0] <= end)
        if np.count_nonzero(keep) < MIN_BATTERY_SAMPLES:
            continue
        flights.append(_flight(path, b[keep], g, c, pump, len(flights) + 1))
    if not flights:
        raise AgridroneError(f"{path}: no flight with battery messages in this log")
    return flights


def arming_windows(arming: list[tuple[float, bool]], first_s: float,
                   last_s: float) -> list[tuple[float, float]]:
    """(start s, end s) of each armed span from (time s, armed) changes; the whole log
    [first_s, last_s] when it records none; a span still armed at the end closes there."""
    if not any(armed for _, armed in arming):
        return [(first_s, last_s)]
    windows, start = [], None
    for t, armed in arming:
        if armed and start is None:
            start = t
        elif not armed and start is not None:
            windows.append((start, t))
            start = None
    if start is not None:
        windows.append((start, last_s))
    return windows


def _flight(path: Path, b: np.ndarray, g: np.ndarray, c: np.ndarray, pump, number: int) -> FlightLog:
    """One armed span: battery rows ``b`` (t, V, A, °C), GPS ``g`` (t, speed, m AMSL), CTUN
    ``c`` (t, height, climb cm/s), pump (times, PWM, minimum PWM) or None."""
    t0 = b[0, 0]
    t = b[:, 0] - t0
    spraying = np.zeros(t.size, dtype=bool)
    if pump is not None:
        spraying = held(t, pump[0] - t0, pump[1]) > pump[2] + PUMP_ON_PWM
    # CTUN's climb rate is in cm/s on ArduCopter 4.x
    climb = on_grid(t, c[:, 0] - t0, c[:, 2] / 100.0)
    speed = on_grid(t, g[:, 0] - t0, g[:, 1]) if g.size else np.zeros_like(t)
    temps = b[:, 3]
    temp_c = float(np.median(temps)) if np.any(temps != 0.0) else None
    return FlightLog(source=path, autopilot="ardupilot", t_s=t, voltage_v=b[:, 1],
                     current_a=b[:, 2], alt_m=on_grid(t, c[:, 0] - t0, c[:, 1]),
                     speed_m_s=speed, climb_m_s=climb, spraying=spraying, temp_c=temp_c,
                     number=number, home_amsl_m=float(g[0, 2]) if g.size else 0.0)


def read_tlog(path: Path) -> list[FlightLog]:
    """The flights of a telemetry ``.tlog`` (MAVLink as a ground station recorded it), one per
    arming (HEARTBEAT's armed flag; the whole recording when never armed): battery from
    BATTERY_STATUS (else SYS_STATUS), position and speed from GLOBAL_POSITION_INT, the pump
    from SERVO_OUTPUT_RAW and the PARAM_VALUEs the ground station fetched; times from the
    vehicle's boot clock. Raises AgridroneError as :func:`read_dataflash` does."""
    log = _open(path)
    boot_s = math.nan
    bat_status: list[tuple[float, float, float, float]] = []
    sys_status: list[tuple[float, float, float]] = []
    pos: list[tuple[float, float, float, float]] = []
    servo: list[tuple[float, list[float]]] = []
    params: dict[str, float] = {}
    arming: list[tuple[float, bool]] = []
    seen = 0
    try:
        for m in _messages(log, ["BATTERY_STATUS", "SYS_STATUS", "GLOBAL_POSITION_INT",
                                 "SERVO_OUTPUT_RAW", "HEARTBEAT", "PARAM_VALUE", "SYSTEM_TIME",
                                 "ATTITUDE"]):
            seen += 1
            kind = m.get_type()
            if hasattr(m, "time_boot_ms"):
                boot_s = m.time_boot_ms / 1000.0
            if kind == "HEARTBEAT":
                if m.autopilot != 8 and m.type not in MULTIROTOR_MAV_TYPES and m.type not in (6, 18, 26, 27):
                    raise _not_a_copter(path, f"a MAV_TYPE {m.type} vehicle")
                armed = bool(m.base_mode & 128)
                if m.autopilot != 8 and not math.isnan(boot_s) and (
                        not arming or arming[-1][1] != armed):
                    arming.append((boot_s, armed))
            elif kind == "PARAM_VALUE":
                params[str(m.param_id)] = float(m.param_value)
            elif math.isnan(boot_s):
                continue
            elif kind == "BATTERY_STATUS" and m.id == 0 and m.voltages[0] != 65535:
                bat_status.append((boot_s, m.voltages[0] / 1000.0, m.current_battery / 100.0,
                                   m.temperature / 100.0 if m.temperature != 32767 else 0.0))
            elif kind == "SYS_STATUS":
                sys_status.append((boot_s, m.voltage_battery / 1000.0, m.current_battery / 100.0))
            elif kind == "GLOBAL_POSITION_INT":
                pos.append((boot_s, m.relative_alt / 1000.0, math.hypot(m.vx, m.vy) / 100.0,
                            -m.vz / 100.0))
            elif kind == "SERVO_OUTPUT_RAW" and m.port == 0:
                servo.append((boot_s, [float(getattr(m, f"servo{k}_raw", 0) or 0)
                                       for k in range(1, 17)]))
    except AgridroneError:
        raise
    except Exception as exc:
        raise AgridroneError(f"{path}: unreadable telemetry log ({exc})") from None
    if not seen:
        raise AgridroneError(f"{path}: no MAVLink messages: not a telemetry log")
    rows = bat_status if len(bat_status) >= len(sys_status) else [(*r, 0.0) for r in sys_status]
    b = np.array(rows, dtype=np.float64).reshape(-1, 4)
    check_battery(path, b[:, 0], b[:, 1], b[:, 2])
    b = b[np.concatenate(([True], np.diff(b[:, 0]) > 0))]  # one sample per boot-clock tick
    p = np.array(pos, dtype=np.float64).reshape(-1, 4)
    if p.shape[0] == 0:
        raise AgridroneError(f"{path}: no GLOBAL_POSITION_INT messages (height and speed)")
    pump = _pump_servo(params)
    flights = []
    for start, end in arming_windows(arming, b[0, 0], b[-1, 0]):
        rows = b[(b[:, 0] >= start) & (b[:, 0] <= end)]
        if rows.shape[0] < MIN_BATTERY_SAMPLES:
            continue
        t0 = rows[0, 0]
        t = rows[:, 0] - t0
        spraying = np.zeros(t.size, dtype=bool)
        if pump is not None and servo and pump[0] <= 16:
            times = np.array([s[0] for s in servo]) - t0
            pwm = np.array([s[1][pump[0] - 1] for s in servo])
            spraying = held(t, times, pwm) > pump[1] + PUMP_ON_PWM
        temps = rows[:, 3]
        flights.append(FlightLog(
            source=path, autopilot="ardupilot", t_s=t, voltage_v=rows[:, 1],
            current_a=rows[:, 2], alt_m=on_grid(t, p[:, 0] - t0, p[:, 1]),
            speed_m_s=on_grid(t, p[:, 0] - t0, p[:, 2]),
            climb_m_s=on_grid(t, p[:, 0] - t0, p[:, 3]), spraying=spraying,
            temp_c=float(np.median(temps)) if np.any(temps != 0.0) else None,
            number=len(flights) + 1))
    if not flights:
        raise AgridroneError(f"{path}: no flight with battery messages in this log")
    return flights
