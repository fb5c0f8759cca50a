"""One derivation of the vehicle's parameters: ``simulate`` and ``upload --params`` leave the
same parameter table on the vehicle for the same plan and sortie (read back from the built-in
simulated ArduCopter over MAVLink), and the derivation's figures for both autopilots."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.cli.simulate_run import SimulateOptions, simulate_plan
from agridrone.failsafe import sortie_failsafe
from agridrone.resume import drone_from_plan
from missions.vehicle_params import (
    ardupilot_params,
    chemistry_resting_v,
    px4_vehicle_params,
    return_threshold_pct,
)
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.vehicle import SimVehicle

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
LINK = ["--quiet", "--timeout", "0.3", "--heartbeat-timeout", "5"]
# what a flight itself changes in the table (counters, the loaded lists' sizes)
FLIGHT_COUNTERS = {"STAT_RUNTIME", "STAT_FLTTIME", "MIS_TOTAL"}


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    # 10 L/ha over 2 ha: 20 L, one sortie of the T30's 30 L tank and battery (without the
    # lead-ins and lead-outs, whose 0.5 km at the pass ends need a second battery)
    result = CliRunner().invoke(main, ["plan", FIELD, "--rate", "10", "--swath-width", "8",
                                       "--no-leads", "-o", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["sorties"]) == 1
    return out / "plan.json", plan


def _vehicle(plan: dict) -> SimVehicle:
    lon, lat = plan["station"]
    return SimVehicle(port=0, speedup=100.0, boot_scale=0.02, home=(lat, lon, 215.0),
                      timeout_scale=100.0, param_files=(COPTER_PARM, SPRAYER_PARM),
                      drone=drone_from_plan(plan), liquid_l=float(plan["sorties"][0]["load_l"]))


def _table(sim: SimVehicle) -> dict[str, float]:
    return {p.name: p.value for p in sim.params.visible() if p.name not in FLIGHT_COUNTERS}


def test_simulate_and_upload_params_leave_the_same_parameters(planned):
    path, plan = planned
    with _vehicle(plan) as flown:
        simulate_plan(plan, SimulateOptions(connect=f"tcp:127.0.0.1:{flown.port}"))
        after_simulate = _table(flown)
    with _vehicle(plan) as loaded:
        before = _table(loaded)
        result = CliRunner().invoke(main, ["upload", str(path), "--params", "--force",
                                           "--connect", f"tcp:127.0.0.1:{loaded.port}", *LINK])
        assert result.exit_code == 0, result.output
        after_upload = _table(loaded)
    changed = {name for name, value in after_upload.items() if before.get(name) != value}
    # the safety settings issue 12 named are among what upload --params changed
    assert {"SPRAY_PUMP_RATE", "BATT_LOW_MAH", "BATT_CRT_MAH", "BATT_FS_CRT_ACT",
            "FENCE_ENABLE", "FENCE_TYPE", "FENCE_ALT_MAX", "RTL_ALT", "WPNAV_JERK",
            "FENCE_TOTAL"} <= changed
    assert after_upload == after_simulate


def test_the_sprayer_follows_the_plans_pass_spacing(planned):
    _, plan = planned
    values = ardupilot_params(plan, 1)
    spacing = plan["application"]["spacing_m"]  # at most the 8 m asked, not the T30's 9 m
    assert spacing <= 8.0
    # 10 L/ha x spacing per m/s, in % of the T30's 7.2 L/min pump
    assert values["SPRAY_PUMP_RATE"] == pytest.approx(100 * 10 * spacing * 60 / 10_000 / 7.2)
    assert values["SPRAY_SPEED_MIN"] == 0.0 and values["SPRAY_PUMP_MIN"] == 0.0


def test_battery_thresholds_and_their_voltage_backups(planned):
    _, plan = planned
    drone = drone_from_plan(plan)
    values = ardupilot_params(plan, 1)
    low_pct = sortie_failsafe(plan, drone, 1).low_pct
    assert values["BATT_LOW_MAH"] == pytest.approx(values["BATT_CAPACITY"] * low_pct / 100,
                                                   abs=1)
    assert return_threshold_pct(plan, 1, "ardupilot") == pytest.approx(low_pct)
    # a real pack rests on its chemistry's curve: the low voltage backup lies below the
    # resting voltage at the charge threshold, so the charge threshold acts first
    assert values["BATT_LOW_VOLT"] < chemistry_resting_v(drone)(low_pct / 100)
    assert values["BATT_CRT_VOLT"] < values["BATT_LOW_VOLT"]


def test_px4_fence_action_brake_holds(planned):
    _, plan = planned
    assert px4_vehicle_params(plan, fence_action="brake")["GF_ACTION"] == 2.0  # Hold
    assert px4_vehicle_params(plan)["GF_ACTION"] == 3.0  # Return
    assert return_threshold_pct(plan, 1, "px4") == pytest.approx(
        100 * px4_vehicle_params(plan)["BAT_CRIT_THR"])
