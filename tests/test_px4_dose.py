"""PX4 applies the planned dose: the DO_SET_ACTUATOR value follows from the flow the plan
needs at its spray speed, and PX4's own mapping of that value to PWM (re-implemented here from
PX4-Autopilot's MixingOutput::output_limit_calc_single, not from agridrone) gives the plan's
rate back through the pump's PWM-to-flow line. Also the PX4 parameters derived from a plan."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from test_mission_helpers import rectangle_plan

from agridrone.cli import main
from agridrone.errors import AgridroneError
from firmware_bridge.px4_modes import AUTO_MISSION, AUTO_RTL, main_sub, set_mode_params
from missions.mission import CMD_DO_SET_ACTUATOR, build_mission, pump_state
from missions.px4 import pump_on_value
from missions.px4_params import battery_params, fence_params, flight_params
from sim.px4_sitl import HEX_MODEL, px4_environment

PWM_MIN, PWM_MAX = 1000, 2000  # PX4 SITL's output range; the pump's stopped and full flow
FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory):
    """plan.json of the 2 ha sample for PX4 (the T30, two sorties)."""
    out = tmp_path_factory.mktemp("px4plan")
    result = CliRunner().invoke(main, ["plan", FIELD, "--autopilot", "px4", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


def px4_pwm(value: float, lo: int = PWM_MIN, hi: int = PWM_MAX, disarmed: int = 900) -> int:
    """PX4's output for an actuator value: NaN -> disarmed, else
    (uint16)(v * (max - min) / 2 + (max + min) / 2) clamped to [min, max]."""
    if not math.isfinite(value):
        return disarmed
    return int(min(max(int(value * (hi - lo) / 2 + (hi + lo) / 2), lo), hi))


def applied_rate(plan: dict, value: float) -> float:
    """L/ha the pump gives at ``value`` over the field's spacing (the swath in a plan without
    ``application``) at the plan's spray speed."""
    inputs = plan["inputs"]
    spacing = plan.get("application", {}).get("spacing_m", inputs["swath_width_m"])
    flow = plan["drone"]["pump_max_l_min"] * (px4_pwm(value) - PWM_MIN) / (PWM_MAX - PWM_MIN)
    return flow / (spacing * inputs["speed_m_s"] * 60 / 10_000)


def set_spacing(plan: dict, spacing_m: float) -> None:
    """Passes ``spacing_m`` apart: the swath and the spacing the vehicle is set for."""
    plan["inputs"]["swath_width_m"] = float(spacing_m)
    plan.setdefault("application", {})["spacing_m"] = float(spacing_m)


@pytest.mark.parametrize("rate,swath,speed", [(15, 9, 5), (10, 6, 4), (20, 9, 3), (8, 5, 7)])
def test_actuator_value_applies_the_planned_rate_through_px4s_pwm_mapping(rate, swath, speed):
    plan = rectangle_plan(speed=speed)
    plan["rate_l_ha"] = float(rate)
    set_spacing(plan, swath)
    (items,) = build_mission(plan, 1, autopilot="px4")[:1]
    on = {it.param1 for it in items if it.command == CMD_DO_SET_ACTUATOR and pump_state(it)}
    assert len(on) == 1
    # PWM is whole microseconds: 1 us of 1000 is 0.1 % of full flow
    tolerance = plan["drone"]["pump_max_l_min"] / 1000 / (swath * speed * 60 / 10_000)
    assert applied_rate(plan, on.pop()) == pytest.approx(rate, abs=tolerance)


def test_t30_plan_no_longer_runs_the_pump_flat_out():
    plan = rectangle_plan()  # the T30: 7.2 L/min pump
    plan["rate_l_ha"], plan["inputs"]["speed_m_s"] = 15.0, 5.0
    set_spacing(plan, 9.0)
    assert applied_rate(plan, 1.0) == pytest.approx(26.67, abs=0.01)  # the old full output
    assert applied_rate(plan, pump_on_value(plan)) == pytest.approx(15.0, abs=0.02)
    assert px4_pwm(pump_on_value(plan)) == 1562


def test_a_rate_the_pump_cannot_give_is_refused():
    plan = rectangle_plan()
    plan["rate_l_ha"] = 60.0  # 60 L/ha x 5 m x 5 m/s needs 9 L/min, the pump gives 7.2
    with pytest.raises(AgridroneError, match="pump gives at most 7.2 L/min"):
        build_mission(plan, 1, autopilot="px4")


def test_pump_items_leave_no_nan_for_px4_to_copy():
    items = build_mission(rectangle_plan(), 1, autopilot="px4")[0]
    pump = [it for it in items if it.command == CMD_DO_SET_ACTUATOR]
    values = np.array([[it.param1, it.param2, it.param3, it.param4, it.x, it.y, it.z]
                       for it in pump])
    assert np.isfinite(values).all()
    assert (values[:, 1:4] == -1).all() and (values[:, 4:] == 0).all()  # Set 2-4 min, index 0
    assert px4_pwm(-1.0) == PWM_MIN  # off is the pump's stopped PWM, not mid-range


def test_pump_state_reads_a_low_dose_as_on():
    plan = rectangle_plan()
    plan["rate_l_ha"] = 5.0  # under half the pump's flow: a negative actuator value
    value = pump_on_value(plan)
    assert -1 < value < 0
    items = build_mission(plan, 1, autopilot="px4")[0]
    states = [pump_state(it) for it in items if it.command == CMD_DO_SET_ACTUATOR]
    assert True in states and False in states


def test_battery_thresholds_return_before_the_reserve_and_warn_first(sample_plan):
    plan = sample_plan
    values = battery_params(plan)
    reserve = plan["drone"]["battery"]["reserve_pct"] / 100
    assert values["BAT_EMERGEN_THR"] == pytest.approx(reserve)
    assert reserve < values["BAT_CRIT_THR"] < values["BAT_LOW_THR"]
    assert values["COM_LOW_BAT_ACT"] == 3  # return at critical, land at emergency
    assert values["BAT_CRIT_THR"] - reserve > 0.01  # the way home from the far end costs
    for sortie in plan["sorties"]:
        assert sortie["soc_landing_pct"] / 100 > values["BAT_CRIT_THR"]


def test_a_sortie_planned_to_land_below_the_return_threshold_is_refused(sample_plan):
    plan = json.loads(json.dumps(sample_plan))
    plan["sorties"][0]["soc_landing_pct"] = 16.0
    with pytest.raises(AgridroneError, match="return threshold BAT_CRIT_THR"):
        battery_params(plan)


def test_fence_action_ceiling_and_return_height():
    plan = rectangle_plan()
    values = fence_params(plan, "land")
    assert values["GF_ACTION"] == 5
    top = max(plan["inputs"]["alt_m"], plan["inputs"]["transit_alt_m"] or 0)
    assert values["GF_MAX_VER_DIST"] >= top + plan["inputs"]["fence_margin_m"]
    assert values["RTL_RETURN_ALT"] < values["GF_MAX_VER_DIST"]
    with pytest.raises(AgridroneError, match="unknown fence action"):
        fence_params(plan, "loiter")


def test_pump_output_follows_the_motors():
    values = flight_params(rectangle_plan())  # a hexacopter: motors on outputs 1-6
    assert values["PWM_MAIN_FUNC7"] == 301
    assert not any(name.startswith("PWM_MAIN_FUNC") and name != "PWM_MAIN_FUNC7"
                   for name in values)


def test_px4_trajectory_does_not_wait_for_a_vehicle_trailing_it_after_a_turn():
    # PX4's default MPC_XY_ERR_MAX 2 m slowed every pass start to 3.7 m/s with the pump set
    # for 5 (missions/px4_params.py); 10 is the top of PX4's range (0.1-10)
    values = flight_params(rectangle_plan())
    assert values["MPC_XY_ERR_MAX"] == 10.0
    assert values["NAV_ACC_RAD"] <= 1.0


def test_px4_sitl_hexacopter_starts_with_its_tune_and_the_callers_params_win():
    # SIH's hexacopter wove +-0.4 m across the passes with PX4's generic gains (sim/px4_sitl.py)
    env = px4_environment((31.5, 74.3, 215.0), 10.0, HEX_MODEL, {"MPC_XY_P": 0.95})
    assert env["PX4_PARAM_MPC_XY_VEL_I_ACC"] == "3" and env["PX4_PARAM_MPC_XY_VEL_P_ACC"] == "4"
    assert env["PX4_PARAM_MPC_XY_P"] == "0.95"
    assert not any(k.startswith("PX4_PARAM_MPC_XY")
                   for k in px4_environment((31.5, 74.3, 215.0), 10.0, "sihsim_quadx"))


def test_px4_mode_numbers():
    assert AUTO_MISSION == 0x04040000 and main_sub(AUTO_RTL) == (4, 5)
    assert set_mode_params(AUTO_MISSION) == (1.0, 4.0, 4.0)
