"""Mission files: write -> read gives the same items for every format and both autopilots;
.waypoints load in pymavlink's MAVWPLoader; .plan files pass QGroundControl's loader checks;
writes are deterministic and atomic."""

from __future__ import annotations

import json
import os

import pytest
from pymavlink import mavwp
from test_mission_helpers import holed_plan, keys, rectangle_plan

from agridrone.errors import AgridroneError
from missions.fence import build_fence, build_rally
from missions.formats import (
    read_kml_plan,
    read_mission_file,
    write_geojson,
    write_kml,
    write_qgc_plan,
    write_waypoints,
)
from missions.mission import build_mission
from tests.test_mission_helpers import write_mission_files

AUTOPILOTS = ["ardupilot", "px4"]
PLANS = {"rectangle": rectangle_plan(), "holed": holed_plan()}


def _parts(plan, autopilot, **options):
    return build_mission(plan, 1, autopilot=autopilot, **options)[0], \
        build_fence(plan, autopilot=autopilot), build_rally(plan, autopilot)


def _home(plan):
    lon, lat = plan["station"]
    return (lon, lat, 0.0)


@pytest.mark.parametrize("autopilot, alt_frame", [
    ("ardupilot", "relative"), ("ardupilot", "terrain"), ("px4", "relative")])
def test_qgc_plan_round_trip_gives_identical_items(tmp_path, autopilot, alt_frame):
    plan = PLANS["holed"]
    mission, fence, rally = _parts(plan, autopilot, alt_frame=alt_frame, end="land")
    path = write_qgc_plan(tmp_path / "m.plan", mission, fence, rally, autopilot, _home(plan))
    back = read_mission_file(path)
    assert back.autopilot == autopilot
    assert keys(back.mission) == keys(mission)
    assert keys(back.fence) == keys(fence)
    assert keys(back.rally) == keys(rally)


@pytest.mark.parametrize("autopilot", AUTOPILOTS)
def test_waypoints_round_trip_gives_identical_items(tmp_path, autopilot):
    plan = PLANS["holed"]
    mission, _, _ = _parts(plan, autopilot, transit_alt_m=7.5)
    home = None if autopilot == "ardupilot" else _home(plan)
    path = write_waypoints(tmp_path / "m.waypoints", mission, home)
    assert keys(read_mission_file(path, autopilot).mission) == keys(mission)


@pytest.mark.parametrize("autopilot", AUTOPILOTS)
def test_geojson_round_trip_gives_identical_items(tmp_path, autopilot):
    plan = PLANS["rectangle"]
    mission, _, _ = _parts(plan, autopilot)
    path = write_geojson(tmp_path / "m.geojson", plan, mission, autopilot)
    back = read_mission_file(path)
    assert back.autopilot == autopilot and keys(back.mission) == keys(mission)
    features = json.loads(path.read_text())["features"]
    legs = [f for f in features if f["properties"]["layer"] == "leg"]
    assert [f["geometry"]["coordinates"] for f in legs] == \
        [leg["coords"] for s in plan["sorties"] for leg in s["legs"]]


@pytest.mark.parametrize("name", sorted(PLANS))
def test_kml_round_trip_gives_the_field_passes_and_route(tmp_path, name):
    plan = PLANS[name]
    back = read_kml_plan(write_kml(tmp_path / "plan.kml", plan))
    assert back["field"] == [ring for poly in plan["field"]["coordinates"] for ring in poly]
    assert back["no_spray"] == [ring for poly in plan["no_spray"]["coordinates"] for ring in poly]
    for sortie in plan["sorties"]:
        got = back["sorties"][sortie["index"]]
        assert got["passes"] == [leg["coords"] for leg in sortie["legs"] if leg["kind"] == "spray"]
        assert got["route"][0] == got["route"][-1] == plan["station"]
        assert all(p in got["route"] for leg in sortie["legs"] for p in leg["coords"])


@pytest.mark.parametrize("autopilot", AUTOPILOTS)
def test_waypoints_load_in_pymavlink_mavwp_with_the_same_items(tmp_path, autopilot):
    plan = PLANS["holed"]
    mission, _, _ = _parts(plan, autopilot)
    home = None if autopilot == "ardupilot" else _home(plan)
    path = write_waypoints(tmp_path / "m.waypoints", mission, home)
    loader = mavwp.MAVWPLoader()
    assert loader.load(str(path)) == len(mission) + (home is not None)
    offset = 0 if home is None else 1
    file_frames = {6: 3, 11: 10}  # .waypoints carry the float-coordinate frames
    for item in mission:
        wp = loader.wp(item.seq + offset)
        assert wp.seq == item.seq + offset and wp.command == item.command
        assert wp.frame == file_frames.get(item.frame, item.frame)
        assert round(wp.x * 1e7) == item.x and round(wp.y * 1e7) == item.y and wp.z == item.z
        for got, want in zip((wp.param1, wp.param2, wp.param3, wp.param4),
                             (item.param1, item.param2, item.param3, item.param4), strict=True):
            assert got == want or (got != got and want != want)
        assert wp.autocontinue == item.autocontinue


def _qgc_load(document: dict) -> None:
    """The checks QGroundControl makes when it opens a .plan file, in its order.

    Sources (github.com/mavlink/qgroundcontrol, src/MissionManager/ and src/Utilities/):
    PlanMasterController.cc loadFromFile -> JsonHelper::validateExternalQGCJsonFile
    (groundStation string, fileType "Plan", version 1), then mission/geoFence/rallyPoints
    objects required; MissionController.cc _loadJsonMissionFileV2 (plannedHomePosition
    array with altitude, items array, firmwareType number, vehicleType number);
    MissionItem.cc load (type "SimpleItem", frame, command, params of 7 numbers or null,
    autoContinue bool, doJumpId number); GeoFenceController.cc load (version 2, circles
    and polygons arrays); QGCFencePolygon.cc loadFromJson (version 1, inclusion bool,
    fenceAction number in current QGroundControl) and QGCMapPolygon.cc (polygon of
    [lat, lon]); RallyPointController.cc load (version 2, points of [lat, lon, alt]).
    """
    assert isinstance(document["groundStation"], str)
    assert document["fileType"] == "Plan" and document["version"] == 1
    mission, fence, rally = document["mission"], document["geoFence"], document["rallyPoints"]
    assert all(isinstance(o, dict) for o in (mission, fence, rally))
    home = mission["plannedHomePosition"]
    assert isinstance(home, list) and len(home) == 3 and all(isinstance(v, float) for v in home)
    assert isinstance(mission["items"], list)
    assert isinstance(mission["firmwareType"], int) and isinstance(mission["vehicleType"], int)
    for item in mission["items"]:
        assert item["type"] == "SimpleItem"
        assert isinstance(item["frame"], int) and isinstance(item["command"], int)
        assert isinstance(item["autoContinue"], bool) and isinstance(item["doJumpId"], int)
        params = item["params"]
        assert len(params) == 7
        assert all(p is None or isinstance(p, float) for p in params[:4])
        assert all(isinstance(p, float) for p in params[4:])
    assert fence["version"] == 2 and fence["circles"] == []
    for polygon in fence["polygons"]:
        assert polygon["version"] == 1 and isinstance(polygon["inclusion"], bool)
        assert isinstance(polygon["fenceAction"], int)
        assert len(polygon["polygon"]) >= 3
        assert all(len(v) == 2 and -90 <= v[0] <= 90 and -180 <= v[1] <= 180
                   for v in polygon["polygon"])
    assert rally["version"] == 2
    assert all(len(p) == 3 for p in rally["points"])


@pytest.mark.parametrize("autopilot", AUTOPILOTS)
def test_plan_files_satisfy_qgroundcontrols_loader(tmp_path, autopilot):
    plan = PLANS["holed"]
    mission, fence, rally = _parts(plan, autopilot)
    path = write_qgc_plan(tmp_path / "m.plan", mission, fence, rally, autopilot, _home(plan))
    document = json.loads(path.read_text())
    _qgc_load(document)
    assert document["mission"]["firmwareType"] == {"ardupilot": 3, "px4": 12}[autopilot]
    assert document["mission"]["vehicleType"] == 2  # quadrotor
    lon, lat = plan["station"]
    assert document["mission"]["plannedHomePosition"][:2] == pytest.approx([lat, lon], abs=1e-7)
    # QGroundControl keeps home apart: ArduPilot's item 0 is not repeated among the items
    assert len(document["mission"]["items"]) == len(mission) - (autopilot == "ardupilot")
    inclusion = [p["inclusion"] for p in document["geoFence"]["polygons"]]
    assert inclusion == [True, False]
    assert document["rallyPoints"]["points"][0][:2] == pytest.approx([lat, lon], abs=1e-7)


def test_mission_files_are_deterministic_and_named_per_sortie(tmp_path):
    plan = PLANS["holed"]
    options = dict(autopilot="px4", alt_frame="relative", transit_alt_m=None, end="rtl",
                   max_items=40, fence_margin_m=10.0)
    warnings = write_mission_files(plan, tmp_path / "a", **options)
    write_mission_files(plan, tmp_path / "b", **options)
    names = sorted(os.listdir(tmp_path / "a"))
    assert names == sorted(os.listdir(tmp_path / "b"))
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert "plan.kml" in names and "sortie-01a.plan" in names and "sortie-01b.waypoints" in names
    assert any("split into" in w for w in warnings)
    single = write_mission_files(plan, tmp_path / "c", **{**options, "autopilot": "ardupilot",
                                                          "max_items": None})
    assert single == [] and "sortie-01.plan" in os.listdir(tmp_path / "c")
    assert not [n for n in os.listdir(tmp_path / "c") if n.startswith(".")]


def test_terrain_warning_reaches_the_caller(tmp_path):
    warnings = write_mission_files(PLANS["rectangle"], tmp_path, autopilot="ardupilot",
                                   alt_frame="terrain", transit_alt_m=None, end="rtl",
                                   max_items=None, fence_margin_m=10.0)
    assert any("rangefinder" in w for w in warnings)


def test_a_failed_write_leaves_no_file(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    plan = PLANS["rectangle"]
    mission, fence, rally = _parts(plan, "ardupilot")
    with pytest.raises(AgridroneError, match="cannot write"):
        write_qgc_plan(blocker / "m.plan", mission, fence, rally, "ardupilot")
    assert sorted(os.listdir(tmp_path)) == ["not-a-dir"]


@pytest.mark.parametrize("name, content, message", [
    ("m.waypoints", "QGC WPL 110\n0\t0\t0\t16\n", "has 4 values"),
    ("m.waypoints", "hello\n", "no 'QGC WPL 110' header"),
    ("m.plan", "{", "not valid JSON"),
    ("m.plan", '{"fileType": "Mission"}', "not a QGroundControl plan"),
    ("m.plan", '{"fileType": "Plan", "mission": {}}', "not a valid QGroundControl plan"),
    ("m.kmz", "", "unknown mission file type"),
])
def test_bad_mission_files_are_refused_with_a_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(AgridroneError, match=message):
        read_mission_file(path)
