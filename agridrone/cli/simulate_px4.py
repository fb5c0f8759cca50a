"""Rehearse a plan on a connected PX4 vehicle (PX4 SITL, a PX4 drone on the bench): the PX4
branch of :func:`agridrone.cli.simulate_run.simulate_plan`.

The PX4 parameters derived from the plan (:func:`missions.vehicle_params.px4_vehicle_params`:
pump output, battery failsafe, geofence, return height; the same ``upload --params`` sets) and
the operator's own are set and read back first; then every sortie's PX4 mission (the pump at the actuator value that applies
the plan's rate) is flown by :func:`firmware_bridge.px4_flight.fly_sortie_px4`. A sortie that does
not complete ends the run.
"""

from __future__ import annotations

from agridrone.cli.vehicle_setup import apply_params
from firmware_bridge.flight import PumpChannel, SortieLog
from firmware_bridge.link import Link
from firmware_bridge.px4_flight import fly_sortie_px4
from missions.mission import build_mission
from missions.px4_params import PUMP_MAX_PWM, PUMP_MIN_PWM, default_pump_output
from missions.vehicle_params import px4_vehicle_params

TELEMETRY_HZ = 5.0  # per vehicle second


def pump_channel(plan: dict) -> PumpChannel:
    """The SERVO_OUTPUT_RAW channel and PWM range of the plan's pump on PX4."""
    return PumpChannel(servo=default_pump_output(plan["drone"]["rotor_count"]),
                       min_pwm=PUMP_MIN_PWM, max_pwm=PUMP_MAX_PWM)


def simulate_px4(link: Link, plan: dict, *, params: dict[str, float], timeout_s,
                 fence_action: str = "rtl") -> list[SortieLog]:
    """Fly every sortie of ``plan`` on the PX4 vehicle behind ``link``; ``params``: PX4
    parameters set after the derived ones; ``timeout_s(sortie)``: wall seconds a mission part
    of that sortie (a plan.json sortie dict) may take; ``fence_action`` "rtl" or "brake"
    (PX4 holds). Returns the sorties' logs."""
    apply_params(link, {**px4_vehicle_params(plan, fence_action=fence_action), **params},
                 timeout_s=1.0, retries=3)
    pump = pump_channel(plan)
    inputs = plan["inputs"]
    logs: list[SortieLog] = []
    for number, sortie in enumerate(plan["sorties"], start=1):
        parts = build_mission(plan, number, autopilot="px4", alt_frame=inputs["alt_frame"],
                              transit_alt_m=inputs["transit_alt_m"], end=inputs["end"],
                              max_items=inputs["max_items"])
        log = fly_sortie_px4(link, number, parts, rate_hz=TELEMETRY_HZ,
                             timeout_s=timeout_s(sortie), pump=pump)
        logs.append(log)
        if not log.completed:
            break
    return logs
