"""Missions built from the planner's plans of the sample fields: the spray recomputed from
the mission items alone matches the planner's coverage, and every waypoint lies inside
the fence's inclusion polygon and outside its exclusion polygons."""

from __future__ import annotations

import json

import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Point, Polygon, shape

from agridrone.cli import main
from agridrone.coverage.metrics import coverage_metrics
from agridrone.examples import FIELD_DIR
from agridrone.geo import LocalFrame
from missions.fence import build_fence, fence_polygons
from missions.mission import POSITION_COMMANDS, build_mission, spray_lines_from_items

FIELDS = FIELD_DIR
SAMPLES = {
    "lahore_rect_2ha": [],
    "faisalabad_irregular": ["faisalabad_irregular_nospray.geojson"],
    "sahiwal_L_with_obstacles": [],
}


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def sample_plan(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    args = ["plan", str(FIELDS / f"{request.param}.geojson"), "-o", str(out)]
    for exclude in SAMPLES[request.param]:
        args += ["--exclude", str(FIELDS / exclude)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


def _missions(plan, autopilot):
    return [items for index in range(1, len(plan["sorties"]) + 1)
            for items in build_mission(plan, index, autopilot=autopilot)]


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_coverage_from_mission_items_matches_the_planner(sample_plan, autopilot):
    plan = sample_plan
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    field = frame.geometry_to_local(shape(plan["field"]))
    outline = shapely.union_all([Polygon(p.exterior) for p in field.geoms])
    sprayable = outline.difference(frame.geometry_to_local(shape(plan["no_spray"])))
    lines = [frame.to_local(line) for items in _missions(plan, autopilot)
             for line in spray_lines_from_items(items)]
    metrics = coverage_metrics(lines, sprayable, plan["inputs"]["swath_width_m"])
    assert abs(metrics.coverage_pct - plan["metrics"]["coverage_pct"]) < 0.1


@pytest.mark.parametrize("autopilot", ["ardupilot", "px4"])
def test_every_waypoint_of_a_sample_respects_the_fence(sample_plan, autopilot):
    fence = build_fence(sample_plan, autopilot=autopilot)
    inclusions, exclusions = fence_polygons(fence)
    (inclusion,) = [Polygon(ring) for ring in inclusions]
    zones = [Polygon(ring) for ring in exclusions]
    for items in _missions(sample_plan, autopilot):
        flown = [it for it in items if it.command in POSITION_COMMANDS and (it.x or it.y)]
        points = [Point(it.lon_deg, it.lat_deg) for it in flown]
        assert all(inclusion.contains(p) for p in points)
        assert not any(zone.intersects(p) for zone in zones for p in points)
