"""Rehearse a whole plan: fly every sortie of plan.json end to end through firmware_bridge.

Against the built-in :class:`sim.vehicle.SimVehicle` (started in-process on a free loopback
port, at the plan's station, with the plan's drone, a short boot and a high speedup) or any
MAVLink address (a real ArduPilot SITL, a vehicle on the bench). The parameters derived from
the plan (:mod:`missions.vehicle_params`, the same ``upload --params`` sets) are set first; between sorties the built-in
vehicle gets a fresh battery and the sortie's tank load (the ground crew's swap). A sortie
that does not complete (a battery failsafe RTL) ends the run: the rest needs a new plan
(``agridrone resume``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agridrone.cli.vehicle_setup import resting_curve
from agridrone.errors import AgridroneError
from agridrone.ops.plan_block import plan_sysid
from agridrone.resume import drone_from_plan
from firmware_bridge.flight import MAV_RESULT_ACCEPTED, PumpChannel, SortieLog, command, fly_sortie
from firmware_bridge.link import connect
from firmware_bridge.mission_protocol import upload
from firmware_bridge.params import read_param, set_params
from missions.fence import build_fence
from missions.mission import MissionItem, build_mission
from missions.vehicle_params import ardupilot_params, sortie_battery_params
from sim.faults import Faults
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.sitl_frame import sitl_battery_params, sitl_frame_name
from sim.vehicle import DEFAULT_HOME, SimVehicle

BOOT_SCALE = 0.02  # the built-in vehicle is ready to arm after about 1 simulated second
TELEMETRY_HZ = 5  # telemetry rate asked for, per simulated second
PARAM_TIMEOUT_S = 0.3
PARAM_RETRIES = 20
SLOWDOWN_TOLERANCE = 5.0  # the vehicle may run this many times slower than its speedup
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
    breach); sysid: the MAVLink system id to fly (the built-in vehicle is given it; None: the
    plan's, see :func:`agridrone.ops.plan_block.plan_sysid`, else the first vehicle heard, 1
    for the built-in one).
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
    sysid: int | None = None


def target_sysid(plan: dict, options: SimulateOptions) -> int | None:
    """The system id simulate addresses: ``options.sysid``, else the plan's, else None."""
    return options.sysid if options.sysid is not None else plan_sysid(plan)


def built_in_vehicle(plan: dict, options: SimulateOptions) -> SimVehicle:
    """The simulated copter for ``plan``: home at the station, the plan's drone, the first
    sortie's tank load, ``options``' wind, loss, seed and speedup, the system id to fly
    (:func:`target_sysid`, else 1; not yet started)."""
    lon, lat = plan["station"]
    drone = drone_from_plan(plan)
    return SimVehicle(port=0, speedup=options.speedup, seed=options.seed,
                      home=(float(lat), float(lon), DEFAULT_HOME[2]), boot_scale=BOOT_SCALE,
                      timeout_scale=max(options.speedup, 1.0),
                      faults=Faults(loss_pct=options.loss_pct),
                      param_files=(COPTER_PARM, SPRAYER_PARM), wind=options.wind,
                      drone=drone, liquid_l=float(plan["sorties"][0]["load_l"]),
                      sysid=target_sysid(plan, options) or 1)


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


@dataclass
class Flown:
    """A simulate run: the sorties' logs, and whether the vehicle's pack was simulated (the
    built-in vehicle or ArduPilot SITL: its resting-voltage curve is SITL's)."""

    logs: list[SortieLog]
    simulated: bool = True


def simulate_plan(plan: dict, options: SimulateOptions) -> list[SortieLog]:
    """Fly every sortie of ``plan`` (a validated plan.json dict) in order and return their
    logs (:func:`fly_plan`)."""
    return fly_plan(plan, options).logs


def fly_plan(plan: dict, options: SimulateOptions) -> Flown:
    """Fly every sortie of ``plan`` (a validated plan.json dict) in order; the run stops
    after a sortie that did not complete (its log says where).

    Raises AgridroneError when the vehicle cannot be reached, refuses a parameter or a
    command, or does not land in time.
    """
    if options.connect is not None and options.loss_pct:
        raise AgridroneError("--loss applies to the built-in vehicle only, not to --connect")
    vehicle = None
    address = options.connect
    wind = {}
    if address is None:
        vehicle = built_in_vehicle(plan, options)
        address = f"tcp:127.0.0.1:{vehicle.start()}"
    elif options.wind != (0.0, 0.0):
        wind = {"SIM_WIND_SPD": options.wind[0], "SIM_WIND_DIR": options.wind[1]}
    flown = Flown([])
    logs = flown.logs
    try:
        link = connect(address, heartbeat_timeout_s=options.heartbeat_timeout_s,
                       key=options.key, target_system=target_sysid(plan, options))
        try:
            if link.autopilot == "px4":
                from agridrone.cli.simulate_px4 import simulate_px4

                load_fence(link, plan, options.fence)  # GF_ACTION guards these polygons
                return Flown(simulate_px4(link, plan, params=options.params,
                                          timeout_s=lambda s: _part_timeout_s(s, options.speedup),
                                          fence_action=options.fence_action), simulated=False)
            connected = (ConnectedVehicle(options.speedup, False) if vehicle is not None
                         else prepare_ardupilot(link, plan))
            flown.simulated = vehicle is not None or connected.sitl
            curve = resting_curve(plan, simulated=flown.simulated)
            load_fence(link, plan, options.fence)
            values = {**ardupilot_params(plan, 1, fence_action=options.fence_action,
                                         resting_v=curve), **wind, **options.params}
            set_params(link, values, timeout_s=PARAM_TIMEOUT_S, retries=PARAM_RETRIES)
            inputs = plan["inputs"]
            for number, sortie in enumerate(plan["sorties"], start=1):
                if vehicle is not None:
                    _swap_and_refill(vehicle, float(sortie["load_l"]))
                elif connected.sitl:
                    swap_sitl_battery(link, plan)
                set_params(link, {**sortie_battery_params(plan, number, curve),
                                  **options.params},
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
    return flown
