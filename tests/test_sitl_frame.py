"""The SITL frame model, the built-in pack's own physics, and the failsafe and fence
parameters derived from a plan (no SITL needed)."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.drone import load_drone
from agridrone.energy import FAILSAFE_MARGIN_PCT, G_M_S2
from agridrone.errors import AgridroneError
from agridrone.failsafe import sortie_failsafe
from agridrone.resume import drone_from_plan
from missions.ardupilot_params import battery_failsafe_params, fence_params
from missions.vehicle_params import ardupilot_params, fence_ceiling_m, sortie_battery_params
from sim.battery import SimBattery
from sim.sitl_frame import (
    FRAME_FILE,
    frame_model,
    max_pack_voltage,
    sitl_frame_name,
    sitl_resting_voltage,
    write_frame_model,
)

# The keys ArduPilot's SIM_Frame.cpp reads from a JSON frame model (FRAME_VAR list), plus
# num_motors; a key it does not know would be ignored silently.
SIM_FRAME_KEYS = {"mass", "diagonal_size", "refSpd", "refAngle", "refVoltage", "refCurrent",
                  "refAlt", "refTempC", "maxVoltage", "battCapacityAh", "refBatRes",
                  "propExpo", "refRotRate", "hoverThrOut", "pwmMin", "pwmMax", "spin_min",
                  "spin_max", "slew_max", "disc_area", "mdrag_coef", "num_motors"}


@pytest.fixture(scope="module")
def t30():
    return load_drone("agras-t30")


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    result = CliRunner().invoke(main, ["plan", "agridrone/data/fields/sahiwal_L_with_obstacles.geojson",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


def test_frame_model_is_the_loaded_drone(t30):
    model = frame_model(t30)
    assert set(model) <= SIM_FRAME_KEYS
    assert model["mass"] == pytest.approx(66.5, abs=0.01)  # 26.4 + 10.1 kg + 30 L
    assert model["num_motors"] == 6 and sitl_frame_name(t30) == "hexa"
    assert model["maxVoltage"] == pytest.approx(58.8) and model["battCapacityAh"] == 29.0
    assert model["disc_area"] == pytest.approx(6 * math.pi * 0.965**2 / 4, rel=1e-3)
    # SITL's power per newton: hover draws the power of a half-full tank, between empty and full
    hover_w = model["refCurrent"] * model["refVoltage"]
    assert 3000.0 < hover_w < 9000.0


def test_frame_file_is_named_relative_to_the_working_folder(t30, tmp_path):
    value = write_frame_model(tmp_path, t30)
    assert value == f"hexa:{FRAME_FILE}"  # SITL panics on an absolute path
    assert json.loads((tmp_path / FRAME_FILE).read_text()) == frame_model(t30)


def test_sitl_resting_curve_is_scaled_to_the_pack():
    assert sitl_resting_voltage(58.8, 1.0) == pytest.approx(58.8)
    assert sitl_resting_voltage(58.8, 0.5) == pytest.approx(3.742 / 4.173 * 58.8)
    assert sitl_resting_voltage(58.8, 0.2) < sitl_resting_voltage(58.8, 0.3)


def test_built_in_pack_current_follows_thrust_and_sags(t30):
    pack = SimBattery(t30, 30.0, 0.0)
    rest = pack.resting_v
    pack.draw(1.0, 0.0, 0.0, 0.0, 0.0)
    hover_a = pack.current_a
    assert pack.voltage_v == pytest.approx(rest - hover_a * pack.resistance_ohm, rel=1e-9)
    assert hover_a * pack.voltage_v == pytest.approx(
        pack.watts_per_newton * pack.mass_kg * G_M_S2, rel=1e-6)
    pack.draw(1.0, 0.0, 0.0, 2.0, 0.0)  # climbing harder: more thrust, more current
    assert pack.current_a > hover_a * 1.15
    assert pack.consumed_mah == pytest.approx(1000.0 * (hover_a + pack.current_a) / 3600.0,
                                              rel=1e-3)


def test_failsafe_thresholds_in_arducopter_order():
    values = battery_failsafe_params(cells=14, cutoff_v_per_cell=3.3, capacity_ah=29.0,
                                     reserve_pct=15.0, home_pct=6.0,
                                     resting_v=lambda soc: sitl_resting_voltage(58.8, soc))
    assert values["BATT_LOW_MAH"] == pytest.approx(29000 * 0.21)
    assert values["BATT_CRT_MAH"] < values["BATT_LOW_MAH"]
    assert values["BATT_CRT_VOLT"] < values["BATT_LOW_VOLT"]  # else ArduPilot refuses to arm
    assert values["BATT_FS_VOLTSRC"] == 1.0  # sag-compensated, not the voltage under load
    assert values["BATT_FS_LOW_ACT"] == 2.0 and values["BATT_FS_CRT_ACT"] == 1.0
    # the voltage backup sits below the resting voltage at the charge threshold
    assert values["BATT_LOW_VOLT"] < sitl_resting_voltage(58.8, 0.21)


def test_every_sortie_keeps_the_margin_above_its_low_failsafe(plan):
    drone = drone_from_plan(plan)
    for number in range(1, len(plan["sorties"]) + 1):
        fs = sortie_failsafe(plan, drone, number)
        assert fs.low_pct >= drone.battery.reserve_pct
        assert fs.margin_pct >= FAILSAFE_MARGIN_PCT - 1e-9
        assert fs.capped or fs.low_pct == pytest.approx(drone.battery.reserve_pct + fs.home_far_pct)
        values = sortie_battery_params(plan, number)
        assert values["BATT_LOW_MAH"] == pytest.approx(29000 * fs.low_pct / 100, abs=1)


def test_fence_is_polygon_and_ceiling_not_the_circle(plan):
    values = ardupilot_params(plan, 1)
    assert values["FENCE_ENABLE"] == 1.0
    assert int(values["FENCE_TYPE"]) & 2 == 0  # no 300 m circle round home
    assert int(values["FENCE_TYPE"]) == 5
    assert values["FENCE_ALT_MAX"] == pytest.approx(fence_ceiling_m(plan))
    assert values["FENCE_ALT_MAX"] > values["RTL_ALT"] / 100.0
    assert fence_params(ceiling_m=20.0, action="brake")["FENCE_ACTION"] == 4.0
    with pytest.raises(AgridroneError, match="fence action"):
        fence_params(ceiling_m=20.0, action="loiter")


def test_pack_voltage_from_chemistry(t30):
    assert max_pack_voltage(t30) == pytest.approx(14 * 4.2)
