"""Resume a plan after a sortie stopped early: a new plan covering exactly what is left.

A sortie stops early when the vehicle leaves its mission (a battery failsafe RTL). Where it
stopped is a :class:`Stop`: a vertex of one of the sortie's legs (``missions.progress`` finds
it from the last mission item the vehicle reached). The rest of that sortie's spraying from there,
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

from agridrone.coverage import CoverageOptions, CoverageResult, lead_region, transit_planner
from agridrone.coverage.leads import LeadRegion, lead_lengths_m, leads_for
from agridrone.coverage.metrics import coverage_metrics
from agridrone.coverage.objectives import work_time_s
from agridrone.drone import BatterySpec, DroneProfile, PublishedHover, limits_from_dict
from agridrone.errors import AgridroneError
from agridrone.field import Field, as_multipolygon
from agridrone.geo import LocalFrame
from agridrone.plan_file import PlanInputs, plan_document, route_dose, validate_plan
from agridrone.planner import Planned
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
class Stop:
    """Where a sortie stopped: on leg ``leg`` (index into the sortie's legs in plan.json) at
    its vertex ``vertex`` or, when ``point`` is given, at that point (local metres) of the
    segment from vertex ``vertex`` to the next; ``leg`` -1 when the vehicle never left the
    station."""

    leg: int
    vertex: int = 0
    point: tuple[float, float] | None = None


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
    """The legs from the first spray leg (its lead-in included) to the last (its lead-out
    included): the station flights dropped."""
    spray = [i for i, leg in enumerate(legs) if leg.kind != "transit"]
    if spray and not any(leg.kind == "spray" for leg in legs):
        return []
    return legs[spray[0]:spray[-1] + 1] if spray else []


def stop_at_point(plan: dict, sortie_index: int, lon_deg: float, lat_deg: float,
                  max_offset_m: float | None = None) -> Stop:
    """The :class:`Stop` of sortie ``sortie_index`` (1-based) whose pump stopped at
    (``lon_deg``, ``lat_deg``): that point projected onto the nearest of the sortie's spray
    legs. Raises AgridroneError when it lies farther than ``max_offset_m`` (default one
    swath) from every spray leg of the sortie."""
    sorties = plan["sorties"]
    if not 1 <= sortie_index <= len(sorties):
        raise AgridroneError(f"no sortie {sortie_index}: the plan has {len(sorties)} sorties")
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    point = frame.to_local(np.asarray([[lon_deg, lat_deg]], dtype=np.float64))[0]
    limit = float(plan["inputs"]["swath_width_m"]) if max_offset_m is None else max_offset_m
    best: tuple[float, int, int, np.ndarray] | None = None
    for index, leg in enumerate(_legs_of(plan, frame, sorties[sortie_index - 1])):
        if leg.kind != "spray":
            continue
        for k in range(len(leg.xy) - 1):
            a, b = leg.xy[k], leg.xy[k + 1]
            span = b - a
            t = float(np.clip(np.dot(point - a, span) / max(float(np.dot(span, span)), 1e-12),
                              0.0, 1.0))
            foot = a + t * span
            offset = float(np.hypot(*(point - foot)))
            if best is None or offset < best[0]:
                best = (offset, index, k, foot)
    if best is None or best[0] > limit:
        away = "" if best is None else f" ({best[0]:.1f} m from the nearest)"
        raise AgridroneError(f"{lat_deg:.7f},{lon_deg:.7f} is not on a spray leg of sortie "
                             f"{sortie_index}{away}; give where its pump stopped")
    _, index, k, foot = best
    return Stop(index, k, (float(foot[0]), float(foot[1])))


def remaining_work(plan: dict, sortie_index: int, stop: Stop) -> Remaining:
    """The work left when sortie ``sortie_index`` (1-based) stopped at ``stop``: the rest
    of that sortie's legs from there, then every later sortie's. Raises AgridroneError for
    a sortie or leg the plan does not have."""
    sorties = plan["sorties"]
    if not 1 <= sortie_index <= len(sorties):
        raise AgridroneError(f"no sortie {sortie_index}: the plan has {len(sorties)} sorties")
    if stop.leg >= len(sorties[sortie_index - 1]["legs"]):
        raise AgridroneError(f"sortie {sortie_index} has no leg {stop.leg}")
    frame = LocalFrame(float(plan["frame"]["lon_0"]), float(plan["frame"]["lat_0"]))
    stopped = sorties[sortie_index - 1]
    legs = _legs_of(plan, frame, stopped)
    if stop.leg < 0:
        rest, done = legs, []
    else:
        leg = legs[stop.leg]
        if stop.point is None:
            head, tail = leg.xy[:stop.vertex + 1], leg.xy[stop.vertex:]
        else:
            cut = np.asarray([stop.point], dtype=np.float64)
            head = np.vstack((leg.xy[:stop.vertex + 1], cut))
            tail = np.vstack((cut, leg.xy[stop.vertex + 1:]))
        done = legs[:stop.leg]
        if len(head) > 1:
            done = [*done, replace(leg, xy=head)]
        rest = legs[stop.leg + 1:]
        if len(tail) > 1:
            rest = [replace(leg, xy=tail), *rest]
    work = _work_legs(rest)
    for later in sorties[sortie_index:]:
        work = _join(work, _work_legs(_legs_of(plan, frame, later)))
    return Remaining(work, spray_length_m(done))


def _join(legs: list[Leg], more: list[Leg]) -> list[Leg]:
    """``legs`` then ``more``: a pass cut at a breakpoint is joined back into one leg (the
    lead-out and lead-in flown around the breakpoint dropped); other gaps are bridged later
    (by the new route's transits)."""
    head = legs[:-1] if legs and legs[-1].kind == "lead" else legs
    tail = more[1:] if more and more[0].kind == "lead" else more
    if not head or not tail:
        return [*legs, *more]
    last, first = head[-1], tail[0]
    if (last.kind == first.kind == "spray" and last.pass_index == first.pass_index
            and math.dist(last.xy[-1], first.xy[0]) <= JOIN_TOL_M):
        merged = replace(last, xy=np.vstack((last.xy, first.xy[1:])))
        return [*head[:-1], merged, *tail[1:]]
    return [*legs, *more]


def _led_in(legs: list[Leg], region: LeadRegion, lead_in_m: float) -> list[Leg]:
    """``legs`` with a lead-in (up to ``lead_in_m``, in line with its first segment, inside
    ``region``) before the first leg when that is a pass resumed where it stopped."""
    if lead_in_m <= 0.0 or not legs or legs[0].kind != "spray":
        return legs
    lead_in, _ = leads_for(legs[0].xy[:2], region, lead_in_m, 0.0)
    return legs if lead_in is None else [Leg("lead", lead_in, legs[0].pass_index), *legs]


def _connected(legs: list[Leg], connect) -> list[Leg]:
    """``legs`` with a transit leg wherever one leg does not start where the previous ends."""
    out: list[Leg] = []
    for leg in legs:
        if out and math.dist(out[-1].xy[-1], leg.xy[0]) > JOIN_TOL_M:
            out.append(Leg("transit", np.asarray(connect(out[-1].xy[-1], leg.xy[0]))))
        out.append(leg)
    return out


def resume_plan(plan: dict, sortie_index: int, stop: Stop) -> Planned:
    """A new plan covering exactly what is left after sortie ``sortie_index`` stopped at
    ``stop``: same field, station, drone and options, the remaining spraying re-split into
    sorties, its plan.json document validated against the schema. Raises AgridroneError
    when nothing is left to spray or the rest cannot be flown."""
    validate_plan(plan)
    remaining = remaining_work(plan, sortie_index, stop)
    if not any(leg.kind == "spray" for leg in remaining.legs):
        raise AgridroneError(f"nothing is left to spray after where sortie {sortie_index} "
                             "stopped and in the sorties after it")
    field = field_from_plan(plan, Path(plan["inputs"]["field_file"]).stem)
    drone = drone_from_plan(plan)
    fields = PlanInputs.__dataclass_fields__
    inputs = PlanInputs(**{k: v for k, v in plan["inputs"].items() if k in fields})
    inputs = replace(inputs, home=[float(c) for c in plan["station"]])
    station = field.frame.to_local(np.asarray([plan["station"]], dtype=np.float64))[0]
    leads = lead_lengths_m(inputs.autopilot, inputs.speed_m_s) if inputs.leads else (0.0, 0.0)
    transit = transit_planner(field, max(leads))
    work = remaining.legs
    if max(leads) > 0.0:
        work = _led_in(work, lead_region(field, max(leads)), leads[0])
    work = _connected(work, transit.path)
    route = rehome_route(work, station, transit.path)
    sorties = split_sorties(route, station, drone, rate_l_ha=inputs.rate_l_ha,
                            swath_m=inputs.swath_width_m, speed_m_s=inputs.speed_m_s,
                            transit_speed_m_s=inputs.transit_speed_m_s, alt_m=inputs.alt_m,
                            temp_c=inputs.temp_c, connect=transit.path,
                            swap_time_s=inputs.swap_time_s, breakpoint_lead_m=leads)
    coverage = _coverage_of(route, station, field, inputs, float(plan["metrics"]["heading_deg"]))
    dose = route_dose(field, coverage, sorties, drone, inputs)
    document = plan_document(field, coverage, sorties, drone, inputs, dose)
    validate_plan(document)
    return Planned(field, drone, coverage, sorties, None, document, [], dose)


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
