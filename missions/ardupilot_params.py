"""ArduPilot parameters for spraying, the battery failsafe and the geofence, derived from the
drone's and the plan's numbers (pure computation; :mod:`firmware_bridge.params` sets them on
the vehicle and reads them back, :mod:`missions.vehicle_params` composes them for a plan).

Sprayer (ArduPilot AC_Sprayer): the pump output, in percent of its maximum, is
SPRAY_PUMP_RATE x ground speed (m/s), at least SPRAY_PUMP_MIN, and only above
SPRAY_SPEED_MIN (cm/s). For a fixed application rate the flow must grow with speed:
flow (L/min) = rate (L/ha) x swath (m) x speed (m/s) x 60 / 10 000, so with a pump whose flow
is proportional to its output, SPRAY_PUMP_RATE = 100 x rate x swath x 60 / 10 000 / pump_max.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from agridrone.errors import AgridroneError

SERVO_FUNCTION_SPRAYER_PUMP = 22
SERVO_FUNCTION_SPRAYER_SPINNER = 23
BATT_FS_ACTION_LAND = 1
BATT_FS_ACTION_RTL = 2
BATT_VOLTSRC_SAG_COMPENSATED = 1
VOLTAGE_BACKUP_MARGIN_PCT = 5.0  # voltage thresholds sit this far (% SoC) below the charge ones
CRITICAL_BELOW_LOW_V_PER_CELL = 0.05  # ArduPilot refuses to arm unless critical < low
FENCE_TYPE_ALT_MAX = 1
FENCE_TYPE_POLYGON = 4
FENCE_ACTIONS = {"rtl": 1, "brake": 4}
FENCE_MARGIN_M = 2.0
SQ_M_PER_HA = 10_000.0
SECONDS_PER_MINUTE = 60.0


def flow_l_min(rate_l_ha: float, swath_m: float, speed_m_s: float) -> float:
    """Liquid flow (L/min) that applies ``rate_l_ha`` over a ``swath_m`` wide strip at
    ``speed_m_s``."""
    return rate_l_ha * swath_m * speed_m_s * SECONDS_PER_MINUTE / SQ_M_PER_HA


def sprayer_params(*, pump_max_l_min: float, rate_l_ha: float, swath_m: float,
                   spray_speed_m_s: float, min_speed_m_s: float = 1.0, pump_servo: int = 9,
                   spinner_servo: int | None = 10, spinner_pwm: int = 1300) -> dict[str, float]:
    """ArduPilot sprayer parameters for an application rate.

    ``pump_max_l_min`` is the pump's flow at 100 % output (L/min), ``rate_l_ha`` the wanted
    application rate (L/ha), ``swath_m`` the spray width (m), ``spray_speed_m_s`` the planned
    spray speed and ``min_speed_m_s`` the speed below which the sprayer stops (m/s).
    ``pump_servo`` / ``spinner_servo`` are the SERVOn outputs of pump and spinner (spinner
    None: no spinner), ``spinner_pwm`` the spinner's PWM (µs). Raises AgridroneError when the
    pump cannot deliver the rate at the spray speed.
    """
    for name, value in (("pump_max_l_min", pump_max_l_min), ("rate_l_ha", rate_l_ha),
                        ("swath_m", swath_m), ("spray_speed_m_s", spray_speed_m_s)):
        if not value > 0 or not math.isfinite(value):
            raise AgridroneError(f"{name} must be a positive number, got {value}")
    if not 0 <= min_speed_m_s < spray_speed_m_s:
        raise AgridroneError(f"minimum spray speed {min_speed_m_s} m/s must be at least 0 and "
                             f"below the spray speed {spray_speed_m_s} m/s")
    needed = flow_l_min(rate_l_ha, swath_m, spray_speed_m_s)
    if needed > pump_max_l_min:
        raise AgridroneError(
            f"{rate_l_ha:g} L/ha over {swath_m:g} m at {spray_speed_m_s:g} m/s needs "
            f"{needed:.2f} L/min but the pump gives at most {pump_max_l_min:g} L/min: lower the "
            f"rate or the speed (at most {spray_speed_m_s * pump_max_l_min / needed:.1f} m/s)")
    pct_per_m_s = 100.0 * flow_l_min(rate_l_ha, swath_m, 1.0) / pump_max_l_min
    params = {
        "SPRAY_ENABLE": 1.0,
        "SPRAY_PUMP_RATE": pct_per_m_s,
        "SPRAY_SPEED_MIN": float(round(min_speed_m_s * 100.0)),
        "SPRAY_PUMP_MIN": float(math.floor(pct_per_m_s * min_speed_m_s)),
        f"SERVO{pump_servo}_FUNCTION": float(SERVO_FUNCTION_SPRAYER_PUMP),
    }
    if spinner_servo is not None:
        params["SPRAY_SPINNER"] = float(spinner_pwm)
        params[f"SERVO{spinner_servo}_FUNCTION"] = float(SERVO_FUNCTION_SPRAYER_SPINNER)
    return params


def battery_failsafe_params(*, cells: int, cutoff_v_per_cell: float, capacity_ah: float,
                            reserve_pct: float, home_pct: float = 0.0,
                            resting_v: Callable[[float], float] | None = None,
                            voltage_margin_pct: float = VOLTAGE_BACKUP_MARGIN_PCT
                            ) -> dict[str, float]:
    """ArduPilot battery failsafe, as AP_BattMonitor checks it.

    Low (BATT_FS_LOW_ACT = RTL): when the remaining charge (BATT_CAPACITY minus the mAh the
    monitor has counted) falls below BATT_LOW_MAH = ``reserve_pct`` + ``home_pct`` (the charge
    to fly home from the sortie's farthest point and land, percent of capacity), at once.
    Critical (BATT_FS_CRT_ACT = LAND): below half the reserve (BATT_CRT_MAH).
    The voltage thresholds are a backup that must not fire before the charge ones: ArduPilot
    compares them with the sag-compensated resting voltage (BATT_FS_VOLTSRC = 1; the raw
    voltage under load would trip them early) for BATT_LOW_TIMER seconds, so each is the
    resting voltage ``resting_v(soc)`` (pack volts at state of charge 0..1) at the charge
    threshold minus ``voltage_margin_pct``, the low one never below the cut-off (``cells`` ×
    ``cutoff_v_per_cell``), the critical one at least 0.05 V per cell below the low one
    (ArduPilot refuses to arm otherwise). Without ``resting_v`` they are the cut-off plus
    0.1 V per cell (low) and the cut-off (critical).

    ``capacity_ah`` Ah; percentages of capacity. Raises AgridroneError on impossible numbers.
    """
    if cells < 1 or not cutoff_v_per_cell > 0 or not capacity_ah > 0:
        raise AgridroneError("battery needs at least 1 cell, a positive cut-off voltage and "
                             "a positive capacity")
    if not 0 <= reserve_pct < 100:
        raise AgridroneError(f"battery reserve {reserve_pct} % must be between 0 and 100")
    if not 0 <= home_pct < 100 - reserve_pct:
        raise AgridroneError(f"the charge to fly home ({home_pct:.1f} %) and the reserve "
                             f"({reserve_pct:g} %) leave nothing to fly with")
    low_pct = reserve_pct + home_pct
    crt_pct = reserve_pct / 2.0
    cutoff_v = cells * cutoff_v_per_cell
    if resting_v is None:
        low_v, crt_v = cells * (cutoff_v_per_cell + 0.1), cutoff_v
    else:
        low_v = max(float(resting_v(max(low_pct - voltage_margin_pct, 0.0) / 100.0)), cutoff_v)
        crt_v = max(float(resting_v(max(crt_pct - voltage_margin_pct, 0.0) / 100.0)), cutoff_v)
    crt_v = min(crt_v, low_v - CRITICAL_BELOW_LOW_V_PER_CELL * cells)
    mah = capacity_ah * 1000.0
    return {
        "BATT_CAPACITY": float(round(mah)),
        "BATT_FS_VOLTSRC": float(BATT_VOLTSRC_SAG_COMPENSATED),
        "BATT_LOW_VOLT": round(low_v, 2),
        "BATT_CRT_VOLT": round(crt_v, 2),
        "BATT_LOW_MAH": float(round(mah * low_pct / 100.0)),
        "BATT_CRT_MAH": float(round(mah * crt_pct / 100.0)),
        "BATT_FS_LOW_ACT": float(BATT_FS_ACTION_RTL),
        "BATT_FS_CRT_ACT": float(BATT_FS_ACTION_LAND),
    }


def fence_params(*, ceiling_m: float, action: str = "rtl", margin_m: float = FENCE_MARGIN_M
                 ) -> dict[str, float]:
    """ArduPilot geofence switched on as the uploaded polygons plus a ceiling.

    FENCE_TYPE = polygon + maximum altitude (5), not ArduPilot's default 7, whose 300 m
    circle round home would trip on a large field; FENCE_ALT_MAX = ``ceiling_m`` (m above
    home: the plan's highest flight altitude, RTL climb included, plus head room);
    FENCE_ACTION = RTL (``action`` "rtl", 1) or brake, then land (``action`` "brake", 4);
    FENCE_MARGIN = ``margin_m``. Raises AgridroneError for another action or a ceiling that
    is not positive.
    """
    if action not in FENCE_ACTIONS:
        raise AgridroneError(f"fence action {action!r}: one of {', '.join(FENCE_ACTIONS)}")
    if not ceiling_m > 0 or not math.isfinite(ceiling_m):
        raise AgridroneError(f"fence ceiling {ceiling_m} m must be a positive number")
    return {
        "FENCE_ENABLE": 1.0,
        "FENCE_TYPE": float(FENCE_TYPE_ALT_MAX | FENCE_TYPE_POLYGON),
        "FENCE_ALT_MAX": round(float(ceiling_m), 1),
        "FENCE_ACTION": float(FENCE_ACTIONS[action]),
        "FENCE_MARGIN": float(margin_m),
    }
