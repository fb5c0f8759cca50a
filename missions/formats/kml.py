"""KML for Google Earth: the field and its no-spray zones, and per sortie the spray passes
and the whole route, in WGS84 degrees."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from agridrone.errors import AgridroneError
from agridrone.outputs import read_text, write_bytes_atomic

KML_NS = "http://www.opengis.net/kml/2.2"
_STYLES = {  # id: (line colour aabbggrr, line width, fill colour or None)
    "field": ("ff00aa00", 2.0, "3300aa00"),
    "no_spray": ("ff0000ff", 2.0, "550000ff"),
    "pass": ("ffffaa00", 3.0, None),
    "route": ("ff00ffff", 1.0, None),
}


def render_kml(plan: dict) -> bytes:
    """The bytes of a KML document for a plan.json dict."""
    ET.register_namespace("", KML_NS)
    kml = ET.Element(_tag("kml"))
    document = _sub(kml, "Document")
    _sub(document, "name", "agridrone plan")
    for style_id, (line_colour, width, fill) in _STYLES.items():
        style = _sub(document, "Style", id=style_id)
        line = _sub(style, "LineStyle")
        _sub(line, "color", line_colour)
        _sub(line, "width", repr(width))
        poly = _sub(style, "PolyStyle")
        _sub(poly, "color", fill or "00000000")
        _sub(poly, "fill", "1" if fill else "0")
    field_folder = _sub(document, "Folder")
    _sub(field_folder, "name", "Field")
    _polygon_placemark(field_folder, "field", "field", plan["field"]["coordinates"])
    _polygon_placemark(field_folder, "no-spray zones", "no_spray", plan["no_spray"]["coordinates"])
    for sortie in plan["sorties"]:
        folder = _sub(document, "Folder")
        _sub(folder, "name", f"Sortie {sortie['index']:02d}")
        passes = _placemark(folder, "passes", "pass")
        geometry = _sub(passes, "MultiGeometry")
        for leg in sortie["legs"]:
            if leg["kind"] == "spray":
                _sub(_sub(geometry, "LineString"), "coordinates", _coords(leg["coords"]))
        route = _placemark(folder, "route", "route")
        _sub(_sub(route, "LineString"), "coordinates", _coords(_route(sortie["legs"])))
    ET.indent(kml, space=" ")
    return ET.tostring(kml, encoding="utf-8", xml_declaration=True) + b"\n"


def write_kml(path: str | Path, plan: dict) -> Path:
    """Write the KML of :func:`render_kml` atomically."""
    return write_bytes_atomic(path, render_kml(plan))


def read_kml_plan(path: str | Path) -> dict:
    """What :func:`write_kml` wrote, read back as [lon, lat] degrees:
    ``{"field": [rings], "no_spray": [rings], "sorties": {n: {"passes": [...], "route": [...]}}}``."""
    path = Path(path)
    try:
        root = ET.fromstring(read_text(path))
    except ET.ParseError as exc:
        raise AgridroneError(f"{path}: not valid KML: {exc}") from None
    result: dict = {"field": [], "no_spray": [], "sorties": {}}
    for folder in root.iter(_tag("Folder")):
        name = folder.findtext(_tag("name"), "")
        for placemark in folder.iter(_tag("Placemark")):
            label = placemark.findtext(_tag("name"), "")
            lines = [_parse(c.text or "") for c in placemark.iter(_tag("coordinates"))]
            if name == "Field":
                result["field" if label == "field" else "no_spray"].extend(lines)
            elif name.startswith("Sortie "):
                sortie = result["sorties"].setdefault(int(name.split()[1]), {})
                sortie[label] = lines if label == "passes" else lines[0]
    return result


def _route(legs: list[dict]) -> list[list[float]]:
    points: list[list[float]] = []
    for leg in legs:
        for point in leg["coords"]:
            if not points or points[-1] != list(point):
                points.append(list(point))
    return points


def _polygon_placemark(parent: ET.Element, name: str, style: str, polygons: list) -> None:
    placemark = _placemark(parent, name, style)
    geometry = _sub(placemark, "MultiGeometry")
    for rings in polygons:
        polygon = _sub(geometry, "Polygon")
        for index, ring in enumerate(rings):
            boundary = _sub(polygon, "outerBoundaryIs" if index == 0 else "innerBoundaryIs")
            _sub(_sub(boundary, "LinearRing"), "coordinates", _coords(ring))


def _placemark(parent: ET.Element, name: str, style: str) -> ET.Element:
    placemark = _sub(parent, "Placemark")
    _sub(placemark, "name", name)
    _sub(placemark, "styleUrl", f"#{style}")
    return placemark


def _coords(points: list) -> str:
    return " ".join(f"{float(lon)!r},{float(lat)!r}" for lon, lat in points)


def _parse(text: str) -> list[list[float]]:
    return [[float(v) for v in token.split(",")[:2]] for token in text.split()]


def _tag(name: str) -> str:
    return f"{{{KML_NS}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name), attrib)
    if text is not None:
        element.text = text
    return element
