"""GeoPackage of a plan for GIS users (QGIS, ArcGIS): layers field, no_spray, passes,
transits, sorties, coverage and station, in WGS84, written through GDAL by pyogrio. GDAL's
own time stamps are pinned (OGR_CURRENT_DATE) so the same plan gives the same bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from agridrone.geo import LocalFrame

PINNED_DATE = "2000-01-01T00:00:00Z"
DECIMALS = 8
OVERLAP_M = 1e-3  # strips a spacing apart overlap by this much, so they never merely touch


def _lines(plan: dict, kind: str) -> list[tuple[dict, dict]]:
    return [(sortie, leg) for sortie in plan["sorties"] for leg in sortie["legs"] if leg["kind"] == kind]


def plan_layers(plan: dict) -> dict[str, tuple[str, list, dict[str, np.ndarray]]]:
    """Layer name -> (geometry type, shapely geometries, field name -> column) of a plan."""
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    field = shape(plan["field"])
    zones = list(shape(plan["no_spray"]).geoms)
    passes = _lines(plan, "spray")
    transits = _lines(plan, "transit")
    sorties = plan["sorties"]
    coverage = []
    for sortie in sorties:
        swaths = [shapely.LineString(frame.to_local(np.asarray(leg["coords"]))).buffer(
            leg["spacing_m"] / 2 + OVERLAP_M, cap_style="flat")
            for leg in sortie["legs"] if leg["kind"] == "spray"]
        local = shapely.union_all(swaths)
        coverage.append((shapely.MultiPolygon(
            [p for p in shapely.get_parts(local) if p.geom_type == "Polygon"]), local.area))
    to_wgs84 = lambda g: shapely.transform(g, frame.to_wgs84)  # noqa: E731
    return {
        "field": ("MultiPolygon", [field], {"area_ha": np.array([plan["metrics"]["area_ha"]])}),
        "no_spray": ("Polygon", zones, {"zone": np.arange(1, len(zones) + 1, dtype=np.int64)}),
        "passes": ("LineString", [shapely.LineString(leg["coords"]) for _, leg in passes], {
            "sortie": np.array([s["index"] for s, _ in passes], dtype=np.int64),
            "pass": np.array([leg["pass"] for _, leg in passes], dtype=np.int64),
            "spacing_m": np.array([leg["spacing_m"] for _, leg in passes], dtype=np.float64),
            "flow_l_min": np.array([leg["flow_l_min"] for _, leg in passes], dtype=np.float64),
        }),
        "transits": ("LineString", [shapely.LineString(leg["coords"]) for _, leg in transits], {
            "sortie": np.array([s["index"] for s, _ in transits], dtype=np.int64)}),
        "sorties": ("MultiLineString", [shapely.MultiLineString([leg["coords"] for leg in s["legs"]])
                                        for s in sorties], {
            "sortie": np.array([s["index"] for s in sorties], dtype=np.int64),
            **{key: np.array([s[key] for s in sorties], dtype=np.float64)
               for key in ("liquid_l", "energy_wh", "time_s", "soc_landing_pct")}}),
        "coverage": ("MultiPolygon", [to_wgs84(g) for g, _ in coverage], {
            "sortie": np.array([s["index"] for s in sorties], dtype=np.int64),
            "area_m2": np.array([round(a, 2) for _, a in coverage], dtype=np.float64)}),
        "station": ("Point", [shapely.Point(plan["station"])], {}),
    }


def render_geopackage(plan: dict) -> bytes:
    """plan.gpkg bytes of a plan.json dict (layers of :func:`plan_layers`)."""
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.gpkg"
        previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": PINNED_DATE})
        try:
            for index, (name, (kind, geometries, columns)) in enumerate(plan_layers(plan).items()):
                wkb = np.array([shapely.to_wkb(shapely.set_precision(shapely.make_valid(g),
                                                                     10 ** -DECIMALS)
                                               if name == "coverage" else g)
                                for g in geometries], dtype=object)
                pyogrio.raw.write(str(path), wkb, list(columns.values()), list(columns),
                                  layer=name, driver="GPKG", geometry_type=kind, crs="EPSG:4326",
                                  append=index > 0)
        finally:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
        return path.read_bytes()
