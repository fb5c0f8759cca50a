"""The planning pipeline: field file -> validated field -> coverage route -> plan files."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point

from agridrone.coverage import CoverageOptions, CoverageResult, plan_coverage
from agridrone.errors import AgridroneError
from agridrone.field import Field, load_field
from agridrone.plan_file import PlanInputs, coverage_geojson, dumps, plan_document
from agridrone.preview import render_preview

MAX_HOME_DISTANCE_M = 5000.0


@dataclass(frozen=True)
class Planned:
    """A planned field: the validated field, the route, the plan.json document and the
    remarks to show the operator."""

    field: Field
    coverage: CoverageResult
    document: dict
    warnings: list[str]


def make_plan(inputs: PlanInputs) -> Planned:
    """Run the pipeline for the options in ``inputs``; raises AgridroneError on bad input."""
    field = load_field(
        inputs.field_file,
        exclude_paths=tuple(inputs.exclude_files),
        repair=inputs.repair,
        max_area_ha=inputs.max_area_ha,
    )
    station = _station_local(field, inputs.home)
    options = CoverageOptions(
        swath_m=inputs.swath_width_m,
        edge_margin_m=inputs.edge_margin_m,
        headland_passes=inputs.headland_passes,
        heading_deg=inputs.heading_deg,
        speed_m_s=inputs.speed_m_s,
        transit_speed_m_s=inputs.transit_speed_m_s,
        turn_time_s=inputs.turn_time_s,
    )
    coverage = plan_coverage(field, options, station)
    document = plan_document(field, coverage, inputs)
    return Planned(field, coverage, document, [*field.repairs, *field.warnings])


def plan_files(planned: Planned) -> dict[str, bytes]:
    """The files of a plan, name -> bytes: plan.json, coverage.geojson, preview.png."""
    geojson = json.dumps(coverage_geojson(planned.field, planned.coverage), indent=1) + "\n"
    m = planned.document["metrics"]
    title = (
        f"{planned.field.name}: {m['area_ha']:.2f} ha, {m['passes']} passes at "
        f"{m['heading_deg']:.1f}°, coverage {m['coverage_pct']:.1f} %"
    )
    return {
        "plan.json": dumps(planned.document),
        "coverage.geojson": geojson.encode("utf-8"),
        "preview.png": render_preview(planned.field, planned.coverage, title),
    }


def _station_local(field: Field, home: list[float] | None) -> np.ndarray | None:
    """The operator's station ([lon, lat] degrees) in local metres, checked."""
    if home is None:
        return None
    xy = field.frame.to_local(np.array([home]))[0]
    point = Point(xy)
    if shapely.contains(field.no_spray_local, point):
        raise AgridroneError(
            f"--home {home[1]:.7f},{home[0]:.7f} lies inside a no-spray zone; put the station elsewhere"
        )
    distance = float(field.outer_local.distance(point))
    if distance > MAX_HOME_DISTANCE_M:
        raise AgridroneError(
            f"--home {home[1]:.7f},{home[0]:.7f} is {distance / 1000:.1f} km from the field; "
            f"the station must be within {MAX_HOME_DISTANCE_M / 1000:.0f} km (lat,lon order?)"
        )
    return xy
