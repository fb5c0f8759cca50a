"""Field files farms and GIS users already have: Shapefile (and its zip), GeoPackage, KMZ,
ISOXML TASKDATA, projected GeoJSON. Each file is written here by the format's own library
(pyogrio/GDAL, isoxml, pyproj) from a sample field, then read through load_field and
compared with the same field read from GeoJSON; every bad file is refused in one line."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal

import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from shapely.geometry import Polygon

from agridrone.cli import main
from agridrone.errors import AgridroneError
from agridrone.examples import resolve_field
from agridrone.field import load_field

SAMPLE = "example:sahiwal_L_with_obstacles"  # an L-shaped field with two holes
UTM = "EPSG:32643"  # UTM zone 43 N, where the sample lies


@pytest.fixture(scope="module")
def sample():
    """The sample field as GeoJSON gives it, and its polygon (lon, lat)."""
    field = load_field(SAMPLE)
    return field, field.boundary.geoms[0]


def _utm(polygon: Polygon) -> Polygon:
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    return shapely.transform(polygon, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))


def _write_layer(path, polygons, names, layer=None, crs="EPSG:4326", driver=None):
    """Write polygons with a ``name`` field through GDAL (pyogrio), as a GIS would."""
    pyogrio.raw.write(
        str(path), np.array([shapely.to_wkb(p) for p in polygons], dtype=object),
        [np.array(names, dtype=object)], ["name"], layer=layer, driver=driver,
        geometry_type="Polygon", crs=crs, append=path.exists() and driver == "GPKG",
    )


def _same_field(field, reference, tol_m2=0.5):
    # 1e-7 degree is about 1 cm; ring orientation and start are the format's own (normalised)
    assert shapely.normalize(field.boundary.geoms[0]).equals_exact(
        shapely.normalize(reference[1]), 1e-7)
    assert abs(field.area_m2 - reference[0].area_m2) < tol_m2
    assert abs(field.sprayable_m2 - reference[0].sprayable_m2) < tol_m2


def _refused(*args):
    result = CliRunner().invoke(main, ["plan", *map(str, args), "-o", "/nonexistent/out"])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


# Shapefile -------------------------------------------------------------------------------

def test_shapefile_in_utm_is_reprojected_to_the_same_field(tmp_path, sample):
    path = tmp_path / "block.shp"
    _write_layer(path, [_utm(sample[1])], ["North block"], crs=UTM)
    assert {p.suffix for p in tmp_path.iterdir()} >= {".shp", ".shx", ".dbf", ".prj"}
    _same_field(load_field(path), sample)


def test_shapefile_zip_reads_like_the_shapefile(tmp_path, sample):
    _write_layer(tmp_path / "block.shp", [_utm(sample[1])], ["North block"], crs=UTM)
    archive = tmp_path / "block.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in sorted(tmp_path.glob("block.*")):
            if part != archive:
                zf.write(part, f"export/{part.name}")
    _same_field(load_field(archive), sample)


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_shapefile_without_a_sibling_is_refused(tmp_path, sample, missing):
    path = tmp_path / "block.shp"
    _write_layer(path, [sample[1]], ["a"])
    path.with_suffix(missing).unlink()
    line = _refused(path)
    assert "block.shp" in line and f"block{missing}" in line


def test_zip_without_a_shapefile_is_refused(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "no field here")
    line = _refused(archive)
    assert "photos.zip" in line and "Shapefile" in line and "TASKDATA" in line


def test_shapefile_feature_by_id_or_name(tmp_path, sample):
    path = tmp_path / "farm.shp"
    other = shapely.affinity.translate(sample[1], xoff=0.01)
    _write_layer(path, [other, sample[1]], ["South", "North"])
    _same_field(load_field(path, feature_id="North"), sample)
    _same_field(load_field(path, feature_id="1"), sample)  # FIDs count from 0
    both = load_field(path)
    assert len(both.boundary.geoms) == 2
    line = _refused(path, "--id", "East")
    assert "'East'" in line and "'South'" in line and "'North'" in line


# GeoPackage ------------------------------------------------------------------------------

@pytest.fixture
def farm_gpkg(tmp_path, sample):
    """A GeoPackage in UTM with a field layer and a trees layer."""
    path = tmp_path / "farm.gpkg"
    _write_layer(path, [_utm(sample[1])], ["North block"], layer="fields", crs=UTM, driver="GPKG")
    tree = shapely.Point(sample[1].representative_point()).buffer(0.00005)
    _write_layer(path, [_utm(tree)], ["tree"], layer="trees", crs=UTM, driver="GPKG")
    return path


def test_geopackage_layer_is_picked_and_reprojected(farm_gpkg, sample):
    _same_field(load_field(farm_gpkg, layer="fields"), sample)
    assert load_field(farm_gpkg, layer="fields", feature_id="North block").area_m2 > 0


def test_geopackage_with_several_layers_wants_one(farm_gpkg):
    line = _refused(farm_gpkg)
    assert "farm.gpkg" in line and "fields" in line and "trees" in line and "--layer" in line
    line = _refused(farm_gpkg, "--layer", "roads")
    assert "'roads'" in line and "fields, trees" in line


def test_plan_reads_a_geopackage_layer(tmp_path, farm_gpkg):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(farm_gpkg), "--layer", "fields",
                                       "--id", "North block", "-o", str(out)])
    assert result.exit_code == 0, result.output
    inputs = json.loads((out / "plan.json").read_text())["inputs"]
    assert (inputs["layer"], inputs["feature_id"]) == ("fields", "North block")


# GeoJSON with a crs, KMZ -------------------------------------------------------------------

def test_geojson_in_a_projected_crs_is_reprojected(tmp_path, sample):
    path = tmp_path / "utm.geojson"
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32643"}},
        "features": [{"type": "Feature", "properties": {"name": "North"},
                      "geometry": shapely.geometry.mapping(_utm(sample[1]))}],
    }))
    _same_field(load_field(path), sample)


def test_geojson_with_an_unreadable_crs_is_refused(tmp_path, sample):
    path = tmp_path / "odd.geojson"
    path.write_text(json.dumps({
        "type": "Feature", "crs": {"type": "name", "properties": {"name": "EPSG:999999"}},
        "properties": {}, "geometry": shapely.geometry.mapping(_utm(sample[1]))}))
    line = _refused(path)
    assert "odd.geojson" in line and "EPSG:999999" in line


def test_geojson_feature_id_not_found_lists_the_features(tmp_path):
    line = _refused(resolve_field(SAMPLE), "--id", "nope")
    assert "'nope'" in line and "L with well and trees" in line


def test_kmz_reads_its_kml(tmp_path, sample):
    coords = " ".join(f"{x},{y},0" for x, y in sample[1].exterior.coords)
    holes = "".join(
        "<innerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y},0" for x, y in ring.coords)
        + "</coordinates></LinearRing></innerBoundaryIs>" for ring in sample[1].interiors)
    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
           "<Document><Placemark><name>North</name><Polygon><outerBoundaryIs><LinearRing>"
           f"<coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs>{holes}"
           "</Polygon></Placemark></Document></kml>")
    path = tmp_path / "farm.kmz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("doc.kml", kml)
    _same_field(load_field(path), sample)
    _same_field(load_field(path, feature_id="North"), sample)
    assert "'North'" in _refused(path, "--id", "South")


# ISOXML TASKDATA -----------------------------------------------------------------------------

def _taskdata(partfields):
    """An ISO 11783-10 v4 TASKDATA built with the isoxml package: partfields given as
    (designator, boundary polygon, [obstacle polygons])."""
    import isoxml.models.base.v4 as iso
    from isoxml.converter.shapely_geom import ShapelyConverterV4

    convert = ShapelyConverterV4()
    task_data = iso.Iso11783TaskData(
        management_software_manufacturer="tests", management_software_version="1",
        data_transfer_origin=iso.Iso11783TaskDataDataTransferOrigin.FMIS)
    for number, (name, boundary, obstacles) in enumerate(partfields, start=1):
        polygons = [convert.to_iso_polygon(boundary, iso.PolygonType.PartfieldBoundary)]
        polygons += [convert.to_iso_polygon(o, iso.PolygonType.Obstacle, designator="pond")
                     for o in obstacles]
        task_data.partfields.append(iso.Partfield(
            id=f"PFD{number}", designator=name, area=int(boundary.area * 1e10),
            polygons=polygons))
    return task_data


def _write_taskdata(folder, task_data):
    from isoxml.util.isoxml_io import isoxml_to_dir, isoxml_to_zip

    folder.mkdir()
    isoxml_to_dir(folder, task_data)
    isoxml_to_zip(folder.parent / "TASKDATA.zip", task_data)  # TASKDATA/TASKDATA.XML inside
    return folder / "TASKDATA.XML", folder.parent / "TASKDATA.zip"


def test_isoxml_partfield_boundary_and_obstacles(tmp_path, sample):
    shell = Polygon(sample[1].exterior)
    pond = sample[1].representative_point().buffer(0.0001)
    xml, archive = _write_taskdata(tmp_path / "TASKDATA", _taskdata([("North", shell, [pond])]))
    for path in (xml, archive):
        field = load_field(path)
        assert field.boundary.geoms[0].equals_exact(shell, 1e-8)
        assert field.no_spray.geoms[0].equals_exact(pond, 1e-8)
        assert field.sprayable_m2 < field.area_m2 - 0.9 * field.frame.geometry_to_local(pond).area


def test_isoxml_with_several_partfields_wants_an_id(tmp_path, sample):
    shell = Polygon(sample[1].exterior)
    east = shapely.affinity.translate(shell, xoff=0.01)
    xml, _ = _write_taskdata(tmp_path / "TASKDATA", _taskdata([("North", shell, []),
                                                               ("East", east, [])]))
    line = _refused(xml)
    assert "PFD1 'North'" in line and "PFD2 'East'" in line and "--id" in line
    assert load_field(xml, feature_id="East").boundary.geoms[0].equals_exact(east, 1e-8)
    assert load_field(xml, feature_id="PFD1").boundary.geoms[0].equals_exact(shell, 1e-8)
    assert "'West'" in _refused(xml, "--id", "West")


def test_isoxml_without_partfields_is_refused(tmp_path):
    xml, _ = _write_taskdata(tmp_path / "TASKDATA", _taskdata([]))
    line = _refused(xml)
    assert "TASKDATA.XML" in line and "partfield" in line


def test_isoxml_that_is_not_taskdata_is_refused(tmp_path):
    path = tmp_path / "TASKDATA.XML"
    path.write_text('<?xml version="1.0"?><ISO11783_TaskData VersionMajor="9"/>')
    assert "TASKDATA.XML" in _refused(path)


def test_isoxml_coordinates_keep_nine_decimals(tmp_path):
    shell = Polygon([(74.1, 31.1), (74.102, 31.1), (74.102, 31.102), (74.1, 31.102)])
    xml, _ = _write_taskdata(tmp_path / "TASKDATA", _taskdata([("f", shell, [])]))
    assert str(round(Decimal(74.102), 9)) in xml.read_text()


def test_layer_on_a_file_without_layers_is_refused(tmp_path):
    with pytest.raises(AgridroneError, match="no layers"):
        load_field(SAMPLE, layer="fields")


def test_plain_fields_do_not_load_the_heavy_readers():
    """`agridrone plan` on GeoJSON starts without GDAL, isoxml or xsdata."""
    import subprocess
    import sys

    code = ("import sys, agridrone.cli.plan_cmd; from agridrone.field import load_field; "
            f"load_field({SAMPLE!r}); "
            "print(sorted(m for m in ('pyogrio', 'isoxml', 'xsdata') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert result.stdout.strip() == "[]"
