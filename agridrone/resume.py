"""Resume a plan after a sortie stopped early: a new plan covering exactly what is left.

A sortie stops early when the vehicle leaves its mission (a battery failsafe RTL): the last
mission item it reached says how far it got. The rest of that sortie's spraying from there,
plus every later sortie's, becomes a new route from the same station, split again into
sorties with the same drone and options. Everything is rebuilt from plan.json alone (field,
no-spray zones, frame, drone, options), so a plan can be resumed on another machine.
Distances are metres in the plan's local frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon, shape

from agridrone.coverage import CoverageOptions, CoverageResult, transit_planner
from agridrone.coverage.metrics import coverage_metrics
from agridrone.coverage.objectives import work_time_s
from agridrone.drone import BatterySpec, DroneProfile, PublishedHover, limits_from_dict
from agridrone.errors import AgridroneError
from agridrone.field import Field, as_multipolygon
from agridrone.geo import LocalFrame
from agridrone.mission import CMD_NAV_TAKEOFF, CMD_NAV_WAYPOINT, MissionItem, build_mission, to_int7
from agridrone.plan_file import PlanInputs, plan_document, validate_plan
from agridrone.route import Leg, spray_length_m, transit_length_m
from agridrone.sorties import rehome_route, split_sorties

JOIN_TOL_M = 0.05  # pieces of one pass cut at a breakpoint meet within this distance


def drone_from_plan(plan: dict) -> DroneProfile:
    """The drone profile stored in plan.json (as used by the planner)."""
    data = dict(plan["drone"])
    battery = BatterySpec(**data.pop("battery"))
    published = data.pop("published", None)
    limits = limits_from_dict(data.pop("limits", None))
    return DroneProfile(**data, battery=battery, limits=limits,
                        published=None if published is None else PublishedHover(**published))


def field_from_plan(plan: dict, name: str = "field") -> Field:
    """The field of plan.json (boundary with holes, no-spray zones, local frame) rebuilt as
    :func:`agridrone.field.load_field` builds it, without the field file."""
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    boundary = as_multipolygon(shape(plan["field"]))
    no_spray = as_multipolygon(shape(plan["no_spray"]))
    boundary_local = as_multipolygon(frame.geometry_to_local(boundary))
    no_spray_local = as_multipolygon(frame.geometry_to_local(no_spray))
    outer_local = as_multipolygon(
        shapely.union_all([Polygon(p.exterior) for p in boundary_local.geoms]))
    return Field(name=name, boundary=boundary, no_spray=no_spray, frame=frame,
                 boundary_local=boundary_local, no_spray_local=no_spray_local,
                 outer_local=outer_local,
                 sprayable_local=as_multipolygon(outer_local.difference(no_spray_local)))


@dataclass(frozen=True)
class Remaining:
    """What is left of a plan: the work legs (spray legs and the turns between them, local
    metres, no flights to or from the station) and the spray length already done in the
    stopped sortie before the point reached (m)."""

    legs: list[Leg]
    done_spray_m: float


def _legs_of(plan: dict, frame: LocalFrame, sortie: dict) -> list[Leg]:
    return [Leg(leg["kind"], frame.to_local(np.asarray(leg["coords"], dtype=np.float64)),
                leg.get("pass")) for leg in sortie["legs"]]


def _work_legs(legs: list[Leg]) -> list[Leg]:
    """The legs from the first spray leg to the last (the station flights dropped)."""
    spray = [i for i, leg in enumerate(legs) if leg.kind == "spray"]
    return legs[spray[0]:spray[-1] + 1] if spray else []


def _reached_vertex(legs_json: list[dict], items: list[MissionItem], reached: int
                    ) -> tuple[int, int]:
    """(leg index, vertex index) of the last waypoint at or before mission item ``reached``,
    matched to the sortie's legs in flying order; (-1, 0) when none was reached (still at
    the station)."""
    vertices = [(i, k, (to_int7(lat), to_int7(lon)))
                for i, leg in enumerate(legs_json) for k, (lon, lat) in enumerate(leg["coords"])]
    at, cursor = (-1, 0), 0
    for item in items[1:reached + 1]:
        if item.command == CMD_NAV_TAKEOFF or item.command != CMD_NAV_WAYPOINT:
            continue
        for j in range(cursor, len(vertices)):
            if vertices[j][2] == (item.x, item.y):
                at, cursor = vertices[j][:2], j + 1
                break
    return at


def remaining_work(plan: dict, sortie_index: int, reached: int) -> Remaining:
    """The work left when sortie ``sortie_index`` (1-based) stopped after mission item
    ``reached`` (the ArduPilot mission of :func:`agridrone.mission.build_mission` with the
    plan's options, item 0 = home): the rest of that sortie's legs from the last waypoint
    reached, then every later sortie's. Raises AgridroneError for a sortie or item the plan
    does not have, or a sortie split into several missions."""
    sorties = plan["sorties"]
    if not 1 <= sortie_index <= len(sorties):
        raise AgridroneError(f"no sortie {sortie_index}: the plan has {len(sorties)} sorties")
    inputs = plan["inputs"]
    parts = build_mission(plan, sortie_index, autopilot="ardupilot",
                          alt_frame=inputs["alt_frame"], transit_alt_m=inputs["transit_alt_m"],
                          end=inputs["end"], max_items=inputs["max_items"])
    if len(parts) > 1:
        raise AgridroneError(f"sortie {sortie_index} is flown as {len(parts)} missions; resume "
                             "supports sorties flown as one mission (raise --max-items)")
    items = parts[0]
    if not 0 <= reached < len(items):
        raise AgridroneError(f"mission item {reached} is not in sortie {sortie_index} "
                             f"(items 0..{len(items) - 1})")
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    stopped = sorties[sortie_index - 1]
    legs = _legs_of(plan, frame, stopped)
    leg_at, vertex = _reached_vertex(stopped["legs"], items, reached)
    if leg_at < 0:
        rest, done = legs, []
    else:
        leg = legs[leg_at]
        done = legs[:leg_at]
        if vertex > 0:
            done = [*done, replace(leg, xy=leg.xy[:vertex + 1])]
        rest = legs[leg_at + 1:]
        if vertex < len(leg.xy) - 1:
            rest = [replace(leg, xy=leg.xy[vertex:]), *rest]
    work = _work_legs(rest)
    for later in sorties[sortie_index:]:
        work = _join(work, _work_legs(_legs_of(plan, frame, later)))
    return Remaining(work, spray_length_m(done))


def _join(legs: list[Leg], more: list[Leg]) -> list[Leg]:
    """``legs`` then ``more``: a pass cut at a breakpoint is joined back into one leg; other
    gaps are bridged later (by the new route's transits)."""
    if not legs or not more:
        return [*legs, *more]
    last, first = legs[-1], more[0]
    if (last.kind == first.kind == "spray" and last.pass_index == first.pass_index
            and math.dist(last.xy[-1], first.xy[0]) <= JOIN_TOL_M):
        merged = replace(last, xy=np.vstack((last.xy, first.xy[1:])))
        return [*legs[:-1], merged, *more[1:]]
    return [*legs, *more]


def _connected(legs: list[Leg], connect) -> list[Leg]:
    """``legs`` with a transit leg wherever one leg does not start where the previous ends."""
    out: list[Leg] = []
    for leg in legs:
        if out and math.dist(out[-1].xy[-1], leg.xy[0]) > JOIN_TOL_M:
            out.append(Leg("transit", np.asarray(connect(out[-1].xy[-1], leg.xy[0]))))
        out.append(leg)
    return out


def resume_plan(plan: dict, sortie_index: int, reached: int) -> dict:
    """A new plan.json dict covering exactly what is left after sortie ``sortie_index``
    stopped at mission item ``reached``: same field, station, drone and options, the
    remaining spraying re-split into sorties (validated against the plan schema). Raises
    AgridroneError when nothing is left to spray or the rest cannot be flown."""
    validate_plan(plan)
    remaining = remaining_work(plan, sortie_index, reached)
    if not any(leg.kind == "spray" for leg in remaining.legs):
        raise AgridroneError(f"nothing is left to spray after item {reached} of sortie "
                             f"{sortie_index} and the sorties after it")
    field = field_from_plan(plan, Path(plan["inputs"]["field_file"]).stem)
    drone = drone_from_plan(plan)
    fields = PlanInputs.__dataclass_fields__
    inputs = PlanInputs(**{k: v for k, v in plan["inputs"].items() if k in fields})
    inputs = replace(inputs, home=[float(c) for c in plan["station"]])
    station = field.frame.to_local(np.asarray([plan["station"]], dtype=np.float64))[0]
    transit = transit_planner(field)
    work = _connected(remaining.legs, transit.path)
    route = rehome_route(work, station, transit.path)
    sorties = split_sorties(route, station, drone, rate_l_ha=inputs.rate_l_ha,
                            swath_m=inputs.swath_width_m, speed_m_s=inputs.speed_m_s,
                            transit_speed_m_s=inputs.transit_speed_m_s, alt_m=inputs.alt_m,
                            temp_c=inputs.temp_c, connect=transit.path,
                            swap_time_s=inputs.swap_time_s)
    coverage = _coverage_of(route, station, field, inputs, float(plan["metrics"]["heading_deg"]))
    document = plan_document(field, coverage, sorties, drone, inputs)
    validate_plan(document)
    return document


def _coverage_of(route: list[Leg], station: np.ndarray, field: Field, inputs: PlanInputs,
                 heading_deg: float) -> CoverageResult:
    """The figures of a resumed route: its passes, turns, lengths, time and what share of the
    field's sprayable area it covers."""
    spray = [leg for leg in route if leg.kind == "spray"]
    options = CoverageOptions(swath_m=inputs.swath_width_m, speed_m_s=inputs.speed_m_s,
                              transit_speed_m_s=inputs.transit_speed_m_s,
                              turn_time_s=inputs.turn_time_s)
    turns = max(len(spray) - 1, 0)
    spray_m, deadhead_m = spray_length_m(route), transit_length_m(route)
    est = work_time_s(spray_m, turns, deadhead_m, speed_m_s=options.speed_m_s,
                      turn_time_s=options.turn_time_s,
                      transit_speed_m_s=options.transit_speed_m_s)
    metrics = coverage_metrics([leg.xy for leg in spray], field.sprayable_local,
                               inputs.swath_width_m)
    return CoverageResult(heading_deg=heading_deg, station_local=station, legs=route,
                          passes=len({leg.pass_index for leg in spray}), turns=turns,
                          spray_m=spray_m, deadhead_m=deadhead_m, est_time_s=float(est),
                          metrics=metrics)
