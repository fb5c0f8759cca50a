"""PX4's pump: the DO_SET_ACTUATOR value that applies the plan's dose.

PX4 has no sprayer command; the pump hangs on an output whose function is "Peripheral via
Actuator Set 1" (PWM_MAIN_FUNCn = 301) and MAV_CMD_DO_SET_ACTUATOR sets it. What PX4's source
(PX4-Autopilot src/lib/mixer_module) does with the value, read for this module:

- FunctionActuatorSet copies param1..param6 of every DO_SET_ACTUATOR whose param7 (the
  actuator index, the item's z) rounds to 0 into actuators 1..6: nothing is kept "unchanged",
  NaN included. A z other than 0 makes PX4 ignore the whole command.
- MixingOutput::output_limit_calc_single: a non-finite value gives the output's disarmed PWM
  (PWM_MAIN_DISn); a finite value v gives
  ``(uint16)(v * (max - min) / 2 + (max + min) / 2)``, clamped to [PWM_MAIN_MINn, PWM_MAIN_MAXn].
  So -1 is the minimum (the pump stopped), 0 mid-range (half flow), 1 the maximum.

A pump whose flow is proportional to its PWM above the minimum (the same model as ArduPilot's
sprayer output, :mod:`firmware_bridge.params`) gives flow fraction f = (pwm - min) / (max -
min) = (v + 1) / 2, so the value for a needed flow is v = 2 f - 1.

In a MISSION_ITEM_INT, param5 and param6 are the item's x and y (int32): always 0, so outputs
on Actuator Set 5 and 6 go to mid-range whenever the pump item runs. Set 2..4 get -1 (their
minimum, as off as the pump is when stopped) rather than NaN (their disarmed value): both are
"off", but -1 says so in the item and reads back exactly.
"""

from __future__ import annotations

import math

from agridrone.errors import AgridroneError

SQ_M_PER_HA = 10_000.0
SECONDS_PER_MINUTE = 60.0
ACTUATOR_MIN = -1.0  # PWM_MAIN_MINn: the pump stopped
ACTUATOR_MAX = 1.0  # PWM_MAIN_MAXn: the pump's full flow
OTHER_ACTUATORS = -1.0  # params 2-4 of the pump item: Actuator Set 2-4 at their minimum


def needed_flow_l_min(rate_l_ha: float, spacing_m: float, speed_m_s: float) -> float:
    """Flow (L/min) that applies ``rate_l_ha`` (L/ha) between passes ``spacing_m`` (m) apart
    flown at ``speed_m_s`` (m/s): rate × spacing × speed × 60 / 10 000."""
    return rate_l_ha * spacing_m * speed_m_s * SECONDS_PER_MINUTE / SQ_M_PER_HA


def actuator_for_flow(flow_l_min: float, pump_max_l_min: float) -> float:
    """The actuator value (-1..1) at which a pump giving ``pump_max_l_min`` (L/min) at its
    maximum PWM and nothing at its minimum delivers ``flow_l_min`` (L/min): 2 × flow / max - 1.
    Raises AgridroneError when the flow is not positive or above the pump's maximum."""
    if not pump_max_l_min > 0 or not math.isfinite(pump_max_l_min):
        raise AgridroneError(f"pump maximum flow must be a positive number, got {pump_max_l_min}")
    if not 0 < flow_l_min <= pump_max_l_min:
        raise AgridroneError(f"a flow of {flow_l_min:.2f} L/min is outside what the pump gives "
                             f"(above 0, at most {pump_max_l_min:g} L/min)")
    return 2.0 * flow_l_min / pump_max_l_min - 1.0


def flow_for_pwm(pwm_us: float, pump_max_l_min: float, min_pwm_us: float = 1000.0,
                 max_pwm_us: float = 2000.0) -> float:
    """Flow (L/min) of the proportional pump at ``pwm_us`` (µs) between ``min_pwm_us`` (no
    flow; below it, e.g. the 900 µs disarmed value, also none) and ``max_pwm_us`` (full flow)."""
    fraction = (float(pwm_us) - min_pwm_us) / (max_pwm_us - min_pwm_us)
    return pump_max_l_min * min(max(fraction, 0.0), 1.0)


def pump_on_value(plan: dict) -> float:
    """DO_SET_ACTUATOR param1 that makes the plan's pump apply the plan's rate (L/ha) across
    its pass spacing (the field's spacing the vehicle is set for, ``application.spacing_m``;
    the swath width, m, in plans without it) at its spray speed (m/s). Raises AgridroneError
    when the pump cannot deliver that flow."""
    inputs = plan["inputs"]
    rate = float(plan["rate_l_ha"])
    spacing = float((plan.get("application") or {}).get("spacing_m", inputs["swath_width_m"]))
    speed = float(inputs["speed_m_s"])
    pump_max = float(plan["drone"]["pump_max_l_min"])
    flow = needed_flow_l_min(rate, spacing, speed)
    if flow > pump_max:
        raise AgridroneError(
            f"{rate:g} L/ha over {spacing:g} m at {speed:g} m/s needs {flow:.2f} L/min but the "
            f"pump gives at most {pump_max:g} L/min: lower the rate or the speed")
    return actuator_for_flow(flow, pump_max)


def pump_params(value: float) -> dict[str, float]:
    """param1..param4 of the pump's DO_SET_ACTUATOR item: the pump's value in param1, Actuator
    Set 2..4 at their minimum (x, y and z of the item stay 0: Set 5/6 mid-range, index 0)."""
    return {"param1": float(value), "param2": OTHER_ACTUATORS, "param3": OTHER_ACTUATORS,
            "param4": OTHER_ACTUATORS}


def is_pump_on(value: float) -> bool:
    """True when actuator value ``value`` runs the pump (above its minimum, -1)."""
    return not math.isnan(value) and value > ACTUATOR_MIN + 1e-6
