"""Operating limits of the drone profile (spray height, speed, swath by height, wind) and
buffer distances from no-spray zones and chosen field edges, checked on the plans written:
distances are measured on plan.json's spray legs, re-projected here with pyproj."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, mapping

from agridrone.cli import main
from agridrone.drone import load_drone
from agridrone.resume import drone_from_plan

FIELD = "agridrone/data/fields/lahore_rect_2ha.geojson"
CORNERS = [(74.2213, 31.4504), (74.22331217, 31.45092736), (74.2230046, 31.45178986),
           (74.22099241, 31.45126249)]  # the field's corners, lon/lat
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32643", always_xy=True)  # UTM 43N
LOOSE_M = 0.05  # rounding of plan.json coordinates and of the clipping


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def plan(tmp_path, *options: str) -> dict:
    out = tmp_path / "out"
    result = run("plan", FIELD, *options, "-o", str(out))
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


def utm(geometry):
    return shapely.transform(geometry, lambda xy: np.column_stack(TO_UTM.transform(xy[:, 0], xy[:, 1])))


def spray_lines(document: dict) -> list[LineString]:
    return [utm(LineString(leg["coords"])) for sortie in document["sorties"]
            for leg in sortie["legs"] if leg["kind"] == "spray"]


def sprayed_area(document: dict):
    """Where the spray lands: the spray legs widened by half the pass spacing."""
    half = document["inputs"]["swath_width_m"] / 2
    return shapely.union_all([line.buffer(half, cap_style="flat") for line in
                              spray_lines(document)])


@pytest.mark.parametrize("options,words", [
    (["--alt", "15"], "spray height 15 m is above the agras-t30's limit of 4 m"),
    (["--speed", "10"], "spray speed 10 m/s is above the agras-t30's limit of 7 m/s"),
    (["--wind", "8,270"], "wind 8 m/s is above the agras-t30's spraying limit of 6 m/s"),
    (["--drone", "agras-t40", "--wind", "6.5,90"], "agras-t40's spraying limit of 6 m/s"),
    (["--buffer-edge", "x.geojson"], "--buffer-edge needs a distance: give --buffer M"),
])
def test_beyond_the_limits_is_refused_in_one_line(tmp_path, options, words):
    result = run("plan", FIELD, *options, "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert not (tmp_path / "out" / "plan.json").exists()


def test_swath_follows_the_spray_height_and_wind_is_kept(tmp_path):
    low = plan(tmp_path / "low", "--alt", "2", "--wind", "5,270")
    # the T30 profile: 4 m at 1.5 m growing to 9 m at 3 m above the crop
    assert low["inputs"]["swath_width_m"] == pytest.approx(4 + 5 * 0.5 / 1.5)
    assert low["inputs"]["wind"] == [5.0, 270.0]
    assert plan(tmp_path / "rated")["inputs"]["swath_width_m"] == 9.0
    assert drone_from_plan(low).limits == load_drone("agras-t30").limits


def test_passes_wider_than_the_swath_at_that_height_get_a_note(tmp_path):
    result = run("plan", FIELD, "--alt", "2", "--swath-width", "9", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "note: passes 9 m apart but the agras-t30 sprays 5.7 m wide at 2 m" in result.stderr


def test_profile_limits_are_validated(tmp_path):
    text = open("agridrone/data/drones/agras-t30.toml").read()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("swath_by_height = [[1.5, 4.0], [3.0, 9.0]]",
                                "swath_by_height = [[3.0, 9.0], [1.5, 4.0]]"))
    result = run("plan", FIELD, "--drone", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "key 'limits.swath_by_height' must be a list of [height m, swath m] pairs" in (
        result.stderr)


def test_buffer_keeps_the_spray_from_every_no_spray_zone(tmp_path):
    zone = Polygon([(74.2218, 31.4510), (74.2222, 31.4510), (74.2222, 31.4513),
                    (74.2218, 31.4513)])
    exclude = tmp_path / "well.geojson"
    exclude.write_text(json.dumps({"type": "Feature", "geometry": mapping(zone)}))
    plain = plan(tmp_path / "plain", "--exclude", str(exclude))
    kept = plan(tmp_path / "kept", "--exclude", str(exclude), "--buffer", "8")
    assert sprayed_area(plain).distance(utm(zone)) < 1.0  # the spray reaches the zone
    assert sprayed_area(kept).distance(utm(zone)) >= 8.0 - LOOSE_M
    assert kept["inputs"]["buffer_m"] == 8.0


def test_buffer_edge_keeps_the_spray_from_the_chosen_edge_only(tmp_path):
    canal = LineString([CORNERS[0], CORNERS[1]])  # the southern edge: a canal beside it
    edge_file = tmp_path / "canal.geojson"
    edge_file.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(canal)}]}))
    document = plan(tmp_path / "p", "--buffer", "10", "--buffer-edge", str(edge_file))
    sprayed = sprayed_area(document)
    assert sprayed.distance(utm(canal)) >= 10.0 - LOOSE_M
    north = utm(LineString([CORNERS[2], CORNERS[3]]))
    assert sprayed.distance(north) < 1.0  # the other edges are sprayed up to the edge
    assert document["inputs"]["buffer_edge_files"] == [str(edge_file)]
