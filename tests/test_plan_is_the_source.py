"""plan.json is the one source of truth: ``upload``, ``params`` and ``show`` take the rate,
pass spacing, speed, altitude frame, ending, item limit, fence margin and drone from the plan;
an option overriding one says so. Against the built-in simulated ArduCopter (sim/): what the
vehicle holds afterwards is read back over MAVLink (download, PARAM_VALUE)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from missions.formats import read_waypoints
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.vehicle import SimVehicle

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
LINK = ["--quiet", "--timeout", "0.3", "--heartbeat-timeout", "5"]
MAV_FRAME_GLOBAL_TERRAIN_ALT_INT = 11
MAV_FRAME_GLOBAL_TERRAIN_ALT = 10
MAV_CMD_NAV_LAND, MAV_CMD_NAV_RTL = 21, 20


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def make_plan(folder, *options: str) -> dict:
    result = run("plan", FIELD, *options, "-o", str(folder))
    assert result.exit_code == 0, result.output
    return json.loads((folder / "plan.json").read_text())


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    make_plan(folder, "--swath-width", "6", "--alt-frame", "terrain", "--end", "land",
              "--max-items", "40")
    return folder


@pytest.fixture
def vehicle(plan_dir):
    lon, lat = json.loads((plan_dir / "plan.json").read_text())["station"]
    with SimVehicle(port=0, speedup=50.0, boot_scale=0.02, home=(lat, lon, 215.0),
                    param_files=(COPTER_PARM, SPRAYER_PARM)) as sim:
        yield sim


def downloaded(address: str, folder) -> list:
    target = folder / "onboard.waypoints"
    result = run("download", "-o", str(target), "--connect", address, *LINK)
    assert result.exit_code == 0, result.output
    return read_waypoints(target).mission


def pump_rate(plan_dir, rate_l_ha: float) -> float:
    """SPRAY_PUMP_RATE (% of the 7.2 L/min pump per m/s) for ``rate_l_ha`` at the pass
    spacing the plan flies."""
    spacing = json.loads((plan_dir / "plan.json").read_text())["application"]["spacing_m"]
    return rate_l_ha * spacing * 60.0 / 10_000.0 / 7.2 * 100.0


def test_upload_params_take_rate_and_pass_spacing_from_the_plan(plan_dir, vehicle, tmp_path):
    address = f"tcp:127.0.0.1:{vehicle.port}"
    result = run("upload", str(plan_dir / "plan.json"), "--params", "--connect", address, *LINK)
    assert result.exit_code == 0, result.output
    assert "overrides" not in result.stderr  # nothing overridden
    # 15 L/ha x the spacing flown (at most the 6 m swath) x 60 / 10 000 L/min per m/s, as a
    # share of the T30's 7.2 L/min pump: 7.5 % per m/s at 6 m
    assert vehicle.params.value("SPRAY_PUMP_RATE") == pytest.approx(pump_rate(plan_dir, 15.0),
                                                                    rel=1e-6)
    assert 0.9 * 7.5 < pump_rate(plan_dir, 15.0) <= 7.5


def test_upload_takes_frame_ending_and_item_limit_from_the_plan(plan_dir, vehicle, tmp_path):
    address = f"tcp:127.0.0.1:{vehicle.port}"
    result = run("upload", str(plan_dir / "plan.json"), "--sortie", "1", "--connect", address,
                 *LINK)
    assert result.exit_code == 0, result.output
    items = downloaded(address, tmp_path)
    assert len(items) <= 40
    positioned = [item for item in items[1:] if item.x or item.y]
    assert positioned and {item.frame for item in positioned} <= {
        MAV_FRAME_GLOBAL_TERRAIN_ALT, MAV_FRAME_GLOBAL_TERRAIN_ALT_INT}
    assert items[-1].command == MAV_CMD_NAV_LAND
    assert MAV_CMD_NAV_RTL not in {item.command for item in items}


def test_an_overriding_option_says_so_and_wins(plan_dir, vehicle, tmp_path):
    address = f"tcp:127.0.0.1:{vehicle.port}"
    result = run("upload", str(plan_dir / "plan.json"), "--end", "rtl", "--rate", "20",
                 "--params", "--connect", address, *LINK)
    assert result.exit_code == 0, result.output
    assert "warning: --end rtl overrides the plan's land" in result.stderr
    assert "warning: --rate 20 L/ha overrides the plan's 15 L/ha" in result.stderr
    assert downloaded(address, tmp_path)[-1].command == MAV_CMD_NAV_RTL
    assert vehicle.params.value("SPRAY_PUMP_RATE") == pytest.approx(pump_rate(plan_dir, 20.0),
                                                                    rel=1e-6)


def test_params_with_drone_and_rate_alone_uses_the_planners_default_speed(vehicle):
    address = f"tcp:127.0.0.1:{vehicle.port}"
    result = run("params", "--sprayer", "--drone", "agras-t30", "--rate", "15", "--connect",
                 address, *LINK)
    assert result.exit_code == 0, result.output
    # the T30 profile's 9 m swath: 15 x 9 x 60 / 10 000 / 7.2 = 11.25 % per m/s
    assert vehicle.params.value("SPRAY_PUMP_RATE") == pytest.approx(11.25, rel=1e-6)


def test_params_from_the_plan(plan_dir, vehicle):
    address = f"tcp:127.0.0.1:{vehicle.port}"
    result = run("params", "--sprayer", "--battery-failsafe", "--plan",
                 str(plan_dir / "plan.json"), "--connect", address, *LINK)
    assert result.exit_code == 0, result.output
    assert vehicle.params.value("SPRAY_PUMP_RATE") == pytest.approx(pump_rate(plan_dir, 15.0),
                                                                    rel=1e-6)


def test_show_builds_the_plans_missions(plan_dir):
    result = run("show", str(plan_dir / "plan.json"), "--sortie", "1")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line[:4].strip().isdigit()]
    assert "GLOBAL_RELATIVE_ALT" not in result.stdout
    assert any("TERRAIN" in row for row in rows)
    assert "NAV_LAND" in rows[-1] and "RTL" not in result.stdout
    headers = [line for line in result.stdout.splitlines() if line.startswith("sortie 01")]
    assert all(int(h.split(", ")[1].split()[0]) <= 40 for h in headers)
    assert len(headers) > 1  # split by the plan's --max-items 40
