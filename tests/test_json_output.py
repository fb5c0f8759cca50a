"""``--json``: one JSON document on stdout and nothing else, valid against its command's
entry in agridrone/schema/cli-output.schema.json; notes on stderr, each once."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.cli.json_output import Output, finite

SCHEMA = json.loads(resources.files("agridrone").joinpath("schema/cli-output.schema.json")
                    .read_text(encoding="utf-8"))


def _run_json(command: str, *args: str, exit_code: int = 0) -> tuple[dict, str]:
    """The document a command prints with --json (checked against its schema) and stderr."""
    result = CliRunner().invoke(main, [command, *args, "--json"])
    assert result.exit_code == exit_code, result.output + result.stderr
    document = json.loads(result.stdout)  # the whole of stdout is one document
    jsonschema.validate(document, {**SCHEMA, "$ref": f"#/$defs/{command}"})
    return document, result.stderr


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("json") / "plan"
    result = CliRunner().invoke(main, ["plan", "example:sahiwal_L_with_obstacles", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_plan_json_names_the_files_and_the_sorties(tmp_path):
    out = tmp_path / "o"
    document, stderr = _run_json("plan", "example:sahiwal_L_with_obstacles", "-o", str(out),
                                 "--alt-frame", "terrain")
    plan = json.loads((out / "plan.json").read_text())
    assert document["files"] == sorted(p.name for p in out.iterdir())
    assert document["totals"] == plan["totals"] and document["metrics"] == plan["metrics"]
    assert [s["index"] for s in document["sorties"]] == [s["index"] for s in plan["sorties"]]
    for sortie in document["sorties"]:
        stem = f"sortie-{sortie['index']:02d}"
        assert sortie["mission_files"] == [f"{stem}.plan", f"{stem}.waypoints"]
        assert "legs" not in sortie
    # the terrain-frame warning: on stderr once, and in the document
    terrain = [line for line in stderr.splitlines() if "terrain" in line]
    assert len(terrain) == 1 and terrain[0].startswith("note: ")
    assert terrain[0].removeprefix("note: ") in document["warnings"]


def test_plan_json_removes_and_reports_stale_mission_files(tmp_path):
    out = tmp_path / "o"
    _run_json("plan", "example:sahiwal_L_with_obstacles", "-o", str(out))
    document, _ = _run_json("plan", "example:lahore_rect_2ha", "-o", str(out))
    stale = f"sortie-{len(document['sorties']) + 1:02d}.plan"  # the first beyond the new plan's
    assert stale in document["removed"] and not (out / stale).exists()


def test_show_json_of_a_plan_and_of_a_mission_file(plan_dir):
    document, _ = _run_json("show", str(plan_dir / "plan.json"), "--sortie", "2")
    (mission,) = document["missions"]
    assert mission["name"] == "sortie-02" and mission["sortie"] == 2
    from_file, _ = _run_json("show", str(plan_dir / "sortie-02.plan"))
    (same,) = from_file["missions"]
    assert [i["command"] for i in same["items"]] == [i["command"] for i in mission["items"]]
    assert same["summary"] == mission["summary"]
    assert from_file["fence"]["inclusions"] >= 1 and from_file["rally"]["points"] == 1


def test_resume_json_says_what_it_resumed(plan_dir, tmp_path):
    plan = json.loads((plan_dir / "plan.json").read_text())
    lon, lat = plan["sorties"][1]["breakpoint"]["point"]
    document, _ = _run_json("resume", str(plan_dir / "plan.json"), "--sortie", "2",
                            "--at", f"{lat},{lon}", "-o", str(tmp_path / "rest"))
    assert document["resumed"]["sortie"] == 2 and document["resumed"]["at"] == [lon, lat]
    assert document["resumed"]["was"]["sorties"] == len(plan["sorties"])
    assert document["totals"]["sorties"] == len(document["sorties"])


def test_simulate_json_beside_the_plan(tmp_path):
    out = tmp_path / "p"
    CliRunner().invoke(main, ["plan", "example:lahore_rect_2ha", "-o", str(out)])
    plan = json.loads((out / "plan.json").read_text())
    document, _ = _run_json("simulate", str(out / "plan.json"), "--speedup", "200")
    assert document["sorties_flown"] == document["sorties_planned"] == len(plan["sorties"])
    assert document["breakpoint"] is None and all(s["completed"] for s in document["sorties"])
    assert document["planned_coverage_pct"] == plan["metrics"]["coverage_pct"]
    assert document["files"] == sorted(["as-applied.geojson", "as-applied.png", "as-applied-dose.png",
                                        "as-applied-dose.tif", "as-applied-TASKDATA.zip"])


def test_ops_json(tmp_path):
    document, _ = _run_json("ops", "example:lahore_rect_2ha", "-o", str(tmp_path / "day"),
                            "--registry", str(tmp_path / "packs.sqlite"))
    schedule = json.loads((tmp_path / "day" / "schedule.json").read_text())
    assert document["totals"] == schedule["totals"] and document["advice"] is None
    assert "schedule.json" in document["files"]


def test_bad_input_with_json_is_one_error_line_and_nothing_on_stdout(tmp_path):
    result = CliRunner().invoke(main, ["plan", str(tmp_path / "missing.geojson"), "-o",
                                       str(tmp_path / "o"), "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")


def test_warnings_are_said_once(capsys):
    out = Output(as_json=True)
    out.warn("wind near the limit")
    out.warn("wind near the limit")
    out.line("the human report")
    out.document({"value": float("nan")})
    captured = capsys.readouterr()
    assert captured.err == "note: wind near the limit\n"
    assert json.loads(captured.out) == {"value": None, "warnings": ["wind near the limit"]}
    assert finite([1.0, float("inf"), {"a": float("-inf")}]) == [1.0, None, {"a": None}]
