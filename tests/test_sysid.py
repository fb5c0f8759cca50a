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


# --- simulate credits the packs it flies ------------------------------------------------

def test_simulate_flies_the_plans_sysid_and_credits_its_packs(day, tmp_path):
    from agridrone.ops import registry
    from agridrone.resume import drone_from_plan
    from sim.sitl_frame import frame_model

    path = day / "rect" / "drone-2" / "plan.json"
    plan = json.loads(path.read_text())
    deep, shallow = plan["ops"]["packs"]  # sortie 1 drains its pack, sortie 2 not
    assert deep != shallow
    store = tmp_path / "packs.sqlite"
    registry.add_pack(store, shallow, "agras-t30", 29.0, 23.2, cycles=5)
    result = CliRunner().invoke(main, ["simulate", str(path), "--registry", str(store),
                                       "-o", str(tmp_path / "flown"), "--json"])
    assert result.exit_code == 0, result.output
    assert f"warning: pack {deep} was not in the registry" in result.stderr
    rows = {r[0]: r for r in registry.read_rows(store)}
    doc = json.loads(result.stdout)
    assert doc["sorties_flown"] == 2
    # the short sortie's pack: a cycle and its energy, too shallow to measure the capacity
    assert rows[shallow][3:5] == (23.2, 6)
    assert rows[shallow][5] == pytest.approx(doc["sorties"][1]["energy_wh"], rel=1e-3)
    # the deep sortie's pack was added: the capacity read from the vehicle's voltages and
    # coulomb count matches the simulated pack's own (the frame model's), the registry's
    # value moves to the mean of old and measured
    truth = frame_model(drone_from_plan(plan))["battCapacityAh"]
    measured = doc["packs"][0]["capacity_ah"]
    assert measured == pytest.approx(truth, rel=0.03)
    assert rows[deep][2:5] == (29.0, pytest.approx(0.5 * (29.0 + measured), abs=1e-3), 1)
    # the energy drawn against the planner's prediction for that sortie (its own model)
    assert rows[deep][5] == pytest.approx(plan["sorties"][0]["energy_wh"], rel=0.15)


@pytest.mark.parametrize("args,needle", [
    (["--pack", "A,B,C"], "3 packs for 2 sortie"),
    (["--pack", "A,"], "empty pack id"),
    (["--sysid", "9", "--connect", "tcp:127.0.0.1:1"], ""),
])
def test_bad_pack_input_is_one_line_and_leaves_the_registry(day, tmp_path, args, needle):
    from agridrone.ops import registry

    store = tmp_path / "packs.sqlite"
    registry.add_pack(store, "P1", "agras-t30", 29.0, 29.0, cycles=5)
    before = store.read_bytes()
    result = CliRunner().invoke(main, ["simulate", str(day / "rect" / "drone-2" / "plan.json"),
                                       "--registry", str(store), "-o", str(tmp_path / "o"),
                                       *args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert needle in result.stderr
    assert store.read_bytes() == before
    assert not (tmp_path / "o").exists()


def test_a_pack_of_another_drone_is_refused_before_flying(day, tmp_path):
    from agridrone.ops import registry

    path = day / "rect" / "drone-2" / "plan.json"
    pack = json.loads(path.read_text())["ops"]["packs"][0]
    store = tmp_path / "packs.sqlite"
    registry.add_pack(store, pack, "agras-t40", 30.0, 30.0)
    result = CliRunner().invoke(main, ["simulate", str(path),
                                       "--registry", str(store), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert f"pack {pack}" in result.stderr and "agras-t40" in result.stderr
    assert not (tmp_path / "o").exists()
