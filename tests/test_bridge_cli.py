"""``agridrone upload | download | clear | params`` against the ArduPilot-like peer over TCP
loopback: plan.json and .waypoints uploads with fence and rally, JSON summaries, download to a
.waypoints file, clear, parameters, and one-line errors with exit status 2."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner
from mavlink_peer import HOME, MavlinkPeer
from test_bridge_protocol import spray_mission
from test_mission_helpers import holed_plan, rectangle_plan

from agridrone.cli import main
from agridrone.failsafe import sortie_failsafe
from agridrone.resume import drone_from_plan
from firmware_bridge.readback import expected_readback_frame
from missions.fence import build_fence, build_rally
from missions.formats import read_waypoints, write_waypoints
from missions.formats.mission_file import item_frame
from missions.mission import build_mission

FAST = ["--timeout", "0.1", "--retries", "3", "--heartbeat-timeout", "3"]


@pytest.fixture
def peer():
    vehicle = MavlinkPeer().start()
    yield vehicle
    vehicle.stop()


def run(*args: str):
    return CliRunner().invoke(main, [*args, *FAST])


def test_upload_plan_sortie_with_fence_and_rally_json_summary(peer, tmp_path):
    plan = holed_plan()
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    result = run("upload", "--force", str(path), "--sortie", "2", "--fence", "--rally", "--json",
                 "--params", "--drone", "agras-t30", "--rate", "20", "--connect", peer.address)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["autopilot"] == "ardupilot"
    assert [(u["kind"], u["verified"]) for u in summary["uploads"]] == [
        ("mission", True), ("fence", True), ("rally", True)]
    mission = build_mission(plan, 2, autopilot="ardupilot")[0]
    assert summary["uploads"][0]["items"] == len(mission)
    assert peer.stored(0)[1:] == mission[1:]
    assert peer.stored(1) == build_fence(plan, autopilot="ardupilot")
    assert peer.stored(2) == build_rally(plan, autopilot="ardupilot")
    # 20 L/ha (--rate overrides the plan's) x the plan's pass spacing per m/s, in % of the
    # T30's 7.2 L/min pump
    swath = plan["inputs"]["swath_width_m"]
    assert summary["params"]["SPRAY_PUMP_RATE"] == pytest.approx(
        100 * 20 * swath * 60 / 10_000 / 7.2, rel=1e-6)
    assert "--rate 20 L/ha overrides the plan's 15 L/ha" in result.stderr
    # sortie 2's own low failsafe: the charge home from its farthest point plus the reserve
    drone = drone_from_plan(plan)
    low_pct = sortie_failsafe(plan, drone, 2).low_pct
    assert low_pct > drone.battery.reserve_pct
    assert summary["params"]["BATT_LOW_MAH"] == pytest.approx(
        summary["params"]["BATT_CAPACITY"] * low_pct / 100, abs=1)
    assert summary["params"]["FENCE_ENABLE"] == 1 and summary["params"]["FENCE_TYPE"] == 5
    # this peer has no scripting: one warning, the fence and battery actions alone
    assert "warning: the vehicle has no Lua scripting" in result.stderr
    assert summary["pump_guard"] is None


def test_vehicle_going_silent_mid_upload_exits_2_saying_how_far(peer, tmp_path):
    source = tmp_path / "sortie.waypoints"
    write_waypoints(source, spray_mission(40))
    peer.go_silent(after_items=20, for_s=1.0)
    result = run("upload", "--force", str(source), "--connect", peer.address)
    assert result.exit_code == 2
    assert "20 of 40 items confirmed stored" in result.stderr
    assert "mission was cleared (count 0 read back)" in result.stderr
    assert peer.stored() == []


def test_upload_waypoints_file_then_download_and_clear(peer, tmp_path):
    items = spray_mission(40)
    source = tmp_path / "sortie.waypoints"
    write_waypoints(source, items)
    result = run("upload", "--force", str(source), "--quiet", "--connect", peer.address)
    assert result.exit_code == 0, result.output
    assert "mission: 40 items loaded and verified" in result.stdout
    assert peer.stored()[1:] == items[1:]

    target = tmp_path / "back.waypoints"
    result = run("download", "-o", str(target), "--quiet", "--connect", peer.address)
    assert result.exit_code == 0, result.output
    downloaded = read_waypoints(target).mission
    assert (downloaded[0].x, downloaded[0].y) == (HOME[0], HOME[1])  # line 0: vehicle home
    # the file holds the frames as the vehicle returned them (6 written as 3, read as 6)
    located = [item_frame(expected_readback_frame(it, "ardupilot", 0)) for it in items]
    assert [it.frame for it in downloaded[1:]] == located[1:]
    assert [replace(it, frame=0) for it in downloaded[1:]] == [
        replace(it, frame=0) for it in items[1:]]

    result = run("clear", "--connect", peer.address)
    assert result.exit_code == 0 and "mission cleared (count 0 read back)" in result.stdout
    assert peer.stored() == []


def test_a_mission_over_the_vehicle_limit_is_refused_before_sending(peer, tmp_path):
    source = tmp_path / "big.waypoints"
    write_waypoints(source, spray_mission(700))
    result = run("upload", "--force", str(source), "--connect", peer.address)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: mission has 700 items but the vehicle holds at "
                                    "most 650 (--max-items); nothing was sent")
    assert peer.counts_received == []


def test_sortie_all_needs_a_one_sortie_plan(peer, tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(rectangle_plan()))
    result = run("upload", "--force", str(path), "--sortie", "all", "--connect", peer.address)
    assert result.exit_code == 2 and "choose one with --sortie N" in result.stderr
    single = rectangle_plan(passes_per_sortie=1000)
    path.write_text(json.dumps(single))
    result = run("upload", "--force", str(path), "--sortie", "all", "--quiet", "--connect", peer.address)
    assert result.exit_code == 0, result.output
    assert peer.stored()[1:] == build_mission(single, 1, autopilot="ardupilot")[0][1:]


def test_params_command_sets_sprayer_and_battery_failsafe(peer):
    result = run("params", "--sprayer", "--battery-failsafe", "--drone", "agras-t30",
                 "--rate", "20", "--speed", "5", "--json", "--connect", peer.address)
    assert result.exit_code == 0, result.output
    confirmed = json.loads(result.stdout)["params"]
    assert confirmed["SPRAY_ENABLE"] == 1 and confirmed["BATT_FS_LOW_ACT"] == 2
    assert confirmed["SERVO9_FUNCTION"] == 22 and confirmed["SERVO10_FUNCTION"] == 23
    assert peer.params["SPRAY_PUMP_RATE"][0] == pytest.approx(confirmed["SPRAY_PUMP_RATE"])
    assert peer.params["BATT_LOW_VOLT"][0] > peer.params["BATT_CRT_VOLT"][0] > 0


def test_no_vehicle_is_one_line_and_exit_2(tmp_path):
    silent = MavlinkPeer(heartbeat_s=1e12).start()  # accepts the connection, never speaks
    try:
        result = CliRunner().invoke(main, ["clear", "--connect", silent.address,
                                           "--heartbeat-timeout", "0.3"])
    finally:
        silent.stop()
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"error: no vehicle HEARTBEAT on {silent.address} within "
                                     "0.3 s (check the address, the baud rate and that the "
                                     "vehicle is powered)")
