"""`agridrone resume` from a mission item or the point where the pump stopped: the new plan
covers exactly what is left."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from agridrone.cli import main
from agridrone.errors import AgridroneError
from agridrone.plan_file import dumps, validate_plan
from agridrone.resume import field_from_plan, remaining_work, resume_plan
from missions.mission import build_mission
from missions.progress import stop_after_item

FIELD = "agridrone/data/fields/sahiwal_L_with_obstacles.geojson"


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    result = CliRunner().invoke(main, ["plan", FIELD, "--swath-width", "12", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out / "plan.json", json.loads((out / "plan.json").read_text())


def _spray_local(plan, document):
    frame = field_from_plan(plan).frame
    return [frame.to_local(np.asarray(leg["coords"])) for s in document["sorties"]
            for leg in s["legs"] if leg["kind"] == "spray"]


def test_field_rebuilt_from_the_plan_matches_its_figures(planned):
    _, plan = planned
    field = field_from_plan(plan)
    assert field.sprayable_m2 / 1e4 == pytest.approx(plan["metrics"]["sprayable_ha"], abs=1e-3)


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.7])
def test_rest_is_the_plan_minus_what_was_done(planned, fraction):
    _, plan = planned
    items = build_mission(plan, 1, autopilot="ardupilot")[0]
    reached = int(fraction * (len(items) - 2))
    rest = resume_plan(plan, 1, stop_after_item(plan, 1, reached)).document
    validate_plan(rest)
    done = remaining_work(plan, 1, stop_after_item(plan, 1, reached)).done_spray_m
    assert rest["metrics"]["spray_m"] == pytest.approx(plan["metrics"]["spray_m"] - done, abs=1.0)
    assert rest["station"] == plan["station"]
    reserve = plan["drone"]["battery"]["reserve_pct"]
    assert all(s["soc_landing_pct"] >= reserve for s in rest["sorties"])
    planned_area = shapely.union_all([shapely.LineString(x).buffer(0.05)
                                      for x in _spray_local(plan, plan)])
    for line in _spray_local(plan, rest):  # every remaining stretch was in the original plan
        assert shapely.LineString(line).difference(planned_area).length < 0.5


def test_resume_at_the_start_replans_everything(planned):
    _, plan = planned
    rest = resume_plan(plan, 1, stop_after_item(plan, 1, 0)).document
    assert rest["metrics"]["spray_m"] == pytest.approx(plan["metrics"]["spray_m"], abs=1.0)


def test_items_beyond_the_mission_are_refused(planned):
    _, plan = planned
    items = build_mission(plan, 1, autopilot="ardupilot")[0]
    with pytest.raises(AgridroneError, match="not in sortie 1"):
        stop_after_item(plan, 1, len(items) + 5)
    with pytest.raises(AgridroneError, match="no sortie"):
        stop_after_item(plan, len(plan["sorties"]) + 1, 1)


def test_cli_needs_exactly_one_source(planned, tmp_path):
    plan_path, _ = planned
    runner = CliRunner()
    for extra in ([], ["--reached", "3", "--connect", "tcp:127.0.0.1:1"]):
        result = runner.invoke(main, ["resume", str(plan_path), "-o", str(tmp_path / "x"), *extra])
        assert result.exit_code == 2
        assert "give one of --at" in result.output
    assert not (tmp_path / "x").exists()


def test_reached_item_read_from_the_vehicle(planned, tmp_path):
    from agridrone.cli.simulate_run import SimulateOptions, built_in_vehicle
    from sim.mission_server import item_from_message

    plan_path, plan = planned
    items = build_mission(plan, 1, autopilot="ardupilot")[0]
    with built_in_vehicle(plan, SimulateOptions(speedup=50.0)) as vehicle:
        stored = [item_from_message(mavlink.MAVLink_mission_item_int_message(
            1, 1, it.seq, it.frame, it.command, 0, 1, it.param1, it.param2, it.param3,
            it.param4, it.x, it.y, it.z, 0)) for it in items]
        vehicle.store_mission(0, stored)
        vehicle.call(lambda sim: sim.flight.set_mission_current(9))
        result = CliRunner().invoke(main, ["resume", str(plan_path), "--connect",
                                           f"tcp:127.0.0.1:{vehicle.port}",
                                           "-o", str(tmp_path / "rest")])
    assert result.exit_code == 0, result.output
    assert "last reached mission item 8" in result.output
    rest = json.loads((tmp_path / "rest" / "plan.json").read_text())
    assert rest == json.loads(dumps(resume_plan(plan, 1, stop_after_item(plan, 1, 8)).document))


def _point_on_a_spray_leg(plan, fraction):
    """[lon, lat] a ``fraction`` of the way along sortie 1's longest spray leg (not a
    vertex), with the leg's index and its local coordinates."""
    frame = field_from_plan(plan).frame
    legs = plan["sorties"][0]["legs"]
    index = max((i for i, leg in enumerate(legs) if leg["kind"] == "spray"),
                key=lambda i: shapely.LineString(legs[i]["coords"]).length)
    line = shapely.LineString(frame.to_local(np.asarray(legs[index]["coords"])))
    cut = line.interpolate(fraction, normalized=True)
    lonlat = frame.to_wgs84(np.asarray([[cut.x, cut.y]]))[0]
    return lonlat, index, line, cut


@pytest.mark.parametrize("fraction", [0.25, 0.6])
def test_resume_at_the_point_the_pump_stopped_sprays_nothing_twice(planned, fraction):
    from agridrone.resume import stop_at_point

    _, plan = planned
    (lon, lat), index, line, cut = _point_on_a_spray_leg(plan, fraction)
    stop = stop_at_point(plan, 1, lon, lat)
    assert stop.leg == index
    rest = resume_plan(plan, 1, stop).document
    frame = field_from_plan(plan).frame
    legs_before = [leg for leg in plan["sorties"][0]["legs"][:index] if leg["kind"] == "spray"]
    done_m = sum(shapely.LineString(frame.to_local(np.asarray(leg["coords"]))).length
                 for leg in legs_before) + line.project(cut)
    # Independent of the planner's own figures: lengths re-measured on the geometry.
    rest_m = sum(shapely.LineString(xy).length for xy in _spray_local(plan, rest))
    total_m = sum(shapely.LineString(xy).length for xy in _spray_local(plan, plan))
    assert rest_m == pytest.approx(total_m - done_m, abs=0.05)
    first = next(leg for leg in rest["sorties"][0]["legs"] if leg["kind"] == "spray")
    start = frame.to_local(np.asarray(first["coords"][:1]))[0]
    assert np.hypot(*(start - (cut.x, cut.y))) < 0.01


def test_a_point_off_the_sortie_is_refused(planned):
    from agridrone.resume import stop_at_point

    _, plan = planned
    lon, lat = plan["station"]
    with pytest.raises(AgridroneError, match="not on a spray leg of sortie 1"):
        stop_at_point(plan, 1, lon + 0.01, lat + 0.01)


def test_cli_resume_at_writes_what_plan_writes(planned, tmp_path):
    plan_path, plan = planned
    (lon, lat), *_ = _point_on_a_spray_leg(plan, 0.5)
    result = CliRunner().invoke(main, ["resume", str(plan_path), "--sortie", "1",
                                       "--at", f"{lat:.8f},{lon:.8f}", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rest = json.loads((tmp_path / "plan.json").read_text())
    validate_plan(rest)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"plan.json", "coverage.geojson", "preview.png", "plan.kml"} <= names
    assert {f"sortie-{k:02d}.plan" for k in range(1, len(rest["sorties"]) + 1)} <= names
    assert "sorties" in result.output and "from the point" in result.output


def test_multi_part_sorties_resume_from_their_second_mission(tmp_path):
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", FIELD, "--swath-width", "12", "--max-items", "40",
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads((out / "plan.json").read_text())
    parts = build_mission(plan, 1, autopilot="ardupilot", max_items=40)
    assert len(parts) >= 2
    whole = stop_after_item(plan, 1, len(parts[0]) - 2, part=0)
    later = stop_after_item(plan, 1, len(parts[1]) // 2, part=1)
    assert (later.leg, later.vertex) > (whole.leg, whole.vertex)
    rest_later = resume_plan(plan, 1, later).document
    rest_whole = resume_plan(plan, 1, whole).document
    assert rest_later["metrics"]["spray_m"] < rest_whole["metrics"]["spray_m"]
    with pytest.raises(AgridroneError, match="no part"):
        stop_after_item(plan, 1, 1, part=len(parts))


def test_a_px4_plan_resumed_inside_a_pass_comes_in_along_it(tmp_path):
    """On PX4 (leads on) the resumed sortie flies a lead-in along the cut pass, pump off,
    and reaches the point the pump stopped at spray speed; nothing is sprayed twice."""
    from agridrone.coverage.leads import lead_lengths_m
    from agridrone.resume import stop_at_point

    result = CliRunner().invoke(main, ["plan", FIELD, "--autopilot", "px4", "--no-isoxml",
                                       "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "plan.json").read_text())
    (lon, lat), _, line, cut = _point_on_a_spray_leg(plan, 0.6)
    rest = resume_plan(plan, 1, stop_at_point(plan, 1, lon, lat)).document
    frame = field_from_plan(plan).frame
    legs = rest["sorties"][0]["legs"]
    assert [leg["kind"] for leg in legs[:3]] == ["transit", "lead", "spray"]
    lead_in = frame.to_local(np.asarray(legs[1]["coords"]))
    resumed = frame.to_local(np.asarray(legs[2]["coords"]))
    assert np.hypot(*(lead_in[-1] - (cut.x, cut.y))) < 0.01
    assert np.hypot(*(resumed[0] - (cut.x, cut.y))) < 0.01
    length = np.hypot(*(lead_in[-1] - lead_in[0]))
    assert length == pytest.approx(lead_lengths_m("px4", plan["inputs"]["speed_m_s"])[0], abs=0.05)
    assert line.buffer(0.05).covers(shapely.LineString(lead_in))  # back along the sprayed pass
    assert legs[1]["speed_m_s"] == plan["inputs"]["speed_m_s"]
