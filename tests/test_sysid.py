"""Each drone of an ``agridrone ops`` day is addressed by its own MAVLink system id: its
plan.json names it, and ``upload`` / ``simulate`` talk to that vehicle only when two share one
link (two built-in vehicles with different SYSID_THISMAV behind :class:`sim.hub.Hub`)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from missions.mission import build_mission
from sim.hub import Hub
from sim.mission_server import MISSION
from sim.params import COPTER_PARM, SPRAYER_PARM
from sim.vehicle import SimVehicle

# 400 m x 120 m (4.8 ha) near Faisalabad: two regions, drone 2 flies two sorties
RECT = [[73.1, 31.4], [73.10420595, 31.39999993], [73.104206, 31.40108222],
        [73.1, 31.40108229], [73.1, 31.4]]
LINK = ["--quiet", "--timeout", "0.3", "--retries", "10", "--heartbeat-timeout", "10"]


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """An ops day of two drones with system ids 7 and 8; the folder it was written to."""
    tmp = tmp_path_factory.mktemp("sysid")
    field = tmp / "rect.geojson"
    field.write_text(json.dumps({"type": "Polygon", "coordinates": [RECT]}))
    out = tmp / "day"
    result = CliRunner().invoke(main, ["ops", str(field), "--drones", "2", "--packs", "3",
                                       "--first-sysid", "7", "-o", str(out),
                                       "--registry", str(tmp / "none.sqlite")])
    assert result.exit_code == 0, result.output
    return out


def vehicle(plan: dict, sysid: int) -> SimVehicle:
    lon, lat = plan["station"]
    return SimVehicle(port=0, speedup=50.0, boot_scale=0.02, timeout_scale=50.0, sysid=sysid,
                      home=(lat, lon, 215.0), param_files=(COPTER_PARM, SPRAYER_PARM))


def positions(items) -> list[tuple[int, int, int]]:
    """(command, lat e7, lon e7) of each mission item."""
    return [(it.command, it.x, it.y) for it in items]


def test_each_region_plan_names_its_drone_sysid_and_packs(day):
    schedule = json.loads((day / "schedule.json").read_text())
    for entry in schedule["drones"]:
        plan = json.loads((day / "rect" / f"drone-{entry['drone']}" / "plan.json").read_text())
        assert plan["ops"]["sysid"] == entry["sysid"] == 6 + entry["drone"]
        assert plan["ops"]["packs"] == [s["pack"] for s in entry["sorties"]]
        assert (day / "rect" / f"drone-{entry['drone']}" / plan["ops"]["schedule"]).resolve() \
            == (day / "schedule.json").resolve()


def test_upload_reaches_the_plans_vehicle_only(day):
    path = day / "rect" / "drone-2" / "plan.json"
    plan = json.loads(path.read_text())
    other, target = vehicle(plan, 7), vehicle(plan, 8)
    with other, target:
        kept = build_mission(json.loads((day / "rect" / "drone-1" / "plan.json").read_text()),
                             1, autopilot="ardupilot")[0]
        other.store_mission(MISSION, kept)
        with Hub([other.port, target.port]) as hub:
            result = CliRunner().invoke(main, ["upload", str(path), "--sortie", "2",
                                               "--connect", f"tcp:127.0.0.1:{hub.port}", *LINK])
            sent = hub.gcs_messages()
        assert result.exit_code == 0, result.output
        assert target.call(lambda v: positions(v.missions.lists[MISSION]))[1:] == positions(
            build_mission(plan, 2, autopilot="ardupilot")[0])[1:]
        assert other.call(lambda v: positions(v.missions.lists[MISSION])) == positions(kept)
    # every addressed message on the wire names system 8; the mission went item by item
    # or by FTP, both addressed
    addressed = [m for m in sent if hasattr(m, "target_system")]
    assert len(addressed) > 10
    assert {m.target_system for m in addressed} == {8}
    assert {"MISSION_COUNT", "MISSION_ITEM_INT"} <= {m.get_type() for m in addressed} or \
        "FILE_TRANSFER_PROTOCOL" in {m.get_type() for m in addressed}


def test_a_sysid_that_never_answers_is_one_line_exit_2(day):
    path = day / "rect" / "drone-2" / "plan.json"
    plan = json.loads(path.read_text())
    with vehicle(plan, 7) as a, vehicle(plan, 8) as b, Hub([a.port, b.port]) as hub:
        result = CliRunner().invoke(main, ["upload", str(path), "--sysid", "9", "--connect",
                                           f"tcp:127.0.0.1:{hub.port}", "--quiet",
                                           "--heartbeat-timeout", "3"])
        stored = [len(v.missions.lists[MISSION]) for v in (a, b)]
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "system id 9" in result.stderr and "7, 8" in result.stderr
    assert stored == [1, 1]  # home only: nothing was sent
