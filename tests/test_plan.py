"""`agridrone plan` on the sample fields and on random fields: coverage, safety, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from shapely.geometry import LineString

from agridrone.cli import main
from agridrone.coverage import CoverageOptions, plan_coverage
from agridrone.field import Field, as_multipolygon, load_field
from agridrone.geo import LocalFrame
from agridrone.plan_file import validate_plan
from tests.fieldgen import SAMPLE_FIELDS, local_fields

CM = 0.01
CLEARANCE_M = 1.0  # agridrone.coverage.NO_SPRAY_CLEARANCE_M
LEAD_REACH_M = 11.67  # PX4's lead-out at 5 m/s, the longest (agridrone.coverage.leads)


def _plan(tmp_path, name, *extra):
    path, excludes = SAMPLE_FIELDS[name]
    out = tmp_path / name
    args = ["plan", str(path), "-o", str(out), *extra]
    for exclude in excludes:
        args += ["--exclude", str(exclude)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out, result.output


def _check_route(legs_local, field: Field):
    """Spray legs inside the sprayable area and every leg at least the clearance away from
    no-spray zones (to 1 cm); pump-off legs inside the field or, around lead-ins and
    lead-outs, at most the longest lead (11.7 m at 5 m/s) beyond its edge."""
    sprayable = field.sprayable_local.buffer(CM)
    no_spray_core = field.no_spray_local.buffer(CLEARANCE_M - CM)
    outer = field.outer_local.buffer(LEAD_REACH_M + CM)
    for kind, xy in legs_local:
        line = LineString(xy)
        assert not line.intersects(no_spray_core), f"{kind} leg comes near or into a no-spray zone"
        if kind == "spray":
            assert sprayable.covers(line), f"spray leg leaves the sprayable area: {xy[:2]}"
        else:
            assert outer.covers(line), "transit leaves the field"


@pytest.mark.parametrize("name", sorted(SAMPLE_FIELDS))
@pytest.mark.parametrize("headlands", [0, 1])
def test_sample_fields_are_covered_safely(tmp_path, name, headlands):
    out, report = _plan(tmp_path, name, "--headland-passes", str(headlands))
    plan = json.loads((out / "plan.json").read_text())
    validate_plan(plan)
    assert plan["metrics"]["coverage_pct"] >= 99.0
    assert "coverage" in report and "passes" in report and "estimated time" in report

    path, excludes = SAMPLE_FIELDS[name]
    field = load_field(path, exclude_paths=excludes)
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    legs = [(leg["kind"], frame.to_local(np.array(leg["coords"])))
            for sortie in plan["sorties"] for leg in sortie["legs"]]
    _check_route(legs, field)
    station = frame.to_local(np.array([plan["station"]]))[0]
    assert legs[0][1][0] == pytest.approx(station, abs=CM)
    assert legs[-1][1][-1] == pytest.approx(station, abs=CM)
    assert field.outer_local.boundary.distance(shapely.Point(station)) < CM

    geojson = json.loads((out / "coverage.geojson").read_text())
    kinds = {f["properties"]["kind"] for f in geojson["features"]}
    assert {"field", "spray", "transit", "station"} <= kinds
    assert (out / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", sorted(SAMPLE_FIELDS))
def test_two_runs_give_byte_identical_outputs(tmp_path, name):
    first, _ = _plan(tmp_path / "a", name)
    second, _ = _plan(tmp_path / "b", name)
    for file in ("plan.json", "coverage.geojson", "preview.png"):
        assert (first / file).read_bytes() == (second / file).read_bytes(), file


def test_fixed_heading_and_home_are_used(tmp_path):
    out, _ = _plan(tmp_path, "lahore_rect_2ha", "--heading", "163", "--home", "31.4504,74.2213")
    plan = json.loads((out / "plan.json").read_text())
    assert plan["metrics"]["heading_deg"] == pytest.approx(163.0)
    assert plan["inputs"]["heading_deg"] == pytest.approx(163.0)
    assert plan["station"] == pytest.approx([74.2213, 31.4504], abs=1e-7)
    first_pass = np.array(next(leg["coords"] for leg in plan["sorties"][0]["legs"] if leg["kind"] == "spray"))
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    dx, dy = np.diff(frame.to_local(first_pass), axis=0)[0]
    assert np.degrees(np.arctan2(dx, dy)) % 180 == pytest.approx(163.0, abs=1e-3)


def test_heading_search_follows_the_long_edge_of_a_rectangle(tmp_path):
    out, _ = _plan(tmp_path, "lahore_rect_2ha", "--swath-width", "5")
    plan = json.loads((out / "plan.json").read_text())
    assert plan["metrics"]["heading_deg"] == pytest.approx(73.0, abs=0.3)
    assert plan["metrics"]["passes"] == 20  # 100 m wide / 5 m swath
    assert plan["metrics"]["spray_m"] == pytest.approx(20 * 200, rel=0.005)


def test_field_across_a_utm_zone_border_plans_like_any_other(tmp_path):
    # 72° E is the border of UTM zones 42 and 43
    ring = [[71.999, 30.0], [72.0015, 30.0], [72.0015, 30.0012], [71.999, 30.0012], [71.999, 30.0]]
    path = tmp_path / "border.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    result = CliRunner().invoke(main, ["plan", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    plan = json.loads((tmp_path / "out" / "plan.json").read_text())
    assert plan["metrics"]["coverage_pct"] >= 99.0
    field = load_field(path)
    assert field.area_m2 == pytest.approx(240.9 * 133.0, rel=0.01)


def test_local_frame_round_trip_under_a_centimetre():
    frame = LocalFrame(73.08, 31.42)
    rng = np.random.default_rng(1)
    lonlat = np.column_stack([73.08 + rng.uniform(-0.05, 0.05, 500), 31.42 + rng.uniform(-0.05, 0.05, 500)])
    back = frame.to_wgs84(frame.to_local(lonlat))
    error_m = np.hypot((back[:, 0] - lonlat[:, 0]) * 95_000, (back[:, 1] - lonlat[:, 1]) * 111_000)
    assert error_m.max() < CM


def _local_field(polygon) -> Field:
    frame = LocalFrame(73.0, 31.0)
    outer = as_multipolygon(shapely.Polygon(polygon.exterior))
    holes = as_multipolygon(shapely.union_all([shapely.Polygon(r) for r in polygon.interiors]))
    region = as_multipolygon(polygon)
    return Field("random", frame.geometry_to_wgs84(region), frame.geometry_to_wgs84(holes), frame,
                 region, holes, outer, as_multipolygon(outer.difference(holes)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(local_fields())
def test_random_fields_with_holes_are_covered_safely(polygon):
    field = _local_field(polygon)
    result = plan_coverage(field, CoverageOptions())
    assert result.metrics.coverage_pct >= 99.0
    _check_route([(leg.kind, leg.xy) for leg in result.legs], field)


def test_planning_imports_no_scipy_linalg(tmp_path):
    """numba's BLAS probe would import scipy.linalg (0.1-0.2 s a plan); no kernel needs it."""
    script = ("import sys\n"
              "from agridrone.cli import main\n"
              f"main(['plan', 'example:lahore_rect_2ha', '-o', {str(tmp_path / 'out')!r}])\n"
              "assert 'scipy.linalg' not in sys.modules, 'scipy.linalg imported'\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "plan.json").exists()
