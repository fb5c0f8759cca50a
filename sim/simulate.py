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

from agridrone.energy import EnergyModel
from agridrone.errors import AgridroneError
from agridrone.resume import drone_from_plan
from firmware_bridge.link import connect
from firmware_bridge.params import battery_failsafe_params, set_params, sprayer_params
from missions.mission import build_mission
from sim.faults import Faults
from sim.mission_run import PumpChannel, SortieLog, fly_sortie
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.vehicle import DEFAULT_HOME, SimVehicle

BOOT_SCALE = 0.02  # the built-in vehicle is ready to arm after about 1 simulated second
TELEMETRY_HZ = 5  # telemetry rate asked for, per simulated second
PARAM_TIMEOUT_S = 0.3
PARAM_RETRIES = 20
RTL_ALT_MIN_CM = 200  # ArduCopter's lowest RTL_ALT
WAYPOINT_RADIUS_CM = 50.0


@dataclass(frozen=True)
class SimulateOptions:
    """How to fly the plan.

    wind: (speed m/s, direction it blows from, degrees); connect: a MAVLink address to fly
    instead of the built-in vehicle; speedup: simulated seconds per wall second of the
    built-in vehicle (for a connected one, the speedup it runs at: it scales the timeouts);
    loss_pct: packets lost (%) each way on the built-in vehicle's link; seed: its random
    seed; params: ArduPilot parameters set after the derived sprayer and failsafe ones
    (e.g. BATT_LOW_MAH to force a failsafe); heartbeat_timeout_s: wall seconds to wait for
    the vehicle; key: the MAVLink 2 signing key of a connected vehicle (None: unsigned).
    """

    wind: tuple[float, float] = (0.0, 0.0)
    connect: str | None = None
    speedup: float = 100.0
    loss_pct: float = 0.0
    seed: int = 0
    params: dict[str, float] = field(default_factory=dict)
    heartbeat_timeout_s: float = 10.0
    key: bytes | None = None


def flight_params(plan: dict) -> dict[str, float]:
    """The sprayer and battery-failsafe parameters for the plan's drone, rate and speed, and
    the return to launch the planner's energy model assumes: at the plan's transit height
    (RTL_ALT, cm; ArduPilot's default 15 m climb and 5 s loiter over the station cost a short
    sortie a quarter more energy than planned), descending without a loiter; and a waypoint
    radius (WPNAV_RADIUS, cm) small enough that passes are flown on their lines to their ends
    (ArduPilot's default 2 m starts each pass up to 2 m off its line and stops spraying 2 m
    short: about 5 % of the field unsprayed)."""
    drone = drone_from_plan(plan)
    inputs = plan["inputs"]
    transit_alt_m = inputs["transit_alt_m"] or inputs["alt_m"]
    values = sprayer_params(pump_max_l_min=drone.pump_max_l_min, rate_l_ha=float(plan["rate_l_ha"]),
                            swath_m=float(inputs["swath_width_m"]),
                            spray_speed_m_s=float(inputs["speed_m_s"]))
    pack = drone.battery
    values.update(battery_failsafe_params(cells=pack.cells_series,
                                          cutoff_v_per_cell=pack.cutoff_v_per_cell,
                                          capacity_ah=pack.capacity_ah,
                                          reserve_pct=pack.reserve_pct))
    values["RTL_ALT"] = float(max(round(float(transit_alt_m) * 100.0), RTL_ALT_MIN_CM))
    values["RTL_LOIT_TIME"] = 0.0
    values["WPNAV_RADIUS"] = WAYPOINT_RADIUS_CM
    return values


def built_in_vehicle(plan: dict, options: SimulateOptions) -> SimVehicle:
    """The simulated copter for ``plan``: home at the station, the plan's drone, the first
    sortie's tank load, ``options``' wind, loss, seed and speedup (not yet started)."""
    lon, lat = plan["station"]
    drone = drone_from_plan(plan)
    _load_energy_kernels(drone)
    return SimVehicle(port=0, speedup=options.speedup, seed=options.seed,
                      home=(float(lat), float(lon), DEFAULT_HOME[2]), boot_scale=BOOT_SCALE,
                      timeout_scale=max(options.speedup, 1.0),
                      faults=Faults(loss_pct=options.loss_pct),
                      param_files=(COPTER_PARM, SPRAYER_PARM), wind=options.wind,
                      drone=drone, liquid_l=float(plan["sorties"][0]["load_l"]))


def _load_energy_kernels(drone) -> None:
    """Load the energy model's compiled kernels now: the first call takes a wall second, which
    a vehicle running 100 times faster than real time would spend as a telemetry gap."""
    model = EnergyModel.for_drone(drone)
    model.fly(model.start(0.0), model.takeoff(1.0))


def _swap_and_refill(vehicle: SimVehicle, litres: float) -> None:
    """The ground crew: a charged battery and ``litres`` in the tank (vehicle on the ground)."""
    def crew(sim: SimVehicle) -> None:
        sim.flight.liquid_l = litres
        sim.flight.reset()
    vehicle.call(crew)


def _part_timeout_s(sortie: dict, speedup: float) -> float:
    """Wall seconds one mission part may take: three times the planned flight plus the
    landing, at ``speedup``, and some slack for a slow machine."""
    return (3.0 * float(sortie["time_s"]) + 300.0) / speedup + 30.0


def simulate_plan(plan: dict, options: SimulateOptions) -> list[SortieLog]:
    """Fly every sortie of ``plan`` (a validated plan.json dict) in order and return their
    logs; the run stops after a sortie that did not complete (its log says where).

    Raises AgridroneError when the vehicle cannot be reached, refuses a parameter or a
    command, or does not land in time.
    """
    if options.connect is not None and options.loss_pct:
        raise AgridroneError("--loss applies to the built-in vehicle only, not to --connect")
    values = {**flight_params(plan), **options.params}
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
                from sim.px4_simulate import simulate_px4

                return simulate_px4(link, plan, params=options.params,
                                    timeout_s=lambda s: _part_timeout_s(s, options.speedup))
            set_params(link, values, timeout_s=PARAM_TIMEOUT_S, retries=PARAM_RETRIES)
            inputs = plan["inputs"]
            for number, sortie in enumerate(plan["sorties"], start=1):
                if vehicle is not None:
                    _swap_and_refill(vehicle, float(sortie["load_l"]))
                parts = build_mission(plan, number, autopilot=link.autopilot,
                                      alt_frame=inputs["alt_frame"],
                                      transit_alt_m=inputs["transit_alt_m"], end=inputs["end"],
                                      max_items=inputs["max_items"])
                log = fly_sortie(link, number, parts, rate_hz=TELEMETRY_HZ,
                                 timeout_s=_part_timeout_s(sortie, options.speedup),
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
