"""The plan for farm and GIS software: TASKDATA.zip (ISOXML) read back by the isoxml package
and by agridrone's own field input, plan.gpkg read back by GDAL, and the as-applied ISOXML
grid of a flight compared with the liquid the plan meters out."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import shape

from agridrone.as_applied import spray_width_m
from agridrone.cli import main
from agridrone.field import load_field
from agridrone.geo import LocalFrame
from missions.formats.isoxml_applied import FlownTrack, render_as_applied_taskdata

SAMPLE = "example:sahiwal_L_with_obstacles"
RATE = 20.0


def _plan(out: Path, *extra: str) -> dict:
    result = CliRunner().invoke(main, ["plan", SAMPLE, "--rate", str(RATE), "--gpkg", *extra,
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text())


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out = tmp_path_factory.mktemp("plan")
    return out, _plan(out)


def _taskdata(zip_bytes: bytes):
    """Parse a TASKDATA zip with the isoxml package's own reader; (task data, binaries)."""
    from isoxml.util.isoxml_io import isoxml_from_path

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
            assert sorted(archive.namelist())[-1] == "TASKDATA/TASKDATA.XML"
            archive.extractall(tmp)
        return isoxml_from_path(Path(tmp) / "TASKDATA")


def test_taskdata_holds_the_field_no_spray_zones_and_the_task(planned):
    out, plan = planned
    task_data, _ = _taskdata((out / "TASKDATA.zip").read_bytes())
    assert task_data.version_major.value == "4"
    (partfield,) = task_data.partfields
    kinds = [p.type.name for p in partfield.polygons]
    assert kinds.count("PartfieldBoundary") == len(shape(plan["field"]).geoms)
    assert kinds.count("Obstacle") == len(shape(plan["no_spray"]).geoms) == 2
    (task,) = task_data.tasks
    assert task.partfield_id_ref == partfield.id and task.status.name == "Planned"
    zone = next(z for z in task.treatment_zones if z.code == task.default_treatment_zone_code)
    (pdv,) = zone.process_data_variables
    assert pdv.process_data_ddi == b"\x00\x01"  # setpoint volume per area, 0.01 mm³/m²
    assert pdv.process_data_value == round(RATE * 100 / 0.01)
    assert pdv.product_id_ref == task_data.products[0].id


def test_taskdata_reads_back_as_the_same_field(planned):
    out, plan = planned
    field = load_field(out / "TASKDATA.zip")
    assert shapely.normalize(field.boundary).equals_exact(
        shapely.normalize(shape(plan["field"])), 1e-8)
    assert field.no_spray.symmetric_difference(shape(plan["no_spray"])).area < 1e-12
    assert abs(field.sprayable_m2 / 1e4 - plan["metrics"]["sprayable_ha"]) < 1e-3


def test_exports_are_byte_identical_and_optional(planned, tmp_path):
    out, _ = planned
    again = tmp_path / "again"
    _plan(again)
    for name in ("TASKDATA.zip", "plan.gpkg"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    result = CliRunner().invoke(main, ["plan", SAMPLE, "--no-isoxml", "-o", str(again)])
    assert result.exit_code == 0, result.output
    assert not (again / "TASKDATA.zip").exists() and not (again / "plan.gpkg").exists()


def test_geopackage_layers_read_back_by_gdal(planned):
    out, plan = planned
    path = str(out / "plan.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert list(layers) == ["field", "no_spray", "passes", "transits", "sorties", "coverage",
                            "station"]
    spray = [leg for s in plan["sorties"] for leg in s["legs"] if leg["kind"] == "spray"]
    meta, _, wkb, values = pyogrio.raw.read(path, layer="passes")
    assert meta["crs"] == "EPSG:4326" and len(wkb) == len(spray)
    assert list(values[list(meta["fields"]).index("pass")]) == [leg["pass"] for leg in spray]
    meta, _, wkb, values = pyogrio.raw.read(path, layer="sorties")
    liquid = values[list(meta["fields"]).index("liquid_l")]
    assert np.allclose(liquid, [s["liquid_l"] for s in plan["sorties"]])
    # the coverage layer shows the sprayed area: it covers nearly all of what is sprayable
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    covered = frame.geometry_to_local(shapely.union_all(shapely.from_wkb(
        pyogrio.raw.read(path, layer="coverage")[2])))
    sprayable = frame.geometry_to_local(shape(plan["field"]).difference(shape(plan["no_spray"])))
    assert covered.intersection(sprayable).area / sprayable.area > 0.97


def _flown(plan: dict, pump_on: bool = True) -> list[FlownTrack]:
    """Tracks as a vehicle reports them: the plan's legs sampled each metre, 1 s apart, the
    pump on over spray legs (when ``pump_on``) and off over transits."""
    frame = LocalFrame(plan["frame"]["lon_0"], plan["frame"]["lat_0"])
    tracks = []
    for sortie in plan["sorties"]:
        positions, pump, t = [], [], 0.0
        for leg in sortie["legs"]:
            line = shapely.LineString(frame.to_local(np.asarray(leg["coords"])))
            steps = np.linspace(0.0, line.length, max(int(line.length), 1) + 1)
            xy = np.asarray([line.interpolate(d).coords[0] for d in steps])
            pump.append((t, 1.0 if pump_on and leg["kind"] == "spray" else 0.0))
            for lon, lat in frame.to_wgs84(xy):
                positions.append((t, lon, lat))
                t += 1.0
        tracks.append(FlownTrack(np.asarray(positions), np.asarray(pump)))
    return tracks


def _grid(zip_bytes: bytes):
    from isoxml.converter.np_grid import to_numpy_array
    from isoxml.models.ddi_entities import DDEntity

    task_data, binaries = _taskdata(zip_bytes)
    (task,) = task_data.tasks
    (grid,) = task.grids
    zone = next(z for z in task.treatment_zones if z.code == grid.treatment_zone_code)
    ddi = [DDEntity.from_bytes(v.process_data_ddi) for v in zone.process_data_variables]
    values = to_numpy_array(binaries[grid.filename], grid, ddi)  # mm³/m², row 0 south
    return task, grid, values / 100.0  # L/ha


def test_as_applied_grid_meters_out_the_plans_liquid(planned):
    _, plan = planned
    width = spray_width_m(plan)  # each pass sprays as wide as the field's spacing
    task, grid, rate = _grid(render_as_applied_taskdata(plan, _flown(plan), RATE, width, cell_m=1.0))
    assert task.status.name == "Completed" and grid.type.name == "GridType2"
    lat = float(grid.minimum_north_position) + (np.arange(rate.shape[0]) + 0.5) * grid.cell_north_size
    lon = float(grid.minimum_east_position) + (np.arange(rate.shape[1]) + 0.5) * grid.cell_east_size
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    cell_m2 = (grid.cell_north_size * 111_320.0) * (grid.cell_east_size * 111_320.0
                                                     * np.cos(np.radians(lat_grid.mean())))
    litres = float(rate.sum()) * cell_m2 / 1e4
    assert litres == pytest.approx(plan["totals"]["liquid_l"], rel=0.05)
    inside = shapely.contains_xy(shape(plan["field"]).difference(shape(plan["no_spray"])),
                                 lon_grid, lat_grid)
    assert np.median(rate[inside]) == pytest.approx(RATE)
    # no-spray zones get only the edge of a swath passing beside them (the plan's own dose
    # model counts the same spill, metrics.dose.no_spray_l)
    ponds = shapely.contains_xy(shape(plan["no_spray"]), lon_grid, lat_grid)
    assert ponds.sum() > 100 and rate[ponds].mean() < 0.1 * RATE


def test_as_applied_with_the_pump_off_is_empty(planned):
    _, plan = planned
    zip_bytes = render_as_applied_taskdata(plan, _flown(plan, pump_on=False), RATE, 8.0)
    assert _grid(zip_bytes)[2].max() == 0.0

