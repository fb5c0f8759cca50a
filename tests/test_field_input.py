"""Field input: formats, and every bad input refused with one line naming the problem."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agridrone.cli import main
from agridrone.field import load_field
from tests.fieldgen import SAMPLE_FIELDS

RECT = [[74.2213, 31.4504], [74.22331217, 31.45092736], [74.2230046, 31.45178986],
        [74.22099241, 31.45126249], [74.2213, 31.4504]]


def _geojson(tmp_path, coordinates, kind="Polygon", name="field.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "Feature", "properties": {},
                                "geometry": {"type": kind, "coordinates": coordinates}}))
    return path


def _run_plan(tmp_path, *args):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", *map(str, args), "-o", str(out)])
    return result, out


def _assert_refused(result, out, *words):
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    assert not out.exists()
    assert not list(out.parent.glob(".out.tmp-*"))


def test_unreadable_file(tmp_path):
    result, out = _run_plan(tmp_path, tmp_path / "missing.geojson")
    _assert_refused(result, out, "cannot read", "missing.geojson")


def test_broken_json(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "Feature", "geometry": ')
    result, out = _run_plan(tmp_path, path)
    _assert_refused(result, out, "not valid GeoJSON")


def test_no_polygon(tmp_path):
    path = _geojson(tmp_path, [74.2213, 31.4504], kind="Point")
    result, out = _run_plan(tmp_path, path)
    _assert_refused(result, out, "no polygon", "Point")


def test_unclosed_ring(tmp_path):
    path = _geojson(tmp_path, [RECT[:-1]])
    result, out = _run_plan(tmp_path, path)
    _assert_refused(result, out, "unclosed ring", "74.2213")


def test_self_intersection_names_the_place_and_repair_fixes_it(tmp_path):
    bowtie = [[74.2213, 31.4504], [74.2233, 31.4518], [74.2233, 31.4504], [74.2213, 31.4518],
              [74.2213, 31.4504]]
    path = _geojson(tmp_path, [bowtie])
    result, out = _run_plan(tmp_path, path)
    _assert_refused(result, out, "self-intersection at lon 74.2223000, lat 31.4511000", "--repair")

    repaired = CliRunner().invoke(main, ["plan", str(path), "--repair", "-o", str(out)])
    assert repaired.exit_code == 0, repaired.output
    assert "repaired" in repaired.output and "2 part(s)" in repaired.output
    assert (out / "plan.json").exists()


def test_hole_outside_shell(tmp_path):
    hole = [[74.2300, 31.4600], [74.2301, 31.4600], [74.2301, 31.4601], [74.2300, 31.4601],
            [74.2300, 31.4600]]
    result, out = _run_plan(tmp_path, _geojson(tmp_path, [RECT, hole]))
    _assert_refused(result, out, "hole outside its shell")


def test_area_under_minimum(tmp_path):
    tiny = [[74.2213, 31.4504], [74.22135, 31.4504], [74.22135, 31.45045], [74.2213, 31.45045],
            [74.2213, 31.4504]]
    result, out = _run_plan(tmp_path, _geojson(tmp_path, [tiny]))
    _assert_refused(result, out, "under the 100 m² minimum")


def test_area_over_limit(tmp_path):
    path = SAMPLE_FIELDS["faisalabad_irregular"][0]
    result, out = _run_plan(tmp_path, path, "--max-area", "10")
    _assert_refused(result, out, "15.4 ha is over the limit of 10 ha", "--max-area")


def test_coordinates_out_of_range(tmp_path):
    bad = [[194.2213, 31.4504], [194.2233, 31.4504], [194.2233, 31.4518], [194.2213, 31.4504]]
    result, out = _run_plan(tmp_path, _geojson(tmp_path, [bad]))
    _assert_refused(result, out, "out of range")


def test_lat_lon_swapped(tmp_path):
    swapped = [[lat, lon] for lon, lat in RECT]
    result, out = _run_plan(tmp_path, _geojson(tmp_path, [swapped]))
    _assert_refused(result, out, "latitude and longitude swapped")


@pytest.mark.parametrize("option,value,word", [
    ("--swath-width", "0", "--swath-width"),
    ("--speed", "-3", "--speed"),
    ("--home", "north", "--home"),
    ("--home", "95,74", "--home"),
])
def test_impossible_settings(tmp_path, option, value, word):
    result, out = _run_plan(tmp_path, SAMPLE_FIELDS["lahore_rect_2ha"][0], option, value)
    _assert_refused(result, out, word)


def test_field_too_narrow_for_the_swath(tmp_path):
    result, out = _run_plan(tmp_path, SAMPLE_FIELDS["lahore_rect_2ha"][0], "--swath-width", "60", "--rate", "2",
                            "--edge-margin", "60")
    _assert_refused(result, out, "too narrow")


def test_kml_and_wkt_read_like_geojson(tmp_path):
    outer = " ".join(f"{lon},{lat},0" for lon, lat in RECT)
    hole_ring = [[74.2220, 31.4508], [74.2222, 31.4508], [74.2222, 31.4510], [74.2220, 31.4510],
                 [74.2220, 31.4508]]
    inner = " ".join(f"{lon},{lat}" for lon, lat in hole_ring)
    kml = tmp_path / "field.kml"
    kml.write_text(
        '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{outer}</coordinates></LinearRing>"
        f"</outerBoundaryIs><innerBoundaryIs><LinearRing><coordinates>{inner}</coordinates>"
        "</LinearRing></innerBoundaryIs></Polygon></Placemark></Document></kml>"
    )
    wkt = tmp_path / "field.wkt"
    wkt.write_text("POLYGON ((" + ", ".join(f"{lon} {lat}" for lon, lat in RECT) + "), ("
                   + ", ".join(f"{lon} {lat}" for lon, lat in hole_ring) + "))")
    geojson = _geojson(tmp_path, [RECT, hole_ring])
    areas = [load_field(p).sprayable_m2 for p in (kml, wkt, geojson)]
    assert areas[0] == pytest.approx(areas[2], rel=1e-9)
    assert areas[1] == pytest.approx(areas[2], rel=1e-9)
    assert areas[2] == pytest.approx(20000 - 0.0002 * 0.0002 * 111000 * 95000, rel=0.02)


def test_multipolygon_parts_are_all_planned_and_exclusions_cut_holes():
    path, excludes = SAMPLE_FIELDS["faisalabad_irregular"]
    field = load_field(path, exclude_paths=excludes)
    assert len(field.no_spray.geoms) == 1
    assert field.area_m2 - field.sprayable_m2 == pytest.approx(field.no_spray_local.area, rel=1e-6)
