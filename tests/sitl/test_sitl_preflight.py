"""Pre-upload checks against a real ArduPilot SITL: a vehicle far from the field, without a
pump output, with the sprayer off and a pack that is not the plan's is refused, naming each
problem, and its mission stays untouched; the same plan on a vehicle standing at the station
with the sprayer set up and a full pack loads; draining its battery makes it refuse again.

Skipped (with the reason shown) unless ARDUPILOT_SITL names an ``arducopter`` binary.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from pyproj import Geod

from sim.sitl import launch_sitl
from tests.sitl.ardupilot_required import binary_or_skip

BINARY = binary_or_skip("check against")

from agridrone.cli import main  # noqa: E402
from firmware_bridge.link import connect  # noqa: E402
from firmware_bridge.params import set_params  # noqa: E402
from missions.formats import read_waypoints  # noqa: E402
from missions.mission import build_mission  # noqa: E402

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
FAISALABAD = (31.4187, 73.0791, 185.0)  # about 110 km west of the Lahore field
SPEEDUP = 10.0
LINK = ["--heartbeat-timeout", "30", "--quiet"]
READY_PARAMS = ("SPRAY_ENABLE 1\nSERVO9_FUNCTION 22\n"
                "SIM_BATT_VOLTAGE 58.8\nBATT_LOW_VOLT 0\nBATT_CRT_VOLT 0\n")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    result = run("plan", FIELD, "--max-items", "100", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out / "plan.json"


def stored_items(address: str, folder) -> int:
    """Mission items the vehicle holds (read back with agridrone download)."""
    target = folder / "onboard.waypoints"
    result = run("download", "-o", str(target), "--connect", address, *LINK)
    assert result.exit_code == 0, result.output
    return len(read_waypoints(target).mission)


def test_far_vehicle_without_pump_and_wrong_pack_is_refused(plan_file, tmp_path):
    with launch_sitl(BINARY, home=FAISALABAD, speedup=SPEEDUP, workdir=tmp_path) as sitl:
        result = run("upload", str(plan_file), "--connect", sitl.address, *LINK)
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: pre-flight checks failed")
        assert "SPRAY_ENABLE is 0" in lines[0]
        assert "no SERVOn_FUNCTION is 22" in lines[0]
        lon, lat = json.loads(plan_file.read_text())["station"]
        _, _, away_m = Geod(ellps="WGS84").inv(FAISALABAD[1], FAISALABAD[0], lon, lat)
        shown = re.search(r"the mission starts ([0-9.]+) km from the vehicle", lines[0])
        assert shown and float(shown.group(1)) == pytest.approx(away_m / 1000, rel=0.005)  # sphere vs ellipsoid
        # SITL's 3S 12.6 V pack is not the plan's 14S T30 pack
        assert "the battery reads 12.6 V" in lines[0]
        assert stored_items(sitl.address, tmp_path) == 0  # nothing was sent


def test_px4_plan_on_ardupilot_is_refused(tmp_path):
    out = tmp_path / "px4"
    assert run("plan", FIELD, "--autopilot", "px4", "-o", str(out)).exit_code == 0
    lon, lat = json.loads((out / "plan.json").read_text())["station"]
    parm = tmp_path / "ready.parm"
    parm.write_text(READY_PARAMS)
    with launch_sitl(BINARY, home=(lat, lon, 215.0), speedup=SPEEDUP, workdir=tmp_path,
                     param_files=[parm]) as sitl:
        result = run("upload", str(out / "plan.json"), "--connect", sitl.address, *LINK)
    assert result.exit_code == 2
    assert ("the mission is for px4 but the vehicle's HEARTBEAT reports autopilot 3"
            in result.stderr)


@pytest.fixture(scope="module")
def ready_sitl(plan_file, tmp_path_factory):
    """A SITL standing at the plan's station with sprayer, pump output and a full 14S pack."""
    folder = tmp_path_factory.mktemp("ready")
    parm = folder / "ready.parm"
    parm.write_text(READY_PARAMS)
    lon, lat = json.loads(plan_file.read_text())["station"]
    with launch_sitl(BINARY, home=(lat, lon, 215.0), speedup=SPEEDUP, workdir=folder,
                     param_files=[parm]) as sitl:
        yield sitl


def test_vehicle_at_the_station_with_sprayer_and_full_pack_loads(plan_file, ready_sitl,
                                                                 tmp_path):
    result = run("upload", str(plan_file), "--connect", ready_sitl.address, *LINK)
    assert result.exit_code == 0, result.output
    assert "pre-flight checks passed (airframe, sprayer, distance, battery)" in result.stdout
    plan = json.loads(plan_file.read_text())
    mission = build_mission(plan, 1, autopilot="ardupilot", max_items=100)[0]
    assert stored_items(ready_sitl.address, tmp_path) == len(mission)


def test_drained_battery_is_refused_then_forced(plan_file, ready_sitl, tmp_path):
    result = run("params", "--connect", ready_sitl.address, "--sprayer", "--plan",
                 str(plan_file), *LINK)
    assert result.exit_code == 0, result.output
    link = connect(ready_sitl.address, heartbeat_timeout_s=30.0)
    try:
        set_params(link, {"SIM_BATT_VOLTAGE": 51.0})  # 3.64 V per cell: about 15 % left
    finally:
        link.close()
    result = run("upload", str(plan_file), "--connect", ready_sitl.address, *LINK)
    assert result.exit_code == 2
    assert "the battery reads 51.0 V" in result.stderr
    assert "sortie 1 needs" in result.stderr
    assert "SPRAY" not in result.stderr and "km from" not in result.stderr
    result = run("upload", str(plan_file), "--connect", ready_sitl.address, "--force", *LINK)
    assert result.exit_code == 0, result.output
    assert "pre-flight checks skipped (--force)" in result.stdout


def test_plans_frame_ending_and_item_limit_reach_the_vehicle(ready_sitl, tmp_path):
    out = tmp_path / "terrain"
    result = run("plan", FIELD, "--alt-frame", "terrain", "--end", "land", "--max-items", "40",
                 "-o", str(out))
    assert result.exit_code == 0, result.output
    result = run("upload", str(out / "plan.json"), "--sortie", "1", "--connect",
                 ready_sitl.address, "--force", *LINK)
    assert result.exit_code == 0, result.output
    target = tmp_path / "onboard.waypoints"
    assert run("download", "-o", str(target), "--connect", ready_sitl.address,
               *LINK[:-1]).exit_code == 0
    items = read_waypoints(target).mission
    assert len(items) <= 40
    located = [item for item in items[1:] if item.x or item.y]
    assert {item.frame for item in located} <= {10, 11}  # GLOBAL_TERRAIN_ALT(_INT)
    assert items[-1].command == 21  # NAV_LAND, not RTL
