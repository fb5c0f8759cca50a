"""plan.json: the one hand-off between planning and flying, and coverage.geojson.

Both are built from the field and the route, with coordinates in WGS84 [lon, lat]
rounded to 1e-8 degree (about 1 mm), so that the same inputs give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources

import numpy as np

from agridrone import __version__
from agridrone.coverage import CoverageResult
from agridrone.errors import AgridroneError
from agridrone.field import Field, geojson_geometry
from agridrone.route import Leg

SCHEMA_VERSION = 1
COORD_DECIMALS = 8


@dataclass(frozen=True)
class PlanInputs:
    """Every option a plan was made with (units in the names), kept in plan.json."""

    field_file: str
    exclude_files: list[str]
    swath_width_m: float
    edge_margin_m: float
    headland_passes: int
    heading_deg: float | None
    home: list[float] | None
    speed_m_s: float
    transit_speed_m_s: float
    alt_m: float
    turn_time_s: float
    repair: bool
    max_area_ha: float


def lonlat_list(field: Field, xy: np.ndarray) -> list[list[float]]:
    """Local metres (n, 2) -> [[lon, lat], …] degrees rounded to 1e-8."""
    lonlat = field.frame.to_wgs84(xy)
    return [[round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)] for lon, lat in lonlat]


def _leg_dict(field: Field, leg: Leg) -> dict:
    out: dict = {"kind": leg.kind}
    if leg.pass_index is not None:
        out["pass"] = leg.pass_index
    out["coords"] = lonlat_list(field, leg.xy)
    return out


def plan_document(field: Field, coverage: CoverageResult, inputs: PlanInputs) -> dict:
    """The plan.json content for one route (one sortie until sorties are split)."""
    metrics = {
        "area_ha": round(field.area_m2 / 1e4, 4),
        "sprayable_ha": round(field.sprayable_m2 / 1e4, 4),
        "coverage_pct": round(coverage.metrics.coverage_pct, 3),
        "overlap_pct": round(coverage.metrics.overlap_pct, 3),
        "outside_m2": round(coverage.metrics.outside_m2, 2),
        "heading_deg": round(coverage.heading_deg, 4),
        "passes": coverage.passes,
        "turns": coverage.turns,
        "spray_m": round(coverage.spray_m, 2),
        "deadhead_m": round(coverage.deadhead_m, 2),
        "est_time_s": round(coverage.est_time_s, 1),
    }
    sortie = {
        "index": 1,
        "legs": [_leg_dict(field, leg) for leg in coverage.legs],
        "metrics": {
            "spray_m": metrics["spray_m"],
            "deadhead_m": metrics["deadhead_m"],
            "est_time_s": metrics["est_time_s"],
        },
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"agridrone {__version__}",
        "inputs": asdict(inputs),
        "frame": {"proj": field.frame.proj, "lon_0": field.frame.lon_0, "lat_0": field.frame.lat_0},
        "field": geojson_geometry(field.boundary, COORD_DECIMALS),
        "no_spray": geojson_geometry(field.no_spray, COORD_DECIMALS),
        "metrics": metrics,
        "station": lonlat_list(field, coverage.station_local[None, :])[0],
        "sorties": [sortie],
    }


@cache
def plan_schema() -> dict:
    """The JSON Schema of plan.json shipped in the package."""
    text = resources.files("agridrone").joinpath("schema/plan.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_plan(document: dict) -> None:
    """Raise AgridroneError naming the first place where ``document`` breaks the schema."""
    import jsonschema  # only readers of plan files need it; keeps `agridrone plan` start-up short

    try:
        jsonschema.validate(document, plan_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise AgridroneError(f"plan does not match its schema at {where}: {exc.message}") from None


def dumps(document: dict) -> bytes:
    """Deterministic JSON bytes (2-space indent, keys in insertion order, final newline)."""
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def coverage_geojson(field: Field, coverage: CoverageResult) -> dict:
    """coverage.geojson: the field, no-spray zones, spray and transit legs in route order,
    and the station, as features whose property ``kind`` says which."""
    features = [
        {"type": "Feature", "properties": {"kind": "field"},
         "geometry": geojson_geometry(field.boundary, COORD_DECIMALS)},
    ]
    for zone in field.no_spray.geoms:
        features.append({
            "type": "Feature", "properties": {"kind": "no_spray"},
            "geometry": {"type": "Polygon", "coordinates": geojson_geometry(
                type(field.no_spray)([zone]), COORD_DECIMALS)["coordinates"][0]},
        })
    for order, leg in enumerate(coverage.legs):
        properties: dict = {"kind": leg.kind, "order": order}
        if leg.pass_index is not None:
            properties["pass"] = leg.pass_index
        properties["length_m"] = round(leg.length_m, 2)
        features.append({
            "type": "Feature", "properties": properties,
            "geometry": {"type": "LineString", "coordinates": lonlat_list(field, leg.xy)},
        })
    features.append({
        "type": "Feature", "properties": {"kind": "station"},
        "geometry": {"type": "Point", "coordinates": lonlat_list(field, coverage.station_local[None, :])[0]},
    })
    return {"type": "FeatureCollection", "features": features}
