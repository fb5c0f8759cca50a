"""PX4 parameters for spraying, the battery failsafe and the geofence, derived from plan.json
(pure computation; :mod:`firmware_bridge.px4_params` sets them and reads them back).

- Pump: output ``pump_output`` (PWM_MAIN_FUNCn) = 301, "Peripheral via Actuator Set 1", with
  PWM_MAIN_MINn / MAXn the pump's stopped and full-flow PWM (the actuator value of the
  mission items, :mod:`missions.px4`, maps -1..1 onto that range).
- Battery (PX4 battery.cpp / commander): COM_LOW_BAT_ACT = 3 returns at BAT_CRIT_THR and lands
  at BAT_EMERGEN_THR; at BAT_LOW_THR PX4 only warns. So BAT_CRIT_THR = the landing reserve
  plus the charge to fly home from the farthest point of the plan's sorties, BAT_EMERGEN_THR
  = the reserve, BAT_LOW_THR a warning 5 points above the return.
- Geofence: PX4 checks an uploaded fence whenever GF_ACTION is not 0 (none); GF_ACTION 3
  returns, 5 lands, 2 holds. GF_MAX_VER_DIST is a ceiling (m above home) from the plan's
  altitudes plus the fence margin; RTL_RETURN_ALT / RTL_DESCEND_ALT keep PX4's return (30 m by
  default) at the transit height, under that ceiling.
- Tracking: NAV_ACC_RAD 1 m (acceptance radius; PX4's default 2 m) so passes are flown to
  their ends, and MPC_XY_ERR_MAX 10 m (default 2, range 0.1-10). PX4's trajectory generator
  (PositionSmoothing) slows its own integration by 1 - lag / MPC_XY_ERR_MAX whenever the
  vehicle trails the setpoint (parameter reference: "the integration of the trajectory is
  stopped to wait for the drone"); after each turn into a pass the vehicle trails it, so with
  the default 2 m PX4 flew the first 3 m of a pass at 3.7 m/s and cruised at 4.88 with the
  pump set for 5 (the actuator holds its value whatever the speed: over-dose). With 10 m: 4.6
  and 4.94 m/s, 71 -> 77-79 % of the 2 ha sample within +-10 % (real PX4 SITL, every sortie,
  bench/leadin_bench.py). It was backed out once because a later sortie hung on its first
  pass after a start that fell into RTL and was restarted in the air; with item 0 made
  current before arming (firmware_bridge.px4_flight) thirteen flights had no restart and
  no hang.
  A tighter NAV_ACC_RAD 0.5 stalled a sortie once (PX4 issue #27730: a multicopter that
  flies through a tight acceptance radius without being inside it and the altitude window in
  the same cycle never accepts that waypoint and drifts away), so 1 m stays.
"""

from __future__ import annotations

import math

from pyproj import Geod

from agridrone.errors import AgridroneError

FUNCTION_ACTUATOR_SET_1 = 301
COM_LOW_BAT_ACT_RETURN_THEN_LAND = 3
GF_ACTIONS = {"hold": 2, "rtl": 3, "land": 5}
PUMP_MIN_PWM = 1000
PUMP_MAX_PWM = 2000
NOMINAL_CELL_V = {"lipo": 3.7, "liion": 3.6}
LOW_WARNING_MARGIN = 0.05
ACCEPTANCE_RADIUS_M = 1.0
TRAJECTORY_ERROR_MAX_M = 10.0  # MPC_XY_ERR_MAX: the top of PX4's range (module text)
# PX4's ranges (parameter metadata): BAT_LOW_THR 0.12-0.5, BAT_CRIT_THR 0.05-0.5,
# BAT_EMERGEN_THR 0.03-0.5.
LOW_RANGE, CRIT_RANGE, EMERGEN_RANGE = (0.12, 0.5), (0.05, 0.5), (0.03, 0.5)


def default_pump_output(rotor_count: int) -> int:
    """The first PWM_MAIN output after the motors (outputs 1..rotor_count): 7 on a hexa."""
    return int(rotor_count) + 1


def pump_output_params(output: int, min_pwm: int = PUMP_MIN_PWM,
                       max_pwm: int = PUMP_MAX_PWM) -> dict[str, float]:
    """PWM_MAIN_FUNCn = 301 (Actuator Set 1) and the pump's PWM range (µs) on output ``output``."""
    if not 1 <= output <= 16:
        raise AgridroneError(f"PX4 pump output {output} must be between 1 and 16")
    return {f"PWM_MAIN_FUNC{output}": float(FUNCTION_ACTUATOR_SET_1),
            f"PWM_MAIN_MIN{output}": float(min_pwm), f"PWM_MAIN_MAX{output}": float(max_pwm)}


def pwm_range_names(values: dict[str, float]) -> frozenset[str]:
    """The PWM_MAIN_MINn / PWM_MAIN_MAXn among ``values``: outputs whose range a vehicle may
    fix instead of exposing (PX4 SITL)."""
    return frozenset(n for n in values if n.startswith(("PWM_MAIN_MIN", "PWM_MAIN_MAX")))


def farthest_m(plan: dict) -> float:
    """The greatest distance (m) from the station to any point of any sortie's legs."""
    geod = Geod(ellps="WGS84")
    lon0, lat0 = plan["station"]
    far = 0.0
    for sortie in plan["sorties"]:
        for leg in sortie["legs"]:
            for lon, lat in leg["coords"]:
                far = max(far, geod.inv(lon0, lat0, lon, lat)[2])
    return far


def return_fraction(plan: dict) -> float:
    """Charge (fraction of the pack) to fly home from the farthest point and land: the
    plan's own energy per metre of its longest sortie (Wh / m, take-off and climbs included,
    so on the safe side) times that distance, over the pack's nominal energy."""
    drone = plan["drone"]
    pack = drone["battery"]
    pack_wh = (pack["cells_series"] * NOMINAL_CELL_V.get(pack["chemistry"], 3.7)
               * pack["capacity_ah"] * pack.get("state_of_health_pct", 100.0) / 100.0)
    longest = max(plan["sorties"], key=lambda s: s["distance_m"])
    wh_per_m = float(longest["energy_wh"]) / max(float(longest["distance_m"]), 1.0)
    return wh_per_m * farthest_m(plan) / pack_wh


def battery_params(plan: dict) -> dict[str, float]:
    """BAT_LOW_THR, BAT_CRIT_THR, BAT_EMERGEN_THR (fractions) and COM_LOW_BAT_ACT for the
    plan's pack (see the module text). Raises AgridroneError when a threshold falls outside
    PX4's range or a sortie is planned to land below the return threshold."""
    reserve = float(plan["drone"]["battery"]["reserve_pct"]) / 100.0
    crit = reserve + return_fraction(plan)
    low = crit + LOW_WARNING_MARGIN
    for name, value, (lo, hi) in (("BAT_EMERGEN_THR", reserve, EMERGEN_RANGE),
                                  ("BAT_CRIT_THR", crit, CRIT_RANGE),
                                  ("BAT_LOW_THR", low, LOW_RANGE)):
        if not lo <= value <= hi:
            raise AgridroneError(f"{name} would be {value:.3f}, outside PX4's {lo:g}..{hi:g}: "
                                 "check the battery reserve of the drone profile")
    for sortie in plan["sorties"]:
        if float(sortie["soc_landing_pct"]) / 100.0 <= crit:
            raise AgridroneError(
                f"sortie {sortie['index']} is planned to land at {sortie['soc_landing_pct']:.1f} %, "
                f"at or below PX4's return threshold BAT_CRIT_THR {100 * crit:.1f} %: "
                "raise the reserve or plan shorter sorties")
    return {"BAT_EMERGEN_THR": round(reserve, 3), "BAT_CRIT_THR": round(crit, 3),
            "BAT_LOW_THR": round(low, 3),
            "COM_LOW_BAT_ACT": float(COM_LOW_BAT_ACT_RETURN_THEN_LAND)}


def fence_params(plan: dict, action: str = "rtl") -> dict[str, float]:
    """GF_ACTION (``action``: rtl, land or hold), the ceiling GF_MAX_VER_DIST (m above home:
    the highest planned altitude plus the plan's fence margin) and the return height
    RTL_RETURN_ALT / RTL_DESCEND_ALT (m: the transit height)."""
    if action not in GF_ACTIONS:
        raise AgridroneError(f"unknown fence action {action!r}: use {', '.join(GF_ACTIONS)}")
    inputs = plan["inputs"]
    transit = float(inputs["transit_alt_m"] or inputs["alt_m"])
    top = max(transit, float(inputs["alt_m"]))
    return {"GF_ACTION": float(GF_ACTIONS[action]),
            "GF_MAX_VER_DIST": float(math.ceil(top + float(inputs["fence_margin_m"]))),
            "RTL_RETURN_ALT": transit, "RTL_DESCEND_ALT": transit}


def flight_params(plan: dict, *, pump_output: int | None = None,
                  fence_action: str = "rtl") -> dict[str, float]:
    """Every PX4 parameter the plan needs: pump output, battery failsafe, geofence and
    return, an acceptance radius (NAV_ACC_RAD, m) small enough that passes are flown to
    their ends (PX4's default 2 m), and the trajectory's lag allowance MPC_XY_ERR_MAX (m) that
    keeps PX4 at the spray speed the pump is set for (module text). ``pump_output`` defaults
    to the first after the motors."""
    output = default_pump_output(plan["drone"]["rotor_count"]) if pump_output is None \
        else pump_output
    values = pump_output_params(output)
    values.update(battery_params(plan))
    values.update(fence_params(plan, fence_action))
    values["NAV_ACC_RAD"] = ACCEPTANCE_RADIUS_M
    values["MPC_XY_ERR_MAX"] = TRAJECTORY_ERROR_MAX_M
    return values
