"""plan.json (and one of its sorties) → every parameter the vehicle gets: the one derivation
``agridrone simulate``, ``upload --params`` and ``params --plan`` all set, for ArduPilot
(:func:`ardupilot_params`) and PX4 (:func:`px4_vehicle_params`).

ArduPilot: the sprayer for the plan's drone, rate, pass spacing and speed
(:mod:`missions.ardupilot_params`); the geofence on, as the uploaded polygons plus a ceiling,
with the operator's action; the battery failsafe of the sortie (low = the charge home from its
farthest point plus the landing reserve, :func:`agridrone.failsafe.sortie_failsafe`; critical =
land); and the flight the planner's energy model assumes (return height, waypoint radius,
acceleration and jerk). PX4: pump output, battery failsafe, geofence and return
(:mod:`missions.px4_params`).

The voltage backups of ArduPilot's battery failsafe are read on the pack's resting curve; that
curve belongs to the vehicle (a real pack rests on its chemistry's curve, ArduPilot SITL's and
the built-in simulator's on SITL's own), so the caller passes it (``resting_v``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agridrone.drone import DroneProfile
from agridrone.energy import ACCEL_M_S2, EnergyModel, ocv_per_cell_v
from agridrone.errors import AgridroneError
from agridrone.failsafe import sortie_failsafe
from agridrone.resume import drone_from_plan
from missions import px4_params
from missions.ardupilot_params import battery_failsafe_params, fence_params, sprayer_params

RTL_ALT_MIN_CM = 200  # ArduCopter's lowest RTL_ALT
WAYPOINT_RADIUS_CM = 20.0
SPRAY_MIN_SPEED_M_S = 0.0  # pump output in proportion to speed from standstill (SPRAY_PUMP_MIN 0)
WAYPOINT_JERK_M_S3 = 20.0  # ArduPilot's highest WPNAV_JERK
FENCE_HEADROOM_M = 10.0  # fence ceiling above the plan's highest altitude
PUMP_SERVO = 9
SPINNER_SERVO = 10
FENCE_ACTIONS = ("rtl", "brake")
PX4_FENCE_ACTIONS = {"rtl": "rtl", "brake": "hold"}  # PX4 has no brake: hold in place

RestingCurve = Callable[[float], float]
"""resting_v(soc): the pack's resting voltage (V) at state of charge ``soc`` (0..1)."""


@dataclass(frozen=True)
class Sprayer:
    """What ArduPilot's sprayer is set for: ``rate_l_ha`` (L/ha) over ``spacing_m`` (m, the
    pass spacing) at ``speed_m_s`` (m/s) with a pump of ``pump_max_l_min`` (L/min at full
    output), spraying above ``min_speed_m_s`` (m/s), the pump on SERVO``pump_servo`` and the
    spinner on SERVO``spinner_servo`` (None: no spinner)."""

    rate_l_ha: float
    spacing_m: float
    speed_m_s: float
    pump_max_l_min: float
    min_speed_m_s: float = SPRAY_MIN_SPEED_M_S
    pump_servo: int = PUMP_SERVO
    spinner_servo: int | None = SPINNER_SERVO

    @classmethod
    def of_plan(cls, plan: dict) -> Sprayer:
        """The plan's own rate, pass spacing, spray speed and drone's pump."""
        return cls(rate_l_ha=float(plan["rate_l_ha"]),
                   spacing_m=float(plan["application"]["spacing_m"]),
                   speed_m_s=float(plan["inputs"]["speed_m_s"]),
                   pump_max_l_min=drone_from_plan(plan).pump_max_l_min)

    def params(self) -> dict[str, float]:
        """SPRAY_* and the SERVOn_FUNCTION of pump and spinner."""
        return sprayer_params(pump_max_l_min=self.pump_max_l_min, rate_l_ha=self.rate_l_ha,
                              swath_m=self.spacing_m, spray_speed_m_s=self.speed_m_s,
                              min_speed_m_s=self.min_speed_m_s, pump_servo=self.pump_servo,
                              spinner_servo=self.spinner_servo)


def chemistry_resting_v(drone: DroneProfile) -> RestingCurve:
    """A real pack's resting curve: cells × the chemistry's open-circuit cell voltage."""
    pack = drone.battery
    return lambda soc: pack.cells_series * ocv_per_cell_v(pack.chemistry, soc)


def fence_ceiling_m(plan: dict) -> float:
    """Fence ceiling (m above home): the plan's highest altitude (spray, transit, RTL) plus
    FENCE_HEADROOM_M."""
    inputs = plan["inputs"]
    highest = max(float(inputs["alt_m"]), float(inputs["transit_alt_m"] or 0.0),
                  RTL_ALT_MIN_CM / 100.0)
    return highest + FENCE_HEADROOM_M


def _sortie(plan: dict, number: int) -> dict:
    count = len(plan["sorties"])
    if not 1 <= number <= count:
        raise AgridroneError(f"sortie {number}: the plan has {count} sortie(s)")
    return plan["sorties"][number - 1]


def sortie_battery_params(plan: dict, number: int, resting_v: RestingCurve | None = None
                          ) -> dict[str, float]:
    """ArduPilot's battery failsafe for sortie ``number`` (1-based): low (RTL) at the reserve
    plus the charge home from the sortie's farthest point, critical (land) at half the
    reserve, voltage backups on ``resting_v`` (default: the chemistry's curve)."""
    _sortie(plan, number)
    drone = drone_from_plan(plan)
    pack = drone.battery
    fs = sortie_failsafe(plan, drone, number)
    return battery_failsafe_params(
        cells=pack.cells_series, cutoff_v_per_cell=pack.cutoff_v_per_cell,
        capacity_ah=EnergyModel.for_drone(drone, float(plan["inputs"]["temp_c"])).capacity_ah,
        reserve_pct=pack.reserve_pct, home_pct=fs.low_pct - pack.reserve_pct,
        resting_v=resting_v or chemistry_resting_v(drone))


def ardupilot_params(plan: dict, number: int, *, fence_action: str = "rtl",
                     resting_v: RestingCurve | None = None, sprayer: Sprayer | None = None
                     ) -> dict[str, float]:
    """Every ArduPilot parameter for sortie ``number`` of ``plan``.

    The sprayer (``sprayer``, default the plan's own :meth:`Sprayer.of_plan`); the sortie's
    battery failsafe (:func:`sortie_battery_params`); the geofence on, polygon and ceiling,
    ``fence_action`` ("rtl" or "brake") on a breach; and the return to launch the planner's
    energy model assumes: at the plan's transit height (RTL_ALT, cm; ArduPilot's default 15 m
    climb and 5 s loiter over the station cost a short sortie a quarter more energy than
    planned), descending without a loiter; a waypoint radius (WPNAV_RADIUS, cm) small enough
    that passes are flown on their lines to their ends (ArduPilot's default 2 m starts each
    pass up to 2 m off its line and stops spraying 2 m short: about 5 % of the field
    unsprayed); the sprayer from standstill with the pump in proportion to speed
    (SPRAY_SPEED_MIN 0: the default 1 m/s left the first metre or so of every pass dry, 2 %
    of a field of short passes on SITL); and the planner's acceleration (WPNAV_ACCEL, cm/s²)
    with a jerk limit high enough to reach it at once (WPNAV_JERK, m/s³; ArduPilot's default
    1 m/s³ takes 2 s more per stop and start, which on a field of short passes made a sortie
    10 % longer than planned and tripped its low failsafe).
    """
    inputs = plan["inputs"]
    transit_alt_m = float(inputs["transit_alt_m"] or inputs["alt_m"])
    values = (sprayer or Sprayer.of_plan(plan)).params()
    values.update(sortie_battery_params(plan, number, resting_v))
    values.update(fence_params(ceiling_m=fence_ceiling_m(plan), action=fence_action))
    values["RTL_ALT"] = float(max(round(transit_alt_m * 100.0), RTL_ALT_MIN_CM))
    values["RTL_LOIT_TIME"] = 0.0
    values["WPNAV_RADIUS"] = WAYPOINT_RADIUS_CM
    values["WPNAV_ACCEL"] = ACCEL_M_S2 * 100.0
    values["WPNAV_JERK"] = WAYPOINT_JERK_M_S3
    return values


def px4_vehicle_params(plan: dict, *, fence_action: str = "rtl") -> dict[str, float]:
    """Every PX4 parameter of ``plan`` (:func:`missions.px4_params.flight_params`: pump
    output, battery failsafe over all its sorties, geofence, return height, acceptance
    radius); ``fence_action`` "rtl" returns, "brake" holds (PX4 has no brake)."""
    if fence_action not in PX4_FENCE_ACTIONS:
        raise AgridroneError(f"fence action {fence_action!r}: one of {', '.join(FENCE_ACTIONS)}")
    return px4_params.flight_params(plan, fence_action=PX4_FENCE_ACTIONS[fence_action])


def return_threshold_pct(plan: dict, number: int, autopilot: str) -> float:
    """The charge (% of capacity) at which the vehicle's battery failsafe turns sortie
    ``number`` home: ArduPilot BATT_LOW_MAH's percentage, PX4 BAT_CRIT_THR's."""
    _sortie(plan, number)
    if autopilot == "px4":
        return 100.0 * px4_params.battery_params(plan)["BAT_CRIT_THR"]
    return sortie_failsafe(plan, drone_from_plan(plan), number).low_pct
