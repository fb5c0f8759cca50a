"""The files `agridrone plan` writes, opened by the readers of the operator's other tools:
every .waypoints by pymavlink's mavwp (MAVProxy's loader), every .plan through the checks of
QGroundControl's plan loader, plan.kml by a strict XML parser against the OGC KML 2.2 schema
(the XSD shipped as package data by pykml)."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from click.testing import CliRunner
from lxml import etree
from pymavlink import mavwp
from test_export_roundtrip import _qgc_load

from agridrone.cli import main
from missions.formats import read_qgc_plan, read_waypoints

SAMPLE = "example:sahiwal_L_with_obstacles"  # several sorties, two no-spray zones


@pytest.fixture(scope="module", params=["ardupilot", "px4"])
def planned(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    result = CliRunner().invoke(main, ["plan", SAMPLE, "--autopilot", request.param,
                                       "--no-isoxml", "-o", str(out)])
    assert result.exit_code == 0, result.output
    plan = json.loads((out / "plan.json").read_text())
    assert len(plan["sorties"]) > 1
    return request.param, out, plan


def test_every_waypoints_file_loads_in_mavproxys_loader(planned):
    autopilot, out, plan = planned
    files = sorted(out.glob("sortie-*.waypoints"))
    assert len(files) == len(plan["sorties"])
    lon, lat = plan["station"]
    for path in files:
        assert path.read_text().splitlines()[0] == "QGC WPL 110"
        loader = mavwp.MAVWPLoader()
        count = loader.load(str(path))
        ours = read_waypoints(path, autopilot).mission
        assert count == len(ours) + (autopilot == "px4")  # PX4 files carry a home line first
        home = loader.wp(0)
        assert (home.x, home.y) == pytest.approx((lat, lon), abs=1e-6)
        offset = 1 if autopilot == "px4" else 0
        for item in ours:
            wp = loader.wp(item.seq + offset)
            assert (wp.command, round(wp.x * 1e7), round(wp.y * 1e7)) == (item.command, item.x, item.y)


def test_every_plan_file_passes_qgroundcontrols_loader(planned):
    """_qgc_load (tests/test_export_roundtrip.py) follows PlanMasterController and the
    geofence / rally loaders; here also MissionController::_loadJsonMissionFileV2's key table:
    mission version 2, items and plannedHomePosition required, firmwareType a number,
    vehicleType, cruiseSpeed, hoverSpeed and globalPlanAltitudeMode numbers when present."""
    autopilot, out, plan = planned
    files = sorted(out.glob("sortie-*.plan"))
    assert len(files) == len(plan["sorties"])
    for path in files:
        document = json.loads(path.read_text())
        _qgc_load(document)
        mission = document["mission"]
        assert mission["version"] == 2
        for key in ("vehicleType", "cruiseSpeed", "hoverSpeed", "globalPlanAltitudeMode"):
            assert key not in mission or isinstance(mission[key], int | float), key
        assert document["geoFence"]["polygons"][0]["inclusion"] is True
        assert sum(not p["inclusion"] for p in document["geoFence"]["polygons"]) == 2
        assert len(read_qgc_plan(path).mission) > 0


def _kml_schema() -> etree.XMLSchema:
    folder = resources.files("pykml") / "schemas"
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(folder / "ogckml22.xsd"), parser))


def _strict(data: bytes) -> etree._ElementTree:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, recover=False)
    return etree.ElementTree(etree.fromstring(data, parser))


def test_plan_kml_is_valid_kml_2_2(planned):
    _, out, plan = planned
    schema = _kml_schema()
    document = _strict((out / "plan.kml").read_bytes())
    assert schema.validate(document), schema.error_log.last_error
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert document.getroot().tag == "{http://www.opengis.net/kml/2.2}kml"
    assert len(document.findall(".//k:Polygon", ns)) >= 1 + 2  # the field and its no-spray zones


def test_the_kml_check_refuses_what_google_earth_would_not_read():
    schema = _kml_schema()
    bad = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
           b"<Polygon><coordinates>1,2 3,4</coordinates></Polygon></Placemark></Document></kml>")
    assert not schema.validate(_strict(bad))
    with pytest.raises(etree.XMLSyntaxError):
        _strict(b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document></kml>')
