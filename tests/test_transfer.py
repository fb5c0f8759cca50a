"""firmware_bridge.transfer against the simulator (sim.vehicle.SimVehicle) over TCP loopback:
MAVLink FTP first on ArduPilot, confirmed through the mission protocol; the item protocol
when FTP is missing, refused or broken mid-transfer, never leaving a half-written mission;
``--transfer ftp`` failing with one line; PX4 on the item protocol; the CLI's --json path."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner
from mavlink_peer import MavlinkPeer
from test_bridge_protocol import spray_mission

from agridrone.cli import main
from agridrone.errors import AgridroneError
from firmware_bridge import mission_protocol
from firmware_bridge.link import connect
from firmware_bridge.transfer import fetch, load
from missions.formats import write_waypoints
from missions.mission import MissionItem
from sim.mission_server import stored_item
from sim.vehicle import SimVehicle

FAST = {"timeout_s": 0.2, "retries": 4}
CLI_FAST = ["--timeout", "0.2", "--retries", "4", "--heartbeat-timeout", "5"]
OLD = spray_mission(30, lat0=315300000, alt=9.0)


def stored(vehicle: SimVehicle, mission_type: int = 0) -> list[tuple]:
    """The vehicle's stored list (mission item 0 excluded) as command, x, y, z, param1."""
    def snapshot(sim: SimVehicle) -> list[tuple]:
        items = sim.missions.lists[mission_type]
        first = 1 if mission_type == 0 else 0
        return [(it.command, it.x, it.y, round(it.z, 2), it.param1) for it in items[first:]]
    return vehicle.call(snapshot)


def as_stored(items: list[MissionItem], mission_type: int = 0) -> list[tuple]:
    first = 1 if mission_type == 0 else 0
    return [(it.command, it.x, it.y, round(it.z, 2), it.param1) for it in items[first:]]


def store_old_mission(vehicle: SimVehicle) -> None:
    vehicle.store_mission(0, [stored_item(it.command, it.frame, it.param1, it.param2, it.param3,
                                   it.param4, it.x, it.y, it.z) for it in OLD])


@pytest.fixture
def vehicle(request):
    with SimVehicle(port=0, ftp=getattr(request, "param", "serve"), boot_scale=0.01) as sim:
        yield sim


@pytest.fixture
def link(vehicle):
    conn = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=5.0)
    yield conn
    conn.close()


def test_ardupilot_takes_ftp_and_the_mission_protocol_confirms_it(vehicle, link):
    items = spray_mission(600)
    report = load(link, items, **FAST)
    assert (report.path, report.items, report.fell_back_reason) == ("ftp", 600, None)
    assert report.bytes == 10 + 600 * 38 and report.ftp_answered
    assert stored(vehicle) == as_stored(items)
    assert vehicle.call(lambda sim: sim.ftp.uploads_applied) == 1
    assert vehicle.call(lambda sim: sim.params.get("MIS_TOTAL").value) == 600
    # the same mission comes back through FTP and through the pipelined item download
    by_ftp, ftp_report = fetch(link, **FAST)
    by_items, items_report = fetch(link, transfer="items", **FAST)
    assert (ftp_report.path, items_report.path) == ("ftp", "items")
    assert by_ftp == by_items and len(by_ftp) == 600


def test_both_paths_leave_the_same_vehicle_mission(vehicle, link):
    items = spray_mission(200)
    assert load(link, items, transfer="ftp", **FAST).path == "ftp"
    by_ftp = vehicle.call(lambda sim: list(sim.missions.lists[0]))
    mission_protocol.clear(link, **FAST)
    assert load(link, items, transfer="items", **FAST).path == "items"
    assert vehicle.call(lambda sim: list(sim.missions.lists[0]))[1:] == by_ftp[1:]


def test_fence_and_rally_go_by_ftp_and_their_totals_are_announced(vehicle, link):
    fence = [MissionItem(seq=i, frame=5, command=5001, param1=4.0, x=x, y=y, mission_type=1)
             for i, (x, y) in enumerate([(315214780, 743587000), (315209390, 743597951),
                                         (315198610, 743597951), (315193220, 743587000)])]
    rally = [MissionItem(seq=0, frame=6, command=5100, x=315204000, y=743592269, z=15.0,
                         mission_type=2)]
    assert load(link, fence, 1, **FAST).path == "ftp"
    assert load(link, rally, 2, **FAST).path == "ftp"
    assert stored(vehicle, 1) == as_stored(fence, 1) and stored(vehicle, 2) == as_stored(rally, 2)
    totals = vehicle.call(lambda sim: (sim.params.get("FENCE_TOTAL").value,
                                       sim.params.get("RALLY_TOTAL").value))
    assert totals == (5, 1)  # 4 vertices + 1 polygon header, as AC_PolyFence_loader counts


@pytest.mark.parametrize("vehicle, reason, answered", [
    ("absent", "did not answer MAVLink FTP (4 tries of 0.2 s)", False),
    ("refuse", "refused FTP create of @MISSION/mission.dat: FileNotFound", True),
], indirect=["vehicle"])
def test_missing_or_refused_ftp_falls_back_to_items_and_says_why(vehicle, link, reason,
                                                                 answered):
    store_old_mission(vehicle)
    items = spray_mission(120)
    report = load(link, items, **FAST)
    assert report.path == "items" and reason in report.fell_back_reason
    assert report.ftp_answered == answered
    assert stored(vehicle) == as_stored(items)


@pytest.mark.parametrize("vehicle", ["break"], indirect=True)
def test_ftp_broken_mid_transfer_falls_back_and_never_leaves_a_half_mission(vehicle, link):
    store_old_mission(vehicle)
    items = spray_mission(300)
    report = load(link, items, **FAST)
    assert report.path == "items"
    assert "stopped acknowledging FTP writes" in report.fell_back_reason
    assert report.retries > 0
    got, _ = fetch(link, transfer="items", **FAST)
    assert as_stored(got) == as_stored(items)
    # 20 s later the vehicle closes the abandoned FTP session: the half-written file (its
    # header never arrived) is refused and the mission stays the one just verified
    vehicle.call(lambda sim: sim.ftp.tick(sim.now_s() + 25.0))
    assert vehicle.call(lambda sim: (sim.ftp.uploads_applied, sim.ftp.uploads_refused)) == (0, 1)
    assert stored(vehicle) == as_stored(items)


@pytest.mark.parametrize("vehicle", ["break"], indirect=True)
def test_transfer_ftp_broken_mid_transfer_fails_and_clears(vehicle, link):
    store_old_mission(vehicle)
    with pytest.raises(AgridroneError) as caught:
        load(link, spray_mission(300), transfer="ftp", **FAST)
    message = str(caught.value)
    assert "stopped acknowledging FTP writes" in message and "\n" not in message
    assert "mission was cleared (count 0 read back)" in message
    assert mission_protocol.download(link, **FAST) == []


def test_item_the_vehicle_would_refuse_is_refused_before_anything_is_sent(vehicle, link):
    store_old_mission(vehicle)
    before = stored(vehicle)
    items = spray_mission(60)
    items[40] = replace(items[40], command=9999)
    with pytest.raises(AgridroneError, match="item 40: command 9999.*nothing was sent"):
        load(link, items, **FAST)
    assert stored(vehicle) == before


def test_item_refused_by_the_vehicle_never_leaves_a_half_written_mission(vehicle, link,
                                                                         monkeypatch):
    # A refusal the checks did not foresee: ArduPilot applies a mission file item by item and
    # stops at an item it cannot store, refusing the file: FTP leaves part of it; the
    # fallback's item upload is refused at the same item and clears the list
    import firmware_bridge.transfer as transfer_module

    for module in (transfer_module, mission_protocol):
        monkeypatch.setattr(module, "check_items", lambda *args, **kwargs: None)
    store_old_mission(vehicle)
    items = spray_mission(60)
    items[40] = replace(items[40], command=9999)
    with pytest.raises(AgridroneError) as caught:
        load(link, items, **FAST)
    message = str(caught.value)
    assert "item 40 of 60" in message and "UNSUPPORTED" in message
    assert "after falling back from MAVLink FTP" in message and "differs" in message
    assert "mission was cleared" in message and "\n" not in message
    assert mission_protocol.download(link, **FAST) == []


@pytest.mark.parametrize("vehicle", ["absent"], indirect=True)
def test_transfer_ftp_without_ftp_is_one_line_and_changes_nothing(vehicle, link):
    store_old_mission(vehicle)
    with pytest.raises(AgridroneError) as caught:
        load(link, spray_mission(50), transfer="ftp", **FAST)
    assert str(caught.value) == (
        "the vehicle did not answer MAVLink FTP (4 tries of 0.2 s); the vehicle's mission was "
        "not changed (use --transfer items or auto)")
    assert stored(vehicle) == as_stored(OLD)


def test_px4_uses_the_item_protocol():
    peer = MavlinkPeer(autopilot="px4").start()
    try:
        conn = connect(peer.address, heartbeat_timeout_s=3.0)
        try:
            items = [MissionItem(seq=i, frame=6, command=16, x=315204000 + i * 100,
                                 y=743587000, z=10.0) for i in range(40)]
            report = load(conn, items, **FAST)
            with pytest.raises(AgridroneError, match="--transfer ftp needs ArduPilot"):
                load(conn, items, transfer="ftp", **FAST)
        finally:
            conn.close()
    finally:
        peer.stop()
    assert (report.path, report.fell_back_reason, report.ftp_answered) == ("items", None, False)
    assert peer.stored() == items


def run(*args: str):
    return CliRunner().invoke(main, [*args, *CLI_FAST])


def test_cli_json_names_the_path_bytes_retries_and_rate(vehicle, tmp_path):
    source = tmp_path / "sortie.waypoints"
    write_waypoints(source, spray_mission(100))
    address = f"tcp:127.0.0.1:{vehicle.port}"
    result = run("upload", "--force", str(source), "--json", "--connect", address)
    assert result.exit_code == 0, result.output
    (upload,) = json.loads(result.stdout)["uploads"]
    assert {k: upload[k] for k in ("kind", "path", "items", "bytes", "verified",
                                   "fell_back_reason")} == {
        "kind": "mission", "path": "ftp", "items": 100, "bytes": 3810, "verified": True,
        "fell_back_reason": None}
    assert upload["retries"] >= 0 and upload["items_per_s"] > 0
    result = run("upload", "--force", str(source), "--transfer", "items", "--connect", address)
    assert result.exit_code == 0, result.output
    assert "mission: 100 items loaded and verified via items" in result.stdout
    back = tmp_path / "back.waypoints"
    result = run("download", "-o", str(back), "--json", "--connect", address)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["path"], summary["items"]) == ("ftp", 100)


def test_cli_falls_back_on_a_vehicle_without_ftp_and_says_so(tmp_path):
    peer = MavlinkPeer().start()
    try:
        source = tmp_path / "sortie.waypoints"
        write_waypoints(source, spray_mission(40))
        result = run("upload", "--force", str(source), "--quiet", "--connect", peer.address)
        assert result.exit_code == 0, result.output
        assert "mission: 40 items loaded and verified via items" in result.stdout
        assert "mission: MAVLink FTP not used: the vehicle did not answer" in result.stdout
        result = run("upload", "--force", str(source), "--transfer", "ftp", "--connect", peer.address)
    finally:
        peer.stop()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the vehicle did not answer MAVLink FTP")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("vehicle", ["break"], indirect=True)
def test_reboot_forgets_open_ftp_sessions_without_applying_them(vehicle, link):
    with pytest.raises(AgridroneError, match="stopped acknowledging FTP writes"):
        load(link, spray_mission(100), transfer="ftp", timeout_s=0.1, retries=1)
    assert vehicle.call(lambda sim: len(sim.ftp.sessions)) == 1  # the broken upload's
    link.mav.command_long_send(1, 1, 246, 0, 1, 0, 0, 0, 0, 0, 0)  # PREFLIGHT_REBOOT
    deadline = time.monotonic() + 5.0
    while vehicle.call(lambda sim: len(sim.ftp.sessions)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert vehicle.call(lambda sim: (len(sim.ftp.sessions), sim.ftp.uploads_refused,
                                     sim.ftp.uploads_applied)) == (0, 0, 0)
    again = connect(f"tcp:127.0.0.1:{vehicle.port}", heartbeat_timeout_s=5.0)
    try:  # the rebooted vehicle answers FTP again, with the list the item protocol reads
        items, report = fetch(again, transfer="ftp", **FAST)
        assert report.path == "ftp" and items == mission_protocol.download(again, **FAST)
    finally:
        again.close()
