"""``agridrone show FILE``: a table of items and a summary for .plan, .waypoints and plan.json."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_mission_helpers import holed_plan

from agridrone.cli import main
from missions.mission import build_mission
from tests.test_mission_helpers import write_mission_files

PLAN = holed_plan()


def _run(*args):
    return CliRunner().invoke(main, ["show", *map(str, args)])


def _write(tmp_path, autopilot):
    write_mission_files(PLAN, tmp_path, autopilot=autopilot, alt_frame="relative",
                        transit_alt_m=None, end="rtl", max_items=None, fence_margin_m=10.0)


def test_show_plan_file_prints_every_item_fence_rally_and_summary(tmp_path):
    _write(tmp_path, "ardupilot")
    result = _run(tmp_path / "sortie-01.plan")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    items = build_mission(PLAN, 1, autopilot="ardupilot")[0]
    assert lines[0] == f"sortie-01.plan (ardupilot, {len(items)} items)"
    assert lines[1].split()[:6] == ["seq", "command", "frame", "lat", "lon", "alt"]
    rows = lines[2:2 + len(items)]
    assert [int(r.split()[0]) for r in rows] == list(range(len(items)))
    assert rows[2].split()[1] == "DO_CHANGE_SPEED" and rows[-1].split()[1] == "NAV_RETURN_TO_LAUNCH"
    spray_legs = sum(leg["kind"] == "spray" for leg in PLAN["sorties"][0]["legs"])
    assert f"{spray_legs} spray legs" in result.output and "estimated duration" in result.output
    assert "fence:" in result.output and "1 inclusion and 1 exclusion" in result.output
    assert "rally: 1 point\n" in result.output


def test_show_px4_waypoints_drops_the_home_line(tmp_path):
    _write(tmp_path, "px4")
    result = _run(tmp_path / "sortie-02.waypoints", "--autopilot", "px4")
    assert result.exit_code == 0, result.output
    rows = result.output.splitlines()[2:]
    assert rows[0].split()[:2] == ["0", "NAV_TAKEOFF"]
    assert "DO_SET_ACTUATOR" in result.output


def test_show_plan_json_builds_each_sortie(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    result = _run(path, "--sortie", 2)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("sortie 02 (ardupilot, ")
    assert result.output.count("spray legs") == 1


def test_show_refuses_unknown_and_missing_files(tmp_path):
    result = _run(tmp_path / "x.kmz")
    assert result.exit_code == 2 and "error:" in result.output and "Traceback" not in result.output
    result = _run(tmp_path / "missing.plan")
    assert result.exit_code == 2 and "cannot read" in result.output
