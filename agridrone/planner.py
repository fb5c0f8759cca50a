"""The planning pipeline: field file -> validated field -> coverage route -> sorties ->
plan files (plan.json, coverage.geojson, preview.png, mission files)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry import Point

from agridrone.buffers import zone_growth_m
from agridrone.coverage import CoverageOptions, CoverageResult, plan_coverage, transit_planner
from agridrone.coverage.leads import lead_lengths_m
from agridrone.coverage.objectives import work_time_s
from agridrone.dose import PlanDose, default_cell_m, plan_dose, vehicle_application
from agridrone.drone import DroneProfile, load_drone
from agridrone.energy import check_flow
from agridrone.errors import AgridroneError
from agridrone.field import Field, load_field, read_points
from agridrone.map_html import render_map_html
from agridrone.plan_file import (
    PlanInputs,
    coverage_geojson,
    dumps,
    plan_document,
)
from agridrone.route import Leg, transit_length_m
from agridrone.simplify import simplify_field
from agridrone.sorties import SortiePlan, choose_station, rehome_route, split_sorties
from agridrone.spray_height import pass_heights, pattern_scales, swath_range_m

MAX_HOME_DISTANCE_M = 5000.0
AUTO_STATION_CANDIDATES = 32


@dataclass(frozen=True)
class StationChoice:
    """How ``--home auto`` chose the station: candidates tried and the dead-head (m) of the
    chosen station against the default one (the boundary point nearest the route's start)."""

    candidates: int
    deadhead_m: float
    default_deadhead_m: float

    @property
    def saving_m(self) -> float:
        """Dead-head saved against the default station (m)."""
        return self.default_deadhead_m - self.deadhead_m


@dataclass(frozen=True)
class Planned:
    """A planned field: the validated field, the route, its sorties, the plan.json document
    and the remarks to show the operator."""

    field: Field
    drone: DroneProfile
    coverage: CoverageResult
    sorties: SortiePlan
    station_choice: StationChoice | None
    document: dict
    warnings: list[str]
    dose: PlanDose


def make_plan(inputs: PlanInputs) -> Planned:
    """Run the pipeline for the options in ``inputs``; raises AgridroneError on bad input."""
    drone = load_drone(inputs.drone)
    check_flow(inputs.rate_l_ha, inputs.swath_width_m, inputs.speed_m_s, drone.pump_max_l_min)
    field = simplify_field(load_field(
        inputs.field_file,
        exclude_paths=tuple(inputs.exclude_files),
        repair=inputs.repair,
        max_area_ha=inputs.max_area_ha,
        buffer_m=zone_growth_m(inputs.buffer_m, inputs.swath_width_m),
        buffer_edge_paths=tuple(inputs.buffer_edge_files),
        layer=inputs.layer,
        feature_id=inputs.feature_id,
    ))
    fixed_station = _station_local(field, inputs.home) if isinstance(inputs.home, list) else None
    options = CoverageOptions(
        swath_m=inputs.swath_width_m,
        edge_margin_m=inputs.edge_margin_m,
        headland_passes=inputs.headland_passes,
        heading_deg=inputs.heading_deg,
        speed_m_s=inputs.speed_m_s,
        transit_speed_m_s=inputs.transit_speed_m_s,
        turn_time_s=inputs.turn_time_s,
        spacing_range_m=None if drone.limits is None else swath_range_m(drone.limits),
        lead_m=lead_lengths_m(inputs.autopilot, inputs.speed_m_s) if inputs.leads else (0.0, 0.0),
    )
    transit = transit_planner(field, options.lead_reach_m)
    coverage = plan_coverage(field, options, fixed_station, transit)
    application = vehicle_application(
        [leg for leg in coverage.legs if leg.kind == "spray"], coverage.pass_spacing_m,
        inputs.rate_l_ha, inputs.speed_m_s, drone.pump_max_l_min,
    )
    split_options = {
        "rate_l_ha": inputs.rate_l_ha,
        "swath_m": application.spacing_m,  # litres per metre follow the spacing flown
        "speed_m_s": inputs.speed_m_s,
        "transit_speed_m_s": inputs.transit_speed_m_s,
        "alt_m": inputs.alt_m,
        "temp_c": inputs.temp_c,
        "connect": transit.path,
        "swap_time_s": inputs.swap_time_s,
        "breakpoint_lead_m": options.lead_m,
    }
    transit.expect(np.array([leg.xy[-1] for leg in coverage.legs]), coverage.station_local)
    sorties = split_sorties(coverage.legs, coverage.station_local, drone, **split_options)
    choice = None
    if inputs.home == "auto":
        candidates = _station_candidates(field, inputs.stations_file)
        index, deadhead = choose_station(candidates, coverage.legs, drone, **split_options)
        station = candidates[index]
        legs = rehome_route(coverage.legs, station, transit.path)
        choice = StationChoice(len(candidates), deadhead, sorties.deadhead_m)
        sorties = split_sorties(legs, station, drone, **split_options)
        coverage = _with_station(coverage, station, legs, options)
    heights = pass_heights(drone, coverage.pass_spacing_m, inputs.alt_m)
    dose = plan_dose(
        [leg for s in sorties.sorties for leg in s.legs], application,
        drone.pattern_for(inputs.swath_width_m), field.sprayable_local, field.outer_local,
        inputs.rate_l_ha, default_cell_m(inputs.swath_width_m),
        pattern_scales(drone, heights, inputs.swath_width_m),
    )
    document = plan_document(field, coverage, sorties, drone, inputs, dose)
    return Planned(field, drone, coverage, sorties, choice, document,
                   [*field.repairs, *field.warnings], dose)


def plan_files(planned: Planned) -> dict[str, bytes]:
    """The planner's own files of a plan, name -> bytes: plan.json, coverage.geojson,
    map.html and dose.tif (:func:`plan_data_files`), preview.png and dose.png
    (:func:`plan_pictures`). The mission files are the missions stage's
    (``missions.files``)."""
    return {**plan_data_files(planned),
            **plan_pictures(planned.field, planned.document, planned.dose, plan_title(planned))}


def plan_data_files(planned: Planned) -> dict[str, bytes]:
    """The planner's files other than the pictures: plan.json, coverage.geojson, map.html
    and dose.tif, name -> bytes. Nothing here imports matplotlib, so that planning without
    pictures (``agridrone batch --summary-only``) never loads it and ``agridrone plan``
    can draw the pictures in another process (:mod:`agridrone.cli.picture_worker`)."""
    from agridrone.dose_map import dose_geotiff

    geojson = json.dumps(coverage_geojson(planned.field, planned.sorties, planned.document)) + "\n"
    return {
        "plan.json": dumps(planned.document),
        "coverage.geojson": geojson.encode("utf-8"),
        "map.html": render_map_html(planned.document, plan_title(planned)),
        "dose.tif": dose_geotiff(planned.field, planned.dose.raster),
    }


def plan_title(planned: Planned) -> str:
    """The title of the plan's pictures and map: field name, area, passes, heading,
    coverage, sorties and drone."""
    from agridrone.text_fonts import isolate

    m = planned.document["metrics"]
    return (
        f"{isolate(planned.field.name)}: {m['area_ha']:.2f} ha, {m['passes']} passes at "
        f"{m['heading_deg']:.1f}°, coverage {m['coverage_pct']:.1f} %, "
        f"{len(planned.sorties.sorties)} sorties ({planned.drone.name})"
    )


def plan_pictures(field: Field, document: dict, dose: PlanDose, title: str) -> dict[str, bytes]:
    """preview.png and dose.png of a plan (its field, plan.json document and dose) under
    ``title``, name -> PNG bytes."""
    from agridrone.dose_map import dose_caption, render_dose_png
    from agridrone.preview import render_preview

    rate = document["rate_l_ha"]
    return {
        "preview.png": render_preview(field, document, title),
        "dose.png": render_dose_png(field, dose.raster, rate, dose_caption(title, dose.metrics, rate)),
    }


def _with_station(
    coverage: CoverageResult, station: np.ndarray, legs: list[Leg], options: CoverageOptions
) -> CoverageResult:
    """The coverage result flown from another station, its dead-head and time updated."""
    deadhead = transit_length_m(legs)
    est = work_time_s(
        coverage.spray_m, coverage.turns, deadhead, speed_m_s=options.speed_m_s,
        turn_time_s=options.turn_time_s, transit_speed_m_s=options.transit_speed_m_s,
    )
    return replace(coverage, station_local=station, legs=legs, deadhead_m=deadhead,
                   est_time_s=float(est))


def _station_candidates(field: Field, stations_file: str | None) -> np.ndarray:
    """Candidate stations (local metres): the points of ``stations_file``, or points spaced
    evenly along the field's outer boundary."""
    if stations_file is not None:
        lonlat = read_points(stations_file)
        points = field.frame.to_local(lonlat)
        for lon, lat in lonlat:
            _station_local(field, [float(lon), float(lat)])
        return points
    rings = [polygon.exterior for polygon in field.outer_local.geoms]
    total = sum(ring.length for ring in rings)
    points = []
    for ring in rings:
        count = max(1, int(round(AUTO_STATION_CANDIDATES * ring.length / total)))
        for k in range(count):
            p = ring.interpolate(ring.length * k / count)
            points.append((p.x, p.y))
    return np.asarray(points, dtype=np.float64)


def _station_local(field: Field, home: list[float]) -> np.ndarray:
    """The operator's station ([lon, lat] degrees) in local metres, checked."""
    xy = field.frame.to_local(np.array([home]))[0]
    point = Point(xy)
    if shapely.contains(field.no_spray_local, point):
        raise AgridroneError(
            f"station {home[1]:.7f},{home[0]:.7f} lies inside a no-spray zone; put it elsewhere"
        )
    distance = float(field.outer_local.distance(point))
    if distance > MAX_HOME_DISTANCE_M:
        raise AgridroneError(
            f"station {home[1]:.7f},{home[0]:.7f} is {distance / 1000:.1f} km from the field; "
            f"it must be within {MAX_HOME_DISTANCE_M / 1000:.0f} km (lat,lon order?)"
        )
    return xy
