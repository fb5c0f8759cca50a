"""Rehearse a whole plan: fly every sortie of plan.json end to end through firmware_bridge.

Against the built-in :class:`sim.vehicle.SimVehicle` (started in-process on a free loopback
port, at the plan's station, with the plan's drone, a short boot and a high speedup) or any
MAVLink address (a real ArduPilot SITL, a vehicle on the bench). The sprayer and battery
failsafe parameters derived from the plan are set first; between sorties the built-in
vehicle gets a fresh battery and the sortie's tank load (the ground crew's swap). A sortie
that does not complete (a battery failsafe RTL) ends the run: the rest needs a new plan
(``agridrone resume``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agridrone.energy import ACCEL_M_S2, EnergyModel
from agridrone.errors import AgridroneError
from agridrone.failsafe import sortie_failsafe
from agridrone.resume import drone_from_plan
from firmware_bridge.flight import MAV_RESULT_ACCEPTED, PumpChannel, SortieLog, command, fly_sortie
from firmware_bridge.link import connect
from firmware_bridge.mission_protocol import upload
from firmware_bridge.params import (
    battery_failsafe_params,
    fence_params,
    read_param,
    set_params,
    sprayer_params,
)
from missions.fence import build_fence
from missions.mission import MissionItem, build_mission
from sim.faults import Faults
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.sitl_frame import (
    max_pack_voltage,
    sitl_battery_params,
    sitl_frame_name,
    sitl_resting_voltage,
)
from sim.vehicle import DEFAULT_HOME, SimVehicle

BOOT_SCALE = 0.02  # the built-in vehicle is ready to arm after about 1 simulated second
TELEMETRY_HZ = 5  # telemetry rate asked for, per simulated second
PARAM_TIMEOUT_S = 0.3
PARAM_RETRIES = 20
RTL_ALT_MIN_CM = 200  # ArduCopter's lowest RTL_ALT
WAYPOINT_RADIUS_CM = 20.0
SPRAY_MIN_SPEED_M_S = 0.0  # pump output in proportion to speed from standstill (SPRAY_PUMP_MIN 0)
WAYPOINT_JERK_M_S3 = 20.0  # ArduPilot's highest WPNAV_JERK
SLOWDOWN_TOLERANCE = 5.0  # the vehicle may run this many times slower than its speedup
FENCE_HEADROOM_M = 10.0  # fence ceiling above the plan's highest altitude
MISSION_TYPE_FENCE = 1
MAV_CMD_BATTERY_RESET = 42651
BATTERY_MASK_FIRST = 1
FRAME_CLASSES = {"quad": 1, "hexa": 2, "octa": 3}


@dataclass(frozen=True)
class SimulateOptions:
    """How to fly the plan.

    wind: (speed m/s, direction it blows from, degrees); connect: a MAVLink address to fly
    instead of the built-in vehicle; speedup: simulated seconds per wall second of the
    built-in vehicle (a connected SITL's own SIM_SPEEDUP is read from it and scales the
    timeouts; a vehicle without SIM_SPEEDUP runs in real time); loss_pct: packets lost (%)
    each way on the built-in vehicle's link; seed: its random seed; params: ArduPilot
    parameters set after the derived ones (e.g. BATT_LOW_MAH to force a failsafe), also
    before every sortie; heartbeat_timeout_s: wall seconds to wait for the vehicle; key: the
    MAVLink 2 signing key of a connected vehicle (None: unsigned); fence_action: "rtl" or
    "brake" on a fence breach; fence: fence items to load instead of the plan's (to provoke a
    breach).
    """

    wind: tuple[float, float] = (0.0, 0.0)
    connect: str | None = None
    speedup: float = 100.0
    loss_pct: float = 0.0
    seed: int = 0
    params: dict[str, float] = field(default_factory=dict)
    heartbeat_timeout_s: float = 10.0
    key: bytes | None = None
    fence_action: str = "rtl"
    fence: list[MissionItem] | None = None


def fence_ceiling_m(plan: dict) -> float:
    """Fence ceiling (m above home): the plan's highest altitude (spray, transit, RTL) plus
    FENCE_HEADROOM_M."""
    inputs = plan["inputs"]
    highest = max(float(inputs["alt_m"]), float(inputs["transit_alt_m"] or 0.0),
                  RTL_ALT_MIN_CM / 100.0)
    return highest + FENCE_HEADROOM_M


def flight_params(plan: dict, fence_action: str = "rtl") -> dict[str, float]:
    """The parameters every sortie of the plan shares: sprayer for the drone, rate and
    speed; geofence on (polygon and ceiling, ``fence_action``); the battery failsafe's
    actions and voltage source (thresholds per sortie: :func:`sortie_battery_params`); and
    the return to launch the planner's energy model assumes: at the plan's transit height
    (RTL_ALT, cm; ArduPilot's default 15 m climb and 5 s loiter over the station cost a short
    sortie a quarter more energy than planned), descending without a loiter; and a waypoint
    radius (WPNAV_RADIUS, cm) small enough that passes are flown on their lines to their ends
    (ArduPilot's default 2 m starts each pass up to 2 m off its line and stops spraying 2 m
    short: about 5 % of the field unsprayed); the sprayer from standstill with the pump in
    proportion to speed (SPRAY_SPEED_MIN 0: the default 1 m/s left the first metre or so of
    every pass dry, 2 % of a field of short passes on SITL); and the planner's acceleration (WPNAV_ACCEL,
    cm/s²) with a jerk limit high enough to reach it at once (WPNAV_JERK, m/s³; ArduPilot's
    default 1 m/s³ takes 2 s more per stop and start, which on a field of short passes made
    a sortie 10 % longer than planned and tripped its low failsafe)."""
    drone = drone_from_plan(plan)
    inputs = plan["inputs"]
    transit_alt_m = inputs["transit_alt_m"] or inputs["alt_m"]
    values = sprayer_params(pump_max_l_min=drone.pump_max_l_min, rate_l_ha=float(plan["rate_l_ha"]),
                            swath_m=float(plan["application"]["spacing_m"]),
                            spray_speed_m_s=float(inputs["speed_m_s"]),
                            min_speed_m_s=SPRAY_MIN_SPEED_M_S)
    values.update(sortie_battery_params(plan, 1))
    values.update(fence_params(ceiling_m=fence_ceiling_m(plan), action=fence_action))
    values["RTL_ALT"] = float(max(round(float(transit_alt_m) * 100.0), RTL_ALT_MIN_CM))
    values["RTL_LOIT_TIME"] = 0.0
    values["WPNAV_RADIUS"] = WAYPOINT_RADIUS_CM
    values["WPNAV_ACCEL"] = ACCEL_M_S2 * 100.0
    values["WPNAV_JERK"] = WAYPOINT_JERK_M_S3
    return values


def sortie_battery_params(plan: dict, number: int) -> dict[str, float]:
    """Battery failsafe of sortie ``number`` (1-based): low at the reserve plus the charge
    home from the sortie's farthest point (:func:`agridrone.failsafe.sortie_failsafe`),
    critical (land) at half the reserve, voltage backups on the simulated pack's resting
    curve (ArduPilot SITL's, which the built-in vehicle shares)."""
    drone = drone_from_plan(plan)
    pack = drone.battery
    fs = sortie_failsafe(plan, drone, number)
    full_v = max_pack_voltage(drone)
    return battery_failsafe_params(
        cells=pack.cells_series, cutoff_v_per_cell=pack.cutoff_v_per_cell,
        capacity_ah=EnergyModel.for_drone(drone, float(plan["inputs"]["temp_c"])).capacity_ah,
        reserve_pct=pack.reserve_pct,
        home_pct=fs.low_pct - pack.reserve_pct,
        resting_v=lambda soc: sitl_resting_voltage(full_v, soc))


def built_in_vehicle(plan: dict, options: SimulateOptions) -> SimVehicle:
    """The simulated copter for ``plan``: home at the station, the plan's drone, the first
    sortie's tank load, ``options``' wind, loss, seed and speedup (not yet started)."""
    lon, lat = plan["station"]
    drone = drone_from_plan(plan)
    return SimVehicle(port=0, speedup=options.speedup, seed=options.seed,
                      home=(float(lat), float(lon), DEFAULT_HOME[2]), boot_scale=BOOT_SCALE,
                      timeout_scale=max(options.speedup, 1.0),
                      faults=Faults(loss_pct=options.loss_pct),
                      param_files=(COPTER_PARM, SPRAYER_PARM), wind=options.wind,
                      drone=drone, liquid_l=float(plan["sorties"][0]["load_l"]))


def _swap_and_refill(vehicle: SimVehicle, litres: float) -> None:
    """The ground crew: a charged battery and ``litres`` in the tank (vehicle on the ground)."""
    def crew(sim: SimVehicle) -> None:
        sim.flight.liquid_l = litres
        sim.flight.reset()
    vehicle.call(crew)


def _part_timeout_s(sortie: dict, speedup: float) -> float:
    """Wall seconds one mission part may take: three times the planned flight plus the
    landing, at ``speedup`` / SLOWDOWN_TOLERANCE (a loaded machine runs SITL well below its
    SIM_SPEEDUP: 40 asked gave about 17 on two shared cores), and slack for a slow machine.
    A vehicle that stops reporting is caught sooner (firmware_bridge.flight.SILENCE_LIMIT_S)."""
    return (3.0 * float(sortie["time_s"]) + 300.0) / max(speedup / SLOWDOWN_TOLERANCE, 1.0) + 30.0


@dataclass(frozen=True)
class ConnectedVehicle:
    """What simulate learnt of a connected ArduPilot: its speedup (SIM_SPEEDUP; 1 on a real
    vehicle) and whether it is SITL (its simulated pack is then set up and swapped)."""

    speedup: float
    sitl: bool


def prepare_ardupilot(link, plan: dict) -> ConnectedVehicle:
    """Read SIM_SPEEDUP; on SITL make its pack the plan's drone's (SIM_BATT_VOLTAGE,
    SIM_BATT_CAP_AH, BATT_CAPACITY) and check its frame has the drone's rotor count
    (FRAME_CLASS; the mass and rotors come from the JSON frame model SITL was started with,
    see sim.sitl.launch_sitl_for_drone). Raises AgridroneError on a frame mismatch."""
    speedup = read_param(link, "SIM_SPEEDUP", timeout_s=PARAM_TIMEOUT_S, retries=5)
    if speedup is None:
        return ConnectedVehicle(1.0, False)
    drone = drone_from_plan(plan)
    frame_class = read_param(link, "FRAME_CLASS", timeout_s=PARAM_TIMEOUT_S, retries=5)
    wanted = FRAME_CLASSES[sitl_frame_name(drone)]
    if frame_class is not None and round(frame_class) != wanted:
        raise AgridroneError(
            f"SITL flies FRAME_CLASS {frame_class:g} but the plan's drone has "
            f"{drone.rotor_count} rotors (FRAME_CLASS {wanted}): start SITL with "
            f"--model {sitl_frame_name(drone)}:FRAME.json (sim.sitl.launch_sitl_for_drone)")
    set_params(link, sitl_battery_params(drone, float(plan["inputs"]["temp_c"])),
               timeout_s=PARAM_TIMEOUT_S, retries=PARAM_RETRIES)
    return ConnectedVehicle(max(float(speedup), 1.0), True)


def swap_sitl_battery(link, plan: dict) -> None:
    """The ground crew on SITL: a charged pack (SIM_BATT_VOLTAGE nudged and set back, which
    resets SITL's battery to full) and ArduPilot's monitor reset to 100 %
    (MAV_CMD_BATTERY_RESET, which also clears its failsafe)."""
    full_v = sitl_battery_params(drone_from_plan(plan))["SIM_BATT_VOLTAGE"]
    for volts in (full_v - 0.5, full_v):
        set_params(link, {"SIM_BATT_VOLTAGE": volts}, timeout_s=PARAM_TIMEOUT_S,
                   retries=PARAM_RETRIES)
    result = command(link, MAV_CMD_BATTERY_RESET, (BATTERY_MASK_FIRST, 100.0))
    if result != MAV_RESULT_ACCEPTED:
        raise AgridroneError(f"SITL refused MAV_CMD_BATTERY_RESET (result {result})")


def load_fence(link, plan: dict, fence: list[MissionItem] | None = None) -> None:
    """Upload ``fence`` or the plan's geofence (inclusion polygon round the field,
    exclusions round the no-spray zones), verified by read-back, before FENCE_ENABLE
    switches it on."""
    if fence is None:
        fence = build_fence(plan, margin_m=float(plan["inputs"]["fence_margin_m"]),
                            autopilot=link.autopilot)
    upload(link, fence, mission_type=MISSION_TYPE_FENCE, timeout_s=PARAM_TIMEOUT_S,
           retries=PARAM_RETRIES)


def simulate_plan(plan: dict, options: SimulateOptions) -> list[SortieLog]:
    """Fly every sortie of ``plan`` (a validated plan.json dict) in order and return their
    logs; the run stops after a sortie that did not complete (its log says where).

    Raises AgridroneError when the vehicle cannot be reached, refuses a parameter or a
    command, or does not land in time.
    """
    if options.connect is not None and options.loss_pct:
        raise AgridroneError("--loss applies to the built-in vehicle only, not to --connect")
    values = {**flight_params(plan, options.fence_action), **options.params}
    vehicle = None
    address = options.connect
    if address is None:
        vehicle = built_in_vehicle(plan, options)
        address = f"tcp:127.0.0.1:{vehicle.start()}"
    elif options.wind != (0.0, 0.0):
        values.update({"SIM_WIND_SPD": options.wind[0], "SIM_WIND_DIR": options.wind[1]})
    logs: list[SortieLog] = []
    try:
        link = connect(address, heartbeat_timeout_s=options.heartbeat_timeout_s,
                       key=options.key)
        try:
            if link.autopilot == "px4":
                from agridrone.cli.simulate_px4 import simulate_px4

                return simulate_px4(link, plan, params=options.params,
                                    timeout_s=lambda s: _part_timeout_s(s, options.speedup))
            connected = (ConnectedVehicle(options.speedup, False) if vehicle is not None
                         else prepare_ardupilot(link, plan))
            load_fence(link, plan, options.fence)
            set_params(link, values, timeout_s=PARAM_TIMEOUT_S, retries=PARAM_RETRIES)
            inputs = plan["inputs"]
            for number, sortie in enumerate(plan["sorties"], start=1):
                if vehicle is not None:
                    _swap_and_refill(vehicle, float(sortie["load_l"]))
                elif connected.sitl:
                    swap_sitl_battery(link, plan)
                set_params(link, {**sortie_battery_params(plan, number), **options.params},
                           timeout_s=PARAM_TIMEOUT_S, retries=PARAM_RETRIES)
                parts = build_mission(plan, number, autopilot=link.autopilot,
                                      alt_frame=inputs["alt_frame"],
                                      transit_alt_m=inputs["transit_alt_m"], end=inputs["end"],
                                      max_items=inputs["max_items"])
                log = fly_sortie(link, number, parts, rate_hz=TELEMETRY_HZ,
                                 timeout_s=_part_timeout_s(sortie, connected.speedup),
                                 pump=PumpChannel())
                logs.append(log)
                if not log.completed:
                    break
        finally:
            link.close()
    finally:
        if vehicle is not None:
            vehicle.stop()
    return logs
