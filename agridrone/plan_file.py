"""plan.json: the one hand-off between planning and flying, and coverage.geojson.

Both are built from the field and the route, with coordinates in WGS84 [lon, lat]
rounded to 1e-8 degree (about 1 mm), so that the same inputs give the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from agridrone import __version__
from agridrone.coverage import CoverageResult
from agridrone.coverage.leads import leads_by_default
from agridrone.dose import (
    PlanDose,
    default_cell_m,
    plan_dose,
    spacings_or_swath,
    vehicle_application,
)
from agridrone.drone import DroneProfile
from agridrone.errors import AgridroneError
from agridrone.field import Field, geojson_geometry
from agridrone.route import Leg
from agridrone.sorties import Sortie, SortiePlan
from agridrone.spray_height import pass_heights, pattern_scales

SCHEMA_VERSION = 2
COORD_DECIMALS = 8


@dataclass(frozen=True)
class PlanInputs:
    """Every option a plan was made with (units in the names), kept in plan.json.

    home: [lon, lat] degrees, "auto" (choose the station) or None (the boundary point
    nearest the route's start). wind: [speed m/s, from degrees] forecast for the work, or
    None. buffer_m: distance the spray keeps from no-spray zones and from the features of
    buffer_edge_files (:mod:`agridrone.buffers`). leads: lead-in and lead-out legs around
    every pass (:mod:`agridrone.coverage.leads`); None: the autopilot's default (on for PX4,
    off for ArduPilot), resolved on creation so plan.json always holds true or false.
    """

    field_file: str
    exclude_files: list[str]
    drone: str
    rate_l_ha: float
    swath_width_m: float
    edge_margin_m: float
    headland_passes: int
    heading_deg: float | None
    home: list[float] | str | None
    stations_file: str | None
    speed_m_s: float
    transit_speed_m_s: float
    alt_m: float
    turn_time_s: float
    temp_c: float
    swap_time_s: float
    autopilot: str
    alt_frame: str
    transit_alt_m: float | None
    end: str
    max_items: int | None
    fence_margin_m: float
    repair: bool
    max_area_ha: float
    wind: list[float] | None = None
    buffer_m: float = 0.0
    buffer_edge_files: list[str] = dataclass_field(default_factory=list)
    layer: str | None = None
    feature_id: str | None = None
    leads: bool | None = None

    def __post_init__(self) -> None:
        if self.leads is None:
            object.__setattr__(self, "leads", leads_by_default(self.autopilot))


def lonlat_list(field: Field, xy: np.ndarray) -> list[list[float]]:
    """Local metres (n, 2) -> [[lon, lat], …] degrees rounded to 1e-8."""
    lonlat = field.frame.to_wgs84(xy)
    return [[round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS)] for lon, lat in lonlat.tolist()]


def lonlat_lists(field: Field, xys: list[np.ndarray]) -> list[list[list[float]]]:
    """:func:`lonlat_list` of each (n, 2) array, converted in one call (a sortie's legs)."""
    if not xys:
        return []
    lonlat = lonlat_list(field, np.concatenate([np.asarray(xy, dtype=np.float64).reshape(-1, 2)
                                                for xy in xys]))
    ends = np.cumsum([len(xy) for xy in xys]).tolist()
    return [lonlat[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _leg_dict(leg: Leg, coords: list[list[float]], spacing_m: np.ndarray, speed_m_s: float,
              flow_l_min: float, heights_m: np.ndarray) -> dict:
    out: dict = {"kind": leg.kind}
    if leg.pass_index is not None:
        out["pass"] = leg.pass_index
    if leg.kind == "spray":
        out["spacing_m"] = round(float(spacing_m[leg.pass_index]), 4)
        out["alt_m"] = round(float(heights_m[leg.pass_index]), 2)
        out["speed_m_s"] = speed_m_s
        out["flow_l_min"] = round(flow_l_min, 4)
    elif leg.kind == "lead":  # flown at its pass's height and the spray speed, pump off
        out["alt_m"] = round(float(heights_m[leg.pass_index]), 2)
        out["speed_m_s"] = speed_m_s
    out["coords"] = coords
    return out


def route_dose(field: Field, coverage: CoverageResult, sorties: SortiePlan,
               drone: DroneProfile, inputs: PlanInputs) -> PlanDose:
    """The dose of a route flown as ``sorties`` (:func:`agridrone.dose.plan_dose`), from the
    spacing its passes were laid out at and the drone's spray pattern."""
    legs = [leg for sortie in sorties.sorties for leg in sortie.legs]
    spacing = spacings_or_swath(coverage.pass_spacing_m, legs, inputs.swath_width_m)
    application = vehicle_application([leg for leg in legs if leg.kind == "spray"], spacing,
                                      inputs.rate_l_ha, inputs.speed_m_s, drone.pump_max_l_min)
    heights = pass_heights(drone, spacing, inputs.alt_m)
    return plan_dose(legs, application, drone.pattern_for(inputs.swath_width_m),
                     field.sprayable_local, field.outer_local, inputs.rate_l_ha,
                     default_cell_m(inputs.swath_width_m),
                     pattern_scales(drone, heights, inputs.swath_width_m))


def plan_document(
    field: Field, coverage: CoverageResult, sorties: SortiePlan, drone: DroneProfile,
    inputs: PlanInputs, dose: PlanDose,
) -> dict:
    """The plan.json content: the field, the route's figures, the dose (:func:`route_dose`)
    and its sorties."""
    legs = [leg for sortie in sorties.sorties for leg in sortie.legs]
    spacing = spacings_or_swath(coverage.pass_spacing_m, legs, inputs.swath_width_m)
    heights = pass_heights(drone, spacing, inputs.alt_m)
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
        "dose": {**dose.metrics.as_dict(), "cell_m": round(dose.raster.cell_m, 4)},
    }
    figures = sorties.as_dict()
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"agridrone {__version__}",
        "inputs": asdict(inputs),
        "frame": {"proj": field.frame.proj, "lon_0": field.frame.lon_0, "lat_0": field.frame.lat_0},
        "field": geojson_geometry(field.boundary, COORD_DECIMALS),
        "no_spray": geojson_geometry(field.no_spray, COORD_DECIMALS),
        "metrics": metrics,
        "drone": drone.as_dict(),
        "rate_l_ha": inputs.rate_l_ha,
        "application": dose.application.as_dict(),
        "lower_bound_sorties": sorties.lower_bound_sorties,
        "totals": {
            "sorties": len(sorties.sorties),
            "liquid_l": figures["total_liquid_l"],
            "energy_wh": figures["total_energy_wh"],
            "time_s": figures["total_time_s"],
            "swap_time_s": figures["swap_time_s"],
            "deadhead_m": figures["deadhead_m"],
        },
        "station": lonlat_list(field, coverage.station_local[None, :])[0],
        "sorties": [
            _sortie_dict(field, index, sortie, spacing, inputs.speed_m_s,
                         dose.application.flow_l_min, heights)
            for index, sortie in enumerate(sorties.sorties, start=1)
        ],
    }


def _sortie_dict(field: Field, index: int, sortie: Sortie, spacing_m: np.ndarray,
                 speed_m_s: float, flow_l_min: float, heights_m: np.ndarray) -> dict:
    figures = sortie.as_dict()
    breakpoint_ = sortie.breakpoint
    figures["breakpoint"] = None if breakpoint_ is None else {
        "pass": int(breakpoint_["pass"]),
        "point": lonlat_list(field, np.asarray([breakpoint_["xy"]], dtype=np.float64))[0],
    }
    coords = lonlat_lists(field, [leg.xy for leg in sortie.legs])
    legs = [_leg_dict(leg, xy, spacing_m, speed_m_s, flow_l_min, heights_m)
            for leg, xy in zip(sortie.legs, coords, strict=True)]
    return {"index": index, "legs": legs, **figures}


@cache
def plan_schema() -> dict:
    """The JSON Schema of plan.json shipped in the package."""
    text = resources.files("agridrone").joinpath("schema/plan.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_plan(document: dict) -> None:
    """Raise AgridroneError naming the first place where ``document`` breaks the schema."""
    import jsonschema  # only readers of plan files need it; keeps `agridrone plan` start-up short

    version = document.get("schema_version")
    if isinstance(version, int) and version != SCHEMA_VERSION:
        raise AgridroneError(f"plan.json of schema version {version}: this agridrone reads "
                             f"version {SCHEMA_VERSION}; plan the field again")
    try:
        jsonschema.validate(document, plan_schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise AgridroneError(f"plan does not match its schema at {where}: {exc.message}") from None


def read_plan(path: str | Path) -> dict:
    """plan.json read and validated against its schema; AgridroneError naming the file when
    it is unreadable, not JSON or not a plan."""
    from agridrone.outputs import read_text

    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise AgridroneError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(document, dict) or "sorties" not in document:
        raise AgridroneError(f"{path}: not an agridrone plan.json")
    validate_plan(document)
    return document


def dumps(document: dict) -> bytes:
    """Deterministic JSON bytes (2-space indent, keys in insertion order, final newline)."""
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def coverage_geojson(field: Field, sorties: SortiePlan, document: dict) -> dict:
    """coverage.geojson: the field, no-spray zones, spray and transit legs in flying order
    (each with its sortie), and the station, as features whose property ``kind`` says
    which. The legs' and the station's coordinates are those of ``sorties``' plan.json
    ``document`` (:func:`plan_document`), converted to degrees once for both files."""
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
    order = 0
    for index, (sortie, written) in enumerate(zip(sorties.sorties, document["sorties"], strict=True),
                                              start=1):
        for leg, leg_dict in zip(sortie.legs, written["legs"], strict=True):
            properties: dict = {"kind": leg.kind, "sortie": index, "order": order}
            if leg.pass_index is not None:
                properties["pass"] = leg.pass_index
            properties["length_m"] = round(leg.length_m, 2)
            features.append({
                "type": "Feature", "properties": properties,
                "geometry": {"type": "LineString", "coordinates": leg_dict["coords"]},
            })
            order += 1
    features.append({
        "type": "Feature", "properties": {"kind": "station"},
        "geometry": {"type": "Point", "coordinates": document["station"]},
    })
    return {"type": "FeatureCollection", "features": features}
